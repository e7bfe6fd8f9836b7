// Batch preparation and the bounded producer/consumer queue around it. The worker stops at the first
// error; the consumer gets the batches made before it, then the error (again on every later call).
#include "ddpm/data/prefetcher.h"

#include "ddpm/core/random.h"
#include "ddpm/data/augment.h"

namespace ddpm {

Batch make_batch(const Dataset& data, const IndexBatch& ids, bool random_flip) {
  Batch b;
  b.x = data.batch(ids.indices);
  if (data.labels.defined()) b.labels = data.labels.index_select(0, ids.indices);
  if (random_flip && data.is_image()) {
    auto gen = make_generator(ids.batch_seed);
    const auto mask = random_flip_mask(ids.global_size, gen).slice(0, ids.offset, ids.offset + b.x.size(0));
    b.x = flip_where(b.x, mask);
  }
  b.next = ids.next;
  return b;
}

BatchPrefetcher::BatchPrefetcher(Dataset data, BatchOrder order, bool random_flip, size_t capacity)
    : data_(std::move(data)), order_(std::move(order)), random_flip_(random_flip),
      capacity_(std::max<size_t>(1, capacity)) {
  worker_ = std::thread([this] { run(); });
}

BatchPrefetcher::~BatchPrefetcher() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  has_space_.notify_all();
  worker_.join();
}

void BatchPrefetcher::run() {
  while (true) {
    {
      std::unique_lock<std::mutex> lock(mutex_);
      has_space_.wait(lock, [this] { return stop_ || queue_.size() < capacity_; });
      if (stop_) return;
    }
    try {
      Batch b = make_batch(data_, order_.next(), random_flip_);
      std::lock_guard<std::mutex> lock(mutex_);
      queue_.push_back(std::move(b));
    } catch (...) {
      std::lock_guard<std::mutex> lock(mutex_);
      error_ = std::current_exception();
    }
    has_batch_.notify_one();
    std::lock_guard<std::mutex> lock(mutex_);
    if (error_) return;
  }
}

Batch BatchPrefetcher::next() {
  std::unique_lock<std::mutex> lock(mutex_);
  has_batch_.wait(lock, [this] { return !queue_.empty() || error_; });
  if (queue_.empty()) std::rethrow_exception(error_);
  Batch b = std::move(queue_.front());
  queue_.pop_front();
  lock.unlock();
  has_space_.notify_one();
  return b;
}

}  // namespace ddpm
