// Mini-batches ready for the training step: gather, convert to float32 model range, optional flip; and a
// background worker that prepares the next ones while the current step runs.
#pragma once

#include <torch/types.h>

#include <condition_variable>
#include <deque>
#include <exception>
#include <mutex>
#include <thread>

#include "ddpm/data/batch_order.h"
#include "ddpm/data/dataset.h"

namespace ddpm {

struct Batch {
  torch::Tensor x;       // float32 [B, ...] in model range
  torch::Tensor labels;  // int64 [B], or undefined
  BatchOrderState next;     // batch-order position after this batch (save it in checkpoints)
};

// The batch for `ids`; with random_flip, image i of the global batch is mirrored by a coin drawn from
// ids.batch_seed, so the result depends only on the batch-order position (and not on the rank's shard).
Batch make_batch(const Dataset& data, const IndexBatch& ids, bool random_flip);

class BatchPrefetcher {
 public:
  // Holds its own copy of `data` (tensor handles, no pixel copy) and of the batch order.
  BatchPrefetcher(Dataset data, BatchOrder order, bool random_flip, size_t capacity = 2);
  ~BatchPrefetcher();
  BatchPrefetcher(const BatchPrefetcher&) = delete;
  BatchPrefetcher& operator=(const BatchPrefetcher&) = delete;

  // The next batch in batch order; rethrows an error raised while preparing it.
  Batch next();

 private:
  void run();

  Dataset data_;
  BatchOrder order_;
  bool random_flip_;
  size_t capacity_;
  std::mutex mutex_;
  std::condition_variable has_space_, has_batch_;
  std::deque<Batch> queue_;
  std::exception_ptr error_;
  bool stop_ = false;
  std::thread worker_;
};

}  // namespace ddpm
