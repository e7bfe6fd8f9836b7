// JSON has no NaN or infinity: a number that is not finite is written as null (a skipped training step's
// loss, a metric with no data), which every JSON reader accepts and none mistakes for a value.
#pragma once

#include <nlohmann/json.hpp>

#include <cmath>

namespace ddpm {

inline nlohmann::json finite_or_null(double x) { return std::isfinite(x) ? nlohmann::json(x) : nlohmann::json(); }

}  // namespace ddpm
