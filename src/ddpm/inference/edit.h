// Editing with a trained model (editing/): inpainting, image-to-image, DDIM inversion and interpolation, each
// on the model's own data shape, with its classes and guidance, and the same policy as generate() (images
// have x̂_0 clipped to [-1, 1]; inversion never clips). Inputs are rows of the model's data: [B, C, H, W] in
// [-1, 1] for images, [B, d] for points, read from files by read_edit_input. Results come back on the CPU.
#pragma once

#include <cstdint>
#include <string>

#include "ddpm/core/noise_predictor.h"
#include "ddpm/inference/trained_model.h"
#include "ddpm/runtime/precision.h"
#include "ddpm/samplers/sampler.h"

namespace ddpm {

// An image file (PNG or JPEG) as [1, C, H, W] in [-1, 1], converted to the model's channels (1 or 3) and
// resized (shorter side) and centre-cropped to its size; or, for a point model, a CSV file as [N, d]. Errors
// name the file.
torch::Tensor read_edit_input(const ModelConfig& model, const std::string& path);

// Which values an inpainting keeps (1) and fills (0). For images: a PNG or JPEG mask, white = keep, black =
// fill (grey: keep where brighter than half), resized like the input, as [1, 1, H, W]; for points: a CSV
// of 0/1 with one row for every input or one row per input, as [1 or N, d].
torch::Tensor read_keep_mask(const ModelConfig& model, const std::string& path);
// The image kept everywhere except the rectangle at column x, row y of width w and height h (model pixels;
// clipped to the image, and empty after clipping is an error).
torch::Tensor rectangle_keep_mask(const ModelConfig& model, int64_t x, int64_t y, int64_t w, int64_t h);

struct EditRequest {
  uint64_t seed = 0;
  SamplerSpec sampler;  // inpaint: ancestral only; img2img: any; invert and interpolate: its steps and spacing (DDIM, η = 0)
  Precision precision = Precision::fp32;
  torch::Tensor labels;  // a conditional model's class per result row, int64 [B]; undefined: no class
  double guidance = 0;   // classifier-free guidance weight w
};

// Network evaluations per result of each operation (for progress and the stated cost).
int64_t inpaint_evaluations(const TrainedModel& model, const SamplerSpec& spec, int64_t jump_length, int64_t jump_n_sample);
int64_t img2img_evaluations(const TrainedModel& model, const SamplerSpec& spec, double strength);

// RePaint (editing/inpaint.h): fills where keep is 0, one result per row of known.
torch::Tensor edit_inpaint(TrainedModel& model, const torch::Tensor& known, const torch::Tensor& keep,
                           int64_t jump_length, int64_t jump_n_sample, const EditRequest& request,
                           const StepCallback& progress = {});

// SDEdit (editing/img2img.h) at the given strength, one result per row of inputs.
torch::Tensor edit_img2img(TrainedModel& model, const torch::Tensor& inputs, double strength,
                           const EditRequest& request, const StepCallback& progress = {});

struct Inversion {
  torch::Tensor latents;          // x at the last of the steps, per input
  torch::Tensor reconstructions;  // DDIM from the latents back to data
  double rmse = 0;                // root mean square of reconstructions - inputs, in the data's units
};
// DDIM inversion (samplers/ddim.h) and the reconstruction from it.
Inversion edit_invert(TrainedModel& model, const torch::Tensor& inputs, const EditRequest& request,
                      const StepCallback& progress = {});

// `frames` results from input a to input b ([1, ...] each; editing/interpolation.h), both ends included.
torch::Tensor edit_interpolate(TrainedModel& model, const torch::Tensor& a, const torch::Tensor& b, int64_t frames,
                               const EditRequest& request);
// `frames` results from the noise of seed request.seed to that of seed_b, slerped and sampled with the request's sampler.
torch::Tensor edit_interpolate_noise(TrainedModel& model, uint64_t seed_b, int64_t frames, const EditRequest& request);

}  // namespace ddpm
