// Range checks for numeric flags. CLI11's PositiveNumber and Range compare the value with their bounds, so
// NaN passes (every comparison with NaN is false) and infinity passes an open upper bound, and their
// message prints the bound of a double with 309 digits. These parse the flag's text as a number, refuse
// NaN and infinity, and say in words what is wanted ("--lr: must be a positive number, got nan").
#pragma once

#include <CLI/CLI.hpp>

#include <limits>
#include <string>

namespace ddpm::cli {

// A finite number > 0, at most `max`.
CLI::Validator positive(double max = std::numeric_limits<double>::infinity());
// A finite number >= 0, at most `max`.
CLI::Validator non_negative(double max = std::numeric_limits<double>::infinity());
// A finite number in [lo, hi), or [lo, hi] with `hi_inclusive`.
CLI::Validator between(double lo, double hi, bool hi_inclusive = true);

}  // namespace ddpm::cli
