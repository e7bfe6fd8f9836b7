// The arithmetic a network's products run in (--precision): fp32, or bf16 with fp32 weights
// (models/mixed_precision.h). "auto" is bf16 where the device has native bf16 arithmetic (CPUs with
// AVX512-BF16, which every AMX CPU has, CUDA GPUs of compute capability 8.0 and later) and the network's products are large
// enough to pay for the casts, fp32 elsewhere: docs/PERFORMANCE.md has the measurements behind that rule.
#pragma once

#include <c10/core/Device.h>

#include <string>
#include <vector>

namespace ddpm {

enum class Precision { fp32, bf16 };

std::string precision_name(Precision precision);  // "fp32" or "bf16"

// The names --precision takes: auto, fp32, bf16.
std::vector<std::string> precision_choices();

// Whether `device` computes in bf16 natively (not emulated through fp32 conversions).
bool has_native_bf16(c10::Device device);

// A --precision name with auto resolved: bf16 if `device` has native bf16 and `bf16_pays` (the network's
// products are large enough; models/ knows). Throws std::invalid_argument for an unknown name.
Precision resolve_precision(const std::string& name, c10::Device device, bool bf16_pays);

}  // namespace ddpm
