// Data-parallel training across processes and machines on LibTorch's own distributed engine (c10d, the
// C++ core of torch.distributed): a TCPStore for the rendezvous, ProcessGroupGloo on CPU and
// ProcessGroupNCCL on CUDA (where the LibTorch build has it). Processes find each other through the
// environment torchrun sets (RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT), so torchrun, a shell
// loop or Slurm can launch them.
#pragma once

#include <c10/core/Device.h>
#include <torch/types.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace ddpm {

struct DistributedEnv {
  int64_t rank = 0;
  int64_t world_size = 1;
  int64_t local_rank = 0;     // the rank among the processes on this machine (picks the GPU)
  std::string master_addr;    // host of rank 0's TCPStore
  int64_t master_port = 0;
  bool agent_store = false;   // torchrun already serves the store at MASTER_ADDR:MASTER_PORT
  int64_t restart_count = 0;  // torchrun's restart attempt: keys of earlier attempts are not reused
};

// The default --dist-timeout: longer than rank 0's longest pause between two steps (a checkpoint and an
// EMA sample grid), during which the other ranks wait in the next all-reduce.
constexpr std::chrono::seconds kDefaultDistTimeout{600};

// A process's place in a data-parallel group and how long a collective waits for the others.
struct DataParallel {
  DistributedEnv env;
  std::chrono::milliseconds timeout = kDefaultDistTimeout;
};

// The launch environment, or nullopt when WORLD_SIZE is unset or 1 (a single process). Throws
// std::invalid_argument naming the variable when one is missing or malformed.
std::optional<DistributedEnv> distributed_env_from_environment();

class DistributedGroup {
 public:
  // Joins the group: rank 0 serves the TCPStore (unless torchrun's agent does), every rank connects,
  // then the Gloo (CPU) or NCCL (CUDA) process group forms. Every later collective fails with a clear
  // error, instead of waiting forever, when another rank does not take part within `timeout`.
  static std::shared_ptr<DistributedGroup> join(const DistributedEnv& env, const c10::Device& device,
                                                std::chrono::milliseconds timeout);
  ~DistributedGroup();

  int64_t rank() const { return env_.rank; }
  int64_t world_size() const { return env_.world_size; }
  std::chrono::milliseconds timeout() const { return timeout_; }

  // In place: the element-wise mean of `tensor` over all ranks. `what` names the data in errors.
  void average(torch::Tensor& tensor, const std::string& what);
  // Throws std::runtime_error (`what` and the range of values seen) unless every rank passed the same value.
  void check_same(int64_t value, const std::string& what);

 private:
  DistributedGroup(DistributedEnv env, c10::Device device, std::chrono::milliseconds timeout);

  DistributedEnv env_;
  c10::Device device_;  // where collectives run (NCCL needs CUDA tensors)
  std::chrono::milliseconds timeout_;
  struct Connection;  // the c10d store and process group (their types differ between LibTorch 1.x and 2.x)
  std::unique_ptr<Connection> connection_;
};

}  // namespace ddpm
