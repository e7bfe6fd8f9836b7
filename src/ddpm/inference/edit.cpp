#include "ddpm/inference/edit.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <stdexcept>

#include "ddpm/core/random.h"
#include "ddpm/data/folder_reader.h"
#include "ddpm/data/points_reader.h"
#include "ddpm/editing/img2img.h"
#include "ddpm/editing/inpaint.h"
#include "ddpm/editing/interpolation.h"
#include "ddpm/inference/generate.h"
#include "ddpm/inference/model_predictor.h"
#include "ddpm/io/image_read.h"
#include "ddpm/models/memory_budget.h"
#include "ddpm/samplers/ddim.h"

namespace ddpm {
namespace {

c10::Device model_device(const TrainedModel& model) { return model.net->parameters().front().device(); }

// uint8 [C, h, w] → the model's [1, C, H, W] in [-1, 1]. An image k times the model's size is averaged over
// k x k blocks, which undoes exactly the nearest-neighbour enlargement ddpm writes its pictures with; any
// other size is resized (shorter side) and centre-cropped.
torch::Tensor fit_image(const ModelConfig& model, torch::Tensor image) {
  const auto shape = sample_shape(model);
  const int64_t k = image.size(1) / shape[1];
  if (k > 1 && image.size(1) == k * shape[1] && image.size(2) == k * shape[2])
    image = torch::avg_pool2d(image.to(torch::kFloat32), k).round().to(torch::kUInt8);
  else if (image.size(1) != shape[1] || image.size(2) != shape[2])
    image = resize_center_crop(image, shape[1]);
  if (image.size(1) != shape[1] || image.size(2) != shape[2])
    throw std::invalid_argument(fmt::format("the model draws {}x{} images, which a resize cannot give", shape[2], shape[1]));
  return (image.to(torch::kFloat32) / 127.5 - 1.0).unsqueeze(0);
}

int64_t image_channels(const ModelConfig& model, const std::string& path) {
  const int64_t channels = sample_shape(model)[0];
  if (channels != 1 && channels != 3)
    throw std::invalid_argument(fmt::format("{}: the model has {} channels; image files give 1 or 3", path, channels));
  return channels;
}

torch::Tensor read_points_for(const ModelConfig& model, const std::string& path) {
  auto points = read_points_csv(path);
  const int64_t d = sample_shape(model)[0];
  if (points.size(1) != d)
    throw std::invalid_argument(fmt::format("{}: rows of {} numbers; the model's points have {}", path, points.size(1), d));
  return points;
}

// Rows of inputs with their request, on the model's device: the predictor and the generator they share.
struct EditRun {
  ModelPredictor predictor;
  at::Generator gen;
  SamplerSpec spec;
};

void check_inputs(const TrainedModel& model, const torch::Tensor& inputs, const char* what) {
  const auto shape = sample_shape(model.config);
  auto expected = shape;
  expected.insert(expected.begin(), inputs.size(0));
  if (inputs.sizes().vec() != expected)
    throw std::invalid_argument(fmt::format("{}: inputs of shape [{}], the model's data is [{}]", what,
                                            fmt::join(inputs.sizes(), ", "), fmt::join(shape, ", ")));
  if (!torch::isfinite(inputs).all().item<bool>()) throw std::invalid_argument(fmt::format("{}: the inputs are not all finite", what));
}

// The model bound to `rows` rows of the request's classes, checked to fit in memory.
ModelPredictor bind(TrainedModel& model, const torch::Tensor& labels, int64_t rows, const EditRequest& request) {
  ModelPredictor predictor(model, labels, rows, request.guidance, request.precision);
  check_batch_fits(model.config, rows * predictor.rows_per_sample(), /*training=*/false, model_device(model),
                   "edit fewer items at once");
  return predictor;
}

EditRun start(TrainedModel& model, const torch::Tensor& inputs, const EditRequest& request, const char* what) {
  check_inputs(model, inputs, what);
  return {bind(model, request.labels, inputs.size(0), request), make_generator(request.seed, model_device(model)),
          model_sampler(model.config, request.sampler, model.sampling)};
}

}  // namespace

torch::Tensor read_edit_input(const ModelConfig& model, const std::string& path) {
  if (!samples_are_images(model)) return read_points_for(model, path);
  return fit_image(model, read_image(path, image_channels(model, path)));
}

torch::Tensor read_keep_mask(const ModelConfig& model, const std::string& path) {
  if (!samples_are_images(model)) {
    const auto mask = read_points_for(model, path);
    if (!mask.eq(0).logical_or(mask.eq(1)).all().item<bool>())
      throw std::invalid_argument(fmt::format("{}: a mask of points is 0 (fill) or 1 (keep) in every column", path));
    return mask;
  }
  return (fit_image(model, read_image(path, 1)) > 0.0).to(torch::kFloat32);
}

torch::Tensor rectangle_keep_mask(const ModelConfig& model, int64_t x, int64_t y, int64_t w, int64_t h) {
  if (!samples_are_images(model)) throw std::invalid_argument("a rectangle is a mask of images; this model draws points");
  const auto shape = sample_shape(model);
  const int64_t H = shape[1], W = shape[2];
  const int64_t x0 = std::clamp<int64_t>(x, 0, W), y0 = std::clamp<int64_t>(y, 0, H);
  const int64_t x1 = std::clamp<int64_t>(x + w, 0, W), y1 = std::clamp<int64_t>(y + h, 0, H);
  if (w < 1 || h < 1 || x1 <= x0 || y1 <= y0)
    throw std::invalid_argument(fmt::format("the rectangle {}x{} at ({}, {}) leaves nothing to fill in a {}x{} image", w, h, x, y, W, H));
  auto keep = torch::ones({1, 1, H, W});
  keep.slice(2, y0, y1).slice(3, x0, x1).zero_();
  return keep;
}

int64_t inpaint_evaluations(const TrainedModel& model, const SamplerSpec& spec, int64_t jump_length, int64_t jump_n_sample) {
  return repaint_evaluations(static_cast<int64_t>(sampler_timesteps(spec, model.schedule.T).size()), jump_length, jump_n_sample);
}

int64_t img2img_evaluations(const TrainedModel& model, const SamplerSpec& spec, double strength) {
  const auto steps = static_cast<int64_t>(img2img_timesteps(spec, model.schedule.T, strength).size());
  SamplerSpec part = spec;
  part.steps = steps;  // the sampler's cost per step, on the steps this edit runs
  return sampler_evaluations(part, model.schedule.T);
}

torch::Tensor edit_inpaint(TrainedModel& model, const torch::Tensor& known, const torch::Tensor& keep,
                           int64_t jump_length, int64_t jump_n_sample, const EditRequest& request,
                           const StepCallback& progress) {
  auto run = start(model, known, request, "inpaint");
  const auto device = model_device(model);
  auto x_T = torch::randn(known.sizes(), run.gen, torch::TensorOptions().device(device));
  InpaintOptions options{run.spec, jump_length, jump_n_sample};
  return inpaint(model.schedule, run.predictor.rows(0, known.size(0)), known.to(device), keep.to(device), x_T, run.gen,
                 options, progress)
      .to(torch::kCPU);
}

torch::Tensor edit_img2img(TrainedModel& model, const torch::Tensor& inputs, double strength,
                           const EditRequest& request, const StepCallback& progress) {
  auto run = start(model, inputs, request, "img2img");
  return img2img(model.schedule, run.predictor.rows(0, inputs.size(0)), inputs.to(model_device(model)), strength, run.gen,
                 run.spec, progress)
      .to(torch::kCPU);
}

Inversion edit_invert(TrainedModel& model, const torch::Tensor& inputs, const EditRequest& request,
                      const StepCallback& progress) {
  auto run = start(model, inputs, request, "invert");
  const auto timesteps = sampler_timesteps(run.spec, model.schedule.T);
  const auto eps = run.predictor.rows(0, inputs.size(0));
  auto latents = ddim_invert(model.schedule, timesteps, eps, inputs.to(model_device(model)), progress);
  auto back = ddim_sample(model.schedule, timesteps, eps, latents, run.gen, {}, progress).to(torch::kCPU);
  const double rmse = (back - inputs.to(torch::kCPU)).pow(2).mean().sqrt().item<double>();
  return {latents.to(torch::kCPU), back, rmse};
}

torch::Tensor edit_interpolate(TrainedModel& model, const torch::Tensor& a, const torch::Tensor& b, int64_t frames,
                               const EditRequest& request) {
  const auto ends_inputs = torch::cat({a, b});
  check_inputs(model, ends_inputs, "interpolate");
  interpolation_weights(frames);  // checks the count before any work
  // The classes are per frame; the two inputs are inverted with the first and last frame's, without guidance,
  // which would bend the inversion away from the ODE that the frames are generated back along (Mokady et al. 2023).
  torch::Tensor ends_labels;
  if (request.labels.defined()) ends_labels = torch::stack({request.labels[0], request.labels[-1]});
  auto unguided = request;
  unguided.guidance = 0;
  const auto ends = bind(model, ends_labels, 2, unguided);
  const auto frames_model = bind(model, request.labels, frames, request);
  const auto device = model_device(model);
  auto gen = make_generator(request.seed, device);
  const auto spec = model_sampler(model.config, request.sampler, model.sampling);
  return interpolate_inputs(model.schedule, ends.rows(0, 2), frames_model.rows(0, frames), a.to(device), b.to(device),
                            frames, sampler_timesteps(spec, model.schedule.T), spec.clip_x0.value_or(false), gen)
      .to(torch::kCPU);
}

torch::Tensor edit_interpolate_noise(TrainedModel& model, uint64_t seed_b, int64_t frames, const EditRequest& request) {
  const auto device = model_device(model);
  const auto predictor = bind(model, request.labels, frames, request);
  auto shape = sample_shape(model.config);
  shape.insert(shape.begin(), 1);
  auto gen_a = make_generator(request.seed, device), gen_b = make_generator(seed_b, device);
  const auto opts = torch::TensorOptions().device(device);
  const auto z_a = torch::randn(shape, gen_a, opts), z_b = torch::randn(shape, gen_b, opts);
  auto x_T = slerp(z_a, z_b, interpolation_weights(frames));
  return run_sampler(model.schedule, predictor.rows(0, frames), x_T, gen_a, model_sampler(model.config, request.sampler, model.sampling))
      .to(torch::kCPU);
}

}  // namespace ddpm
