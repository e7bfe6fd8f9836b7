// The one progress line of every long command: its look, its pace off a terminal, and its ETA format.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>

#include "ddpm/io/progress_line.h"

using namespace ddpm;

TEST(ProgressLine, DurationsReadAsMinutesOrHours) {
  EXPECT_EQ(format_duration(0), "0m00s");
  EXPECT_EQ(format_duration(100), "1m40s");
  EXPECT_EQ(format_duration(4 * 3600 + 30 * 60 + 59), "4h30m");
  EXPECT_EQ(format_duration(std::nan("")), "?");
  EXPECT_EQ(format_duration(-1), "?");
}

// Off a terminal: the header once, before the first line; a line per 10 % crossed (not per update), each
// with the count, the percentage, the caller's detail, the elapsed time and the ETA; the last always.
TEST(ProgressLine, PlainLinesOncePerTenPercent) {
  testing::internal::CaptureStderr();
  {
    ProgressLine line("sampling: batched calls", 200, 0, "sampling 4 with ddim (cost)", /*live=*/false);
    for (int64_t i = 1; i <= 200; ++i) line.update(i, "loss 0.5");
  }
  const std::string out = testing::internal::GetCapturedStderr();
  EXPECT_EQ(out.rfind("sampling 4 with ddim (cost)\n", 0), 0u) << out;
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 1 + 11) << out;  // header, 0 %..90 % crossings, 100 %
  EXPECT_NE(out.find("sampling: batched calls 1/200 (0%)  loss 0.5  elapsed 0m00s  eta "), std::string::npos) << out;
  EXPECT_NE(out.find("sampling: batched calls 200/200 (100%)  loss 0.5  elapsed "), std::string::npos) << out;
  EXPECT_EQ(out.find("\r"), std::string::npos) << "no terminal codes in a log";
}

// A resumed run's ETA counts only the work done since it started here: with nothing done yet it is unknown.
TEST(ProgressLine, EtaIsUnknownBeforeAnyWorkHere) {
  testing::internal::CaptureStderr();
  {
    ProgressLine line("step", 100, 40, "", /*live=*/false);
    line.update(40);
    line.note("a message");
  }
  const std::string out = testing::internal::GetCapturedStderr();
  EXPECT_NE(out.find("step 40/100 (40%)  elapsed 0m00s  eta ?\n"), std::string::npos) << out;
  EXPECT_NE(out.find("a message\n"), std::string::npos) << out;
}
