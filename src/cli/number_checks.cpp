#include "cli/number_checks.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <functional>

#include <fmt/format.h>

namespace ddpm::cli {
namespace {

// The check shared by every validator: the text must read as a finite number that `in_range` accepts;
// otherwise the message says `wanted`. Text that is not a number at all is left to the option's own
// conversion, which names the type it expected.
CLI::Validator number_check(std::function<bool(double)> in_range, std::string wanted, std::string name) {
  return CLI::Validator(
      [in_range = std::move(in_range), wanted](std::string& text) -> std::string {
        const char* begin = text.c_str();
        char* end = nullptr;
        errno = 0;
        const double value = std::strtod(begin, &end);
        if (end == begin || *end != '\0') return "";
        if (std::isnan(value) || std::isinf(value) || errno == ERANGE || !in_range(value))
          return fmt::format("must be {}, got {}", wanted, text);
        return "";
      },
      name, name);
}

// " at most MAX" only where a bound was given.
std::string bound(double max) { return std::isinf(max) ? "" : fmt::format(" at most {}", max); }

}  // namespace

CLI::Validator positive(double max) {
  return number_check([max](double v) { return v > 0.0 && v <= max; }, "a positive number" + bound(max), "POSITIVE");
}

CLI::Validator non_negative(double max) {
  return number_check([max](double v) { return v >= 0.0 && v <= max; }, "a number >= 0" + bound(max), "NONNEGATIVE");
}

CLI::Validator between(double lo, double hi, bool hi_inclusive) {
  const auto interval = fmt::format("[{}, {}{}", lo, hi, hi_inclusive ? "]" : ")");
  return number_check([=](double v) { return v >= lo && (hi_inclusive ? v <= hi : v < hi); }, "a number in " + interval,
                      interval);
}

}  // namespace ddpm::cli
