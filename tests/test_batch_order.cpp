// Batch order (permutations, determinism, resume, shards), flips, and the background prefetcher.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include <set>

#include "ddpm/core/random.h"
#include "ddpm/data/augment.h"
#include "ddpm/data/batch_order.h"
#include "ddpm/data/prefetcher.h"

using namespace ddpm;

namespace {

std::vector<int64_t> as_vector(const torch::Tensor& t) {
  auto c = t.contiguous();
  return {c.data_ptr<int64_t>(), c.data_ptr<int64_t>() + c.numel()};
}

// 10 gray 2x2 images; image i has every pixel = 10 i, label i.
Dataset toy_images() {
  auto x = (torch::arange(10, torch::kInt64) * 10).to(torch::kUInt8).view({10, 1, 1, 1}).expand({10, 1, 2, 2});
  auto d = make_image_dataset("toy", x.contiguous(), torch::arange(10));
  // Make the images asymmetric so that a flip is visible: the right column is 255.
  d.images.select(3, 1).fill_(255);
  return d;
}

}  // namespace

TEST(BatchOrder, EachEpochIsAPermutation) {
  BatchOrder s(10, 3, 42);
  EXPECT_EQ(s.batches_per_epoch(), 3);  // 9 of 10 per epoch; the remainder is dropped
  for (int epoch = 0; epoch < 3; ++epoch) {
    std::set<int64_t> seen;
    for (int b = 0; b < 3; ++b) {
      const auto ids = s.next();
      EXPECT_EQ(ids.next.epoch, epoch);
      for (auto i : as_vector(ids.indices)) EXPECT_TRUE(seen.insert(i).second) << "index " << i << " twice";
    }
    EXPECT_EQ(seen.size(), 9u);
    EXPECT_LE(*seen.rbegin(), 9);
  }
  // With batch = N every epoch covers every index exactly once.
  BatchOrder full(7, 7, 1);
  for (int epoch = 0; epoch < 2; ++epoch) {
    auto v = as_vector(full.next().indices);
    std::sort(v.begin(), v.end());
    EXPECT_EQ(v, (std::vector<int64_t>{0, 1, 2, 3, 4, 5, 6}));
  }
}

TEST(BatchOrder, SameSeedSameOrderOtherSeedOtherOrder) {
  BatchOrder a(1000, 100, 5), b(1000, 100, 5), c(1000, 100, 6);
  bool differs = false;
  for (int i = 0; i < 25; ++i) {  // crosses two epoch boundaries
    const auto x = a.next(), y = b.next(), z = c.next();
    EXPECT_TRUE(torch::equal(x.indices, y.indices));
    EXPECT_EQ(x.batch_seed, y.batch_seed);
    differs = differs || !torch::equal(x.indices, z.indices);
  }
  EXPECT_TRUE(differs);
}

TEST(BatchOrder, ResumeFromJsonContinuesIdentically) {
  BatchOrder straight(50, 8, 9);
  std::vector<IndexBatch> reference;
  for (int i = 0; i < 20; ++i) reference.push_back(straight.next());
  for (int cut : {1, 5, 6, 13}) {  // 6 batches per epoch: cut 6 sits exactly on an epoch boundary
    BatchOrder first(50, 8, 9);
    for (int i = 0; i < cut; ++i) first.next();
    const std::string saved = first.to_json().dump();
    BatchOrder resumed(50, 8, 0);  // the seed comes from the saved state
    resumed.load_json(nlohmann::json::parse(saved));
    for (int i = cut; i < 20; ++i) {
      const auto ids = resumed.next();
      ASSERT_TRUE(torch::equal(ids.indices, reference[i].indices)) << "cut " << cut << " batch " << i;
      ASSERT_EQ(ids.batch_seed, reference[i].batch_seed);
    }
  }
  BatchOrder other(50, 10, 9);
  EXPECT_THROW(other.load_json(straight.to_json()), std::invalid_argument);  // different batch size
}

TEST(BatchOrder, ShardsAreDisjointAndCoverTheGlobalBatch) {
  BatchOrder global(100, 12, 3);
  std::vector<BatchOrder> ranks;
  for (int r = 0; r < 4; ++r) ranks.emplace_back(100, 12, 3, r, 4);
  for (int b = 0; b < 10; ++b) {
    const auto g = global.next();
    std::vector<int64_t> joined;
    for (auto& s : ranks) {
      const auto ids = s.next();
      EXPECT_EQ(ids.indices.numel(), 3);
      EXPECT_EQ(ids.batch_seed, g.batch_seed);
      const auto v = as_vector(ids.indices);
      joined.insert(joined.end(), v.begin(), v.end());
    }
    EXPECT_EQ(joined, as_vector(g.indices));  // disjoint since g is a slice of a permutation
  }
  EXPECT_THROW(BatchOrder(100, 10, 0, 0, 4), std::invalid_argument);  // 10 not divisible by 4
  EXPECT_THROW(BatchOrder(5, 10, 0), std::invalid_argument);          // batch larger than data
}

TEST(Augment, FlipWhereMirrorsOnlyMaskedImages) {
  const auto x = torch::arange(8, torch::kFloat32).view({2, 1, 2, 2});
  const auto y = flip_where(x, torch::tensor({true, false}));
  EXPECT_TRUE(torch::equal(y[0], x[0].flip({2})));
  EXPECT_TRUE(torch::equal(y[1], x[1]));
  // A fair coin: 10,000 draws give 5,000 ± 4 sd (sd = 50).
  auto g = make_generator(1);
  EXPECT_NEAR(random_flip_mask(10000, g).sum().item<int64_t>(), 5000, 200);
}

TEST(Prefetcher, YieldsTheSameBatchesAsDirectLoading) {
  const auto data = toy_images();
  BatchOrder direct(10, 4, 11);
  BatchPrefetcher prefetch(data, BatchOrder(10, 4, 11), /*random_flip=*/true, 2);
  bool any_flip = false, any_plain = false;
  for (int i = 0; i < 12; ++i) {
    const auto expected = make_batch(data, direct.next(), true);
    const auto got = prefetch.next();
    ASSERT_TRUE(torch::equal(got.x, expected.x)) << "batch " << i;
    ASSERT_TRUE(torch::equal(got.labels, expected.labels));
    EXPECT_EQ(got.next.batch, expected.next.batch);
    // Each image is its own (label-determined) pixels, flipped or not; the right column is +1 unless flipped.
    for (int64_t k = 0; k < 4; ++k) {
      const float left = got.x[k][0][0][0].item<float>(), right = got.x[k][0][0][1].item<float>();
      const float base = static_cast<float>(got.labels[k].item<int64_t>() * 10 / 127.5 - 1);
      (right == 1.0f ? any_plain : any_flip) = true;
      EXPECT_FLOAT_EQ(right == 1.0f ? left : right, base);
    }
  }
  EXPECT_TRUE(any_flip && any_plain);  // 48 fair coins: all equal has probability 2^-47
}

TEST(Prefetcher, ErrorsReachTheConsumerAndDestructionDoesNotHang) {
  auto data = toy_images();
  data.images = data.images.slice(0, 0, 5);  // the batch order below will ask for indices up to 9
  data.labels = data.labels.slice(0, 0, 5);
  {
    BatchPrefetcher p(data, BatchOrder(10, 10, 0), false, 1);
    EXPECT_THROW(p.next(), c10::Error);
    EXPECT_THROW(p.next(), c10::Error);  // stays failed instead of blocking
  }
  // Destroyed while the worker waits on a full queue.
  { BatchPrefetcher p(toy_images(), BatchOrder(10, 2, 0), false, 1); }
  SUCCEED();
}
