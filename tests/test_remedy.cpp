// Every remedy has words in the library (no flags) and in the tool (its flags), and an actionable error
// keeps its problem apart from its remedy.
#include <gtest/gtest.h>

#include <string>

#include "cli/remedy_flags.h"
#include "ddpm/io/remedy.h"

using namespace ddpm;

namespace {

constexpr Remedy kAll[] = {Remedy::replace_output,      Remedy::write_into_folder,   Remedy::resume_run,
                           Remedy::resume_or_use_another_folder, Remedy::resume_every_rank, Remedy::start_run_over,
                           Remedy::lower_learning_rate, Remedy::choose_image_size,   Remedy::smaller_image_size,
                           Remedy::raise_group_timeout, Remedy::train_on_cpu,        Remedy::restore_config_or_branch};

}  // namespace

TEST(Remedy, LibraryWordsNameNoFlagAndToolWordsNameOne) {
  for (const auto remedy : kAll) {
    const auto library = remedy_text(remedy, "runs/a");
    const auto tool = cli::remedy_in_flags(remedy, "runs/a");
    EXPECT_FALSE(library.empty());
    EXPECT_EQ(library.find("--"), std::string::npos) << library;
    EXPECT_NE(tool.find("--"), std::string::npos) << tool;
    EXPECT_NE(tool, library);
  }
}

TEST(Remedy, RunRemediesNameTheRun) {
  for (const auto remedy : {Remedy::resume_run, Remedy::resume_or_use_another_folder, Remedy::resume_every_rank,
                            Remedy::start_run_over}) {
    EXPECT_NE(remedy_text(remedy, "runs/a").find("runs/a"), std::string::npos);
    EXPECT_NE(cli::remedy_in_flags(remedy, "runs/a").find("runs/a"), std::string::npos);
  }
  EXPECT_EQ(cli::remedy_in_flags(Remedy::start_run_over, "runs/a"), "start it over with --out runs/a --force");
}

TEST(Remedy, ErrorKeepsProblemApartFromRemedy) {
  const ActionableError e("'runs/a' already holds a run", Remedy::resume_or_use_another_folder, "runs/a");
  EXPECT_EQ(e.problem(), "'runs/a' already holds a run");
  EXPECT_EQ(e.remedy(), Remedy::resume_or_use_another_folder);
  EXPECT_EQ(e.subject(), "runs/a");
  EXPECT_EQ(std::string(e.what()), e.problem() + "; " + remedy_text(e.remedy(), "runs/a"));
}
