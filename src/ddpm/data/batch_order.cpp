// Resumable batch order: the epoch permutation comes from a generator seeded by mixing (seed, epoch), so
// no generator state has to be saved, only three integers.
#include "ddpm/data/batch_order.h"

#include <stdexcept>

#include "ddpm/core/random.h"

namespace ddpm {

BatchOrder::BatchOrder(int64_t dataset_size, int64_t batch_size, uint64_t seed, int64_t rank,
                           int64_t world_size)
    : size_(dataset_size), batch_size_(batch_size), rank_(rank), world_size_(world_size) {
  if (batch_size < 1) throw std::invalid_argument(fmt::format("batch size must be >= 1, got {}", batch_size));
  if (batch_size > dataset_size)
    throw std::invalid_argument(fmt::format("batch size {} is larger than the data set ({} examples)",
                                            batch_size, dataset_size));
  if (world_size < 1 || rank < 0 || rank >= world_size || batch_size % world_size != 0)
    throw std::invalid_argument(fmt::format("rank {} of world size {} cannot shard batches of {}", rank,
                                            world_size, batch_size));
  state_.seed = seed;
}

IndexBatch BatchOrder::next() {
  if (state_.batch >= batches_per_epoch()) {
    ++state_.epoch;
    state_.batch = 0;
  }
  if (perm_epoch_ != state_.epoch) {
    auto gen = make_generator(derive_seed(state_.seed, static_cast<uint64_t>(state_.epoch)));
    perm_ = torch::randperm(size_, gen, torch::TensorOptions().dtype(torch::kInt64));
    perm_epoch_ = state_.epoch;
  }
  IndexBatch out;
  out.global_size = batch_size_;
  const int64_t shard = batch_size_ / world_size_;
  out.offset = rank_ * shard;
  const int64_t start = state_.batch * batch_size_ + out.offset;
  out.indices = perm_.slice(0, start, start + shard);
  out.batch_seed = derive_seed(derive_seed(state_.seed, static_cast<uint64_t>(state_.epoch)),
                           static_cast<uint64_t>(state_.batch) + 0x5bd1e995ull);
  ++state_.batch;
  out.next = state_;
  return out;
}

void BatchOrder::set_state(const BatchOrderState& state) {
  if (state.epoch < 0 || state.batch < 0 || state.batch > batches_per_epoch())
    throw std::invalid_argument(fmt::format("bad sampler position: epoch {}, batch {} of {}", state.epoch,
                                            state.batch, batches_per_epoch()));
  state_ = state;
}

nlohmann::json BatchOrder::to_json() const {
  return {{"seed", state_.seed}, {"epoch", state_.epoch}, {"batch", state_.batch},
          {"batch_size", batch_size_}, {"dataset_size", size_}};
}

void BatchOrder::load_json(const nlohmann::json& j) {
  const auto bs = j.at("batch_size").get<int64_t>(), n = j.at("dataset_size").get<int64_t>();
  if (bs != batch_size_ || n != size_)
    throw std::invalid_argument(fmt::format(
        "saved data position is for batches of {} over {} examples, but this run has batches of {} over {}",
        bs, n, batch_size_, size_));
  set_state({j.at("seed").get<uint64_t>(), j.at("epoch").get<int64_t>(), j.at("batch").get<int64_t>()});
}

}  // namespace ddpm
