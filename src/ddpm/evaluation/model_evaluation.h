// A trained model judged on a data set's test split, as `ddpm eval` reports it:
//  - negative log-likelihood: the variational bound (evaluation/variational_bound.h) in bits/dim over a
//    seeded random subset of the test images;
//  - sample quality: the Fréchet distance, precision and recall between generated samples and test images
//    in a feature space (evaluation/feature_network.h), beside the same measures for real images (the floor:
//    what a perfect model scores with this many samples) and for the sampler's starting noise (the ceiling),
//    and the class histogram of the samples when the features are ddpm's classifier; for a class-conditional
//    model, per-class Fréchet distances and the classifier's accuracy on the classes asked for.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ddpm/data/dataset.h"
#include "ddpm/evaluation/feature_network.h"
#include "ddpm/evaluation/fitted_variance.h"
#include "ddpm/evaluation/variational_bound.h"
#include "ddpm/inference/generate.h"
#include "ddpm/inference/trained_model.h"
#include "ddpm/runtime/precision.h"

namespace ddpm {

struct NllOptions {
  int64_t n = 128;  // test examples (a seeded random subset); the bound's cost is n · (K + 1) evaluations
  uint64_t seed = 0;
  BoundOptions bound;
  // p_θ's variances fitted first on a seeded random subset of fit.n training examples (all of them if there
  // are fewer; evaluation/fitted_variance.h; fit.n · T more evaluations), replacing bound.variance;
  // fit.clip_x0 follows bound.clip_x0.
  bool fit_variance = false;
  VarianceFitOptions fit;
  Precision precision = Precision::fp32;  // of the network's products (runtime/precision.h)
};

struct NllReport {
  int64_t n = 0;
  FittedVariance fit;  // with NllOptions::fit_variance
  BoundTerms terms;  // per example
  MeanWithError bits_per_dim, prior, decoder;
  std::vector<MeanWithError> bands;  // one per terms.band_ranges
  double seconds = 0.0;
};

// Throws std::invalid_argument unless `test` (and `train`, which a variance fit needs) hold 8-bit images of the
// model's shape. `progress` counts the fit's evaluations and then the bound's.
NllReport evaluate_nll(TrainedModel& model, const Dataset& test, const NllOptions& options,
                       const BoundProgress& progress = {}, const Dataset* train = nullptr);

// The training examples a variance fit takes, and the network evaluations evaluate_nll makes.
int64_t fit_examples(const NllOptions& options, const Dataset& train);
int64_t nll_evaluations(const Schedule& schedule, const NllOptions& options, const Dataset* train = nullptr);

struct QualityOptions {
  int64_t n = 500;   // generated samples; as many real images for the reference and as many for the floor
  int64_t k = 3;     // neighbours of the precision/recall manifolds (Kynkäänniemi et al.)
  uint64_t seed = 0;
  SamplerSpec sampler;
  int64_t batch = 256;
  Precision precision = Precision::fp32;
  double guidance = 0.0;  // a class-conditional model's guidance weight w (core/guidance.h)
};

struct SetQuality {
  double fid = 0.0, precision = 0.0, recall = 0.0;
};

struct QualityReport {
  int64_t n = 0;
  double guidance = 0.0;  // QualityOptions::guidance
  SetQuality samples;  // generated vs reference images
  SetQuality floor;    // other real images vs reference images
  SetQuality ceiling;  // clipped N(0, I) noise vs reference images
  std::vector<int64_t> class_histogram;  // predicted classes of the samples (empty without a classifier)
  std::vector<int64_t> reference_histogram;  // and of the reference images
  // A class-conditional model draws one sample for each reference image's class (so the classes come in the
  // data's proportions), with options.guidance; then, per class of the model:
  std::vector<double> class_fid;        // its samples against its reference images (NaN: fewer than 2 of either)
  std::vector<double> class_floor_fid;  // the other real images of the class against them
  // With ddpm's classifier over the same classes: the fraction of each class's samples it assigns to that class,
  // and of all samples (the classifier's own test accuracy is the ceiling).
  std::vector<double> class_accuracy;
  double overall_accuracy = 0.0;
  double seconds_generation = 0.0, seconds_total = 0.0;
};

// What evaluate_sample_quality checks before any work: 8-bit images of the model's shape, k < n and 2n test
// images, a classifier that takes them, the model's classes (if any) those of the data. Throws
// std::invalid_argument naming the problem.
void check_sample_quality_inputs(const ModelConfig& model, const Dataset& test, const FeatureNetwork& features,
                                 const QualityOptions& options);

// Generated samples and the noise are rounded to the 256-level grid first, as saving them as PNG would.
// Throws std::invalid_argument unless 2n test images of the model's shape exist.
QualityReport evaluate_sample_quality(TrainedModel& model, const Dataset& test, const FeatureNetwork& features,
                                      const QualityOptions& options, const StepCallback& progress = {});

}  // namespace ddpm
