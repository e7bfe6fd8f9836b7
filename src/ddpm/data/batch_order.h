// A deterministic, resumable order of mini-batches: each epoch is a fresh permutation of [0, N) drawn from
// (seed, epoch) alone, so the position (seed, epoch, batch) fully determines every batch still to come.
#pragma once

#include <torch/types.h>

#include <nlohmann/json_fwd.hpp>

#include <cstdint>

namespace ddpm {

struct BatchOrderState {
  uint64_t seed = 0;
  int64_t epoch = 0;  // 0-based
  int64_t batch = 0;  // index of the next batch within the epoch
};

struct IndexBatch {
  torch::Tensor indices;    // int64 [batch_size / world_size]: this rank's slice of the global batch
  int64_t offset = 0;       // where that slice starts in the global batch
  int64_t global_size = 0;  // the global batch size
  uint64_t batch_seed = 0;  // a seed unique to (seed, epoch, batch) for per-batch randomness (flips)
  BatchOrderState next;        // the state after this batch: what a checkpoint saves to resume right after it
};

class BatchOrder {
 public:
  // Every epoch yields floor(N / batch_size) full global batches (the remainder waits for a later
  // epoch's permutation); with world_size > 1 each rank gets a disjoint equal slice of each global batch.
  BatchOrder(int64_t dataset_size, int64_t batch_size, uint64_t seed, int64_t rank = 0,
               int64_t world_size = 1);

  IndexBatch next();
  int64_t batches_per_epoch() const { return size_ / batch_size_; }
  const BatchOrderState& state() const { return state_; }
  void set_state(const BatchOrderState& state);

  // {"seed", "epoch", "batch", "batch_size", "dataset_size"}; loading checks that the sizes match.
  nlohmann::json to_json() const;
  void load_json(const nlohmann::json& j);

 private:
  int64_t size_, batch_size_, rank_, world_size_;
  BatchOrderState state_;
  int64_t perm_epoch_ = -1;
  torch::Tensor perm_;
};

}  // namespace ddpm
