// GroupNorm (Wu & He 2018) → SiLU → dropout, the U-Net's way into each of its 3×3 convolutions, as one pass
// over memory forward and two backward instead of LibTorch's five to seven separate ones. The profile of a
// training step (docs/PERFORMANCE.md) had GroupNorm, SiLU and the casts around the bf16 convolutions at a
// third of it: each of those passes streams a whole activation tensor through memory for little arithmetic.
//
// Under a bf16 PrecisionScope the result is bf16, ready for the convolution that follows (whose gradient
// then comes back in bf16 too), so neither direction needs a separate cast; statistics and arithmetic stay
// fp32. A bf16 input is read as is. The weights (γ, β) stay fp32, as every parameter does. A channels-last
// input (what the CPU convolutions produce, mixed_precision.h) gives a channels-last result.
#pragma once

#include <torch/nn/modules/normalization.h>
#include <torch/types.h>

namespace ddpm {

// dropout(silu(norm(x)), p) for x of shape [N, C, ...] in the compute precision (mixed_precision.h), with
// the same dropout masks as models/dropout.h. On the CPU for fp32 and bf16 inputs the fused kernel runs;
// elsewhere the three LibTorch operations do, to the same result.
torch::Tensor group_norm_silu(const torch::nn::GroupNorm& norm, const torch::Tensor& x, double dropout_p = 0.0,
                              bool training = false);

}  // namespace ddpm
