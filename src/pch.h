// Precompiled header for the implementation files (not part of the public API).
#pragma once
#include <torch/torch.h>

#include <nlohmann/json.hpp>
#include <fmt/format.h>

#include <cmath>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>
