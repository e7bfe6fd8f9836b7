// The rendezvous (TCPStore), the process group (Gloo or NCCL) and the two collectives training needs, with
// c10d's failures turned into one-line errors that say which rank gave up, on what, and why.
#include "ddpm/training/distributed.h"

#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#include <torch/version.h>
#ifdef DDPM_WITH_NCCL  // CMake: a CUDA LibTorch and nccl.h
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

#include <cstdlib>
#include <limits>
#include <sstream>
#include <stdexcept>

#include "ddpm/io/remedy.h"
#include "ddpm/training/rendezvous_checks.h"

namespace ddpm {

// LibTorch 2 made Gloo and NCCL backends of a ProcessGroup; in 1.x they are process groups themselves.
#if TORCH_VERSION_MAJOR >= 2
using CollectiveGroup = c10d::Backend;
#else
using CollectiveGroup = c10d::ProcessGroup;
#endif

struct DistributedGroup::Connection {
  c10::intrusive_ptr<c10d::Store> store;
  c10::intrusive_ptr<CollectiveGroup> group;
};

namespace {

std::optional<std::string> env_var(const char* name) {
  const char* value = std::getenv(name);
  if (!value || !*value) return std::nullopt;
  return std::string(value);
}

int64_t env_int(const char* name, int64_t min, int64_t max) {
  const auto text = env_var(name);
  if (!text) throw std::invalid_argument(fmt::format("WORLD_SIZE is set but {} is not (set RANK, WORLD_SIZE, "
                                                     "MASTER_ADDR and MASTER_PORT, as torchrun does)", name));
  size_t used = 0;
  int64_t value = 0;
  try {
    value = std::stoll(*text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != text->size() || value < min || value > max)
    throw std::invalid_argument(fmt::format("{}={} is not an integer in [{}, {}]", name, *text, min, max));
  return value;
}

// The first line of an error, without c10's backtrace.
std::string first_line(const std::exception& e) {
  const auto* c10_error = dynamic_cast<const c10::Error*>(&e);
  std::string text = c10_error ? c10_error->what_without_backtrace() : e.what();
  return text.substr(0, text.find('\n'));
}

std::string rethrown_message(std::exception_ptr error) {
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    return first_line(e);
  } catch (...) {
    return "unknown error";
  }
}

// Gloo (or NCCL) waits at most `timeout` for the other ranks, then fails; a rank that died makes the
// others fail as soon as their connection to it closes.
void all_reduce(CollectiveGroup& group, torch::Tensor& tensor, c10d::ReduceOp op, const DistributedEnv& env,
                std::chrono::milliseconds timeout, const std::string& what) {
  std::vector<torch::Tensor> tensors{tensor};
  c10d::AllreduceOptions options;
  options.reduceOp = op;
  options.timeout = timeout;
  std::exception_ptr error;
  try {
    group.allreduce(tensors, options)->wait();
  } catch (...) {
    error = std::current_exception();
  }
  if (error)
    throw std::runtime_error(fmt::format(
        "rank {} of {}: {} failed: another rank exited, crashed or did not answer within the group's {} s "
        "timeout ({})",
        env.rank, env.world_size, what, timeout.count() / 1000.0, rethrown_message(error)));
}

// LibTorch 2.4 and later serve the store with libuv by default, and a build without libuv (Debian 13's)
// then refuses to start ("use_libuv was requested but PyTorch was build without libuv support"). The
// classic server works in every version; older versions have no such option (the overload below).
template <typename Options>
auto classic_store_server(Options& options, int) -> decltype(options.useLibUV = false, void()) {
  options.useLibUV = false;
}
template <typename Options>
void classic_store_server(Options&, long) {}

// The rendezvous failed: at the store (rank 0 unreachable) or while the ranks connect to each other.
std::string not_met(const DistributedEnv& env, const std::string& where, std::chrono::milliseconds timeout,
                    const std::exception& e) {
  return fmt::format("rank {} of {}: the ranks did not all meet at {} within the group's {} s timeout ({})", env.rank,
                     env.world_size, where, timeout.count() / 1000.0, first_line(e));
}

}  // namespace

std::optional<DistributedEnv> distributed_env_from_environment() {
  if (!env_var("WORLD_SIZE")) return std::nullopt;
  DistributedEnv env;
  env.world_size = env_int("WORLD_SIZE", 1, std::numeric_limits<int>::max());
  if (env.world_size == 1) return std::nullopt;
  env.rank = env_int("RANK", 0, env.world_size - 1);
  env.local_rank = env_var("LOCAL_RANK") ? env_int("LOCAL_RANK", 0, env.world_size - 1) : 0;
  const auto addr = env_var("MASTER_ADDR");
  if (!addr) throw std::invalid_argument("WORLD_SIZE is set but MASTER_ADDR is not (the host of rank 0)");
  env.master_addr = *addr;
  env.master_port = env_int("MASTER_PORT", 1, 65535);
  env.agent_store = env_var("TORCHELASTIC_USE_AGENT_STORE").value_or("") == "True";
  env.restart_count = env_var("TORCHELASTIC_RESTART_COUNT") ? env_int("TORCHELASTIC_RESTART_COUNT", 0, 1 << 30) : 0;
  return env;
}

DistributedGroup::DistributedGroup(DistributedEnv env, c10::Device device, std::chrono::milliseconds timeout)
    : env_(std::move(env)), device_(device), timeout_(timeout), connection_(std::make_unique<Connection>()) {}

DistributedGroup::~DistributedGroup() = default;

std::shared_ptr<DistributedGroup> DistributedGroup::join(const DistributedEnv& env, const c10::Device& device,
                                                         std::chrono::milliseconds timeout) {
  std::shared_ptr<DistributedGroup> group(new DistributedGroup(env, device, timeout));
  auto& c = *group->connection_;
  const std::string where = fmt::format("{}:{}", env.master_addr, env.master_port);
  const bool serves_store = env.rank == 0 && !env.agent_store;
  check_master_resolves(env.master_addr);
  if (serves_store) check_master_port_free(env.master_addr, env.master_port);
  try {
    c10d::TCPStoreOptions options;
    options.port = static_cast<uint16_t>(env.master_port);
    options.isServer = serves_store;
    // Every rank counts itself in (as torch.distributed does); the server waits until all have.
    options.numWorkers = static_cast<size_t>(env.world_size);
    options.waitWorkers = true;
    options.timeout = timeout;
    classic_store_server(options, 0);
    auto tcp = c10::make_intrusive<c10d::TCPStore>(env.master_addr, options);
    // torchrun's store outlives restarts: each attempt gets its own keys, as torch.distributed does.
    c.store = c10::make_intrusive<c10d::PrefixStore>(fmt::format("/ddpm/attempt_{}", env.restart_count), tcp);
  } catch (const std::exception& e) {
    throw ActionableError(not_met(env, where, timeout, e), Remedy::raise_group_timeout);
  }
  try {
    if (device.is_cuda()) {
#ifdef DDPM_WITH_NCCL
      auto options = c10d::ProcessGroupNCCL::Options::create();
      options->timeout = timeout;
      c.group = c10::make_intrusive<c10d::ProcessGroupNCCL>(c.store, env.rank, env.world_size, options);
#else
      throw ActionableError("this LibTorch build has no NCCL process group", Remedy::train_on_cpu);
#endif
    } else {
      auto options = c10d::ProcessGroupGloo::Options::create(timeout);
      // As torch.distributed: GLOO_SOCKET_IFNAME picks the network interface, else the host name's address.
      if (const auto ifname = env_var("GLOO_SOCKET_IFNAME")) {
        std::stringstream names(*ifname);
        for (std::string name; std::getline(names, name, ',');)
          options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(name));
      } else {
        options->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
      }
      c.group = c10::make_intrusive<c10d::ProcessGroupGloo>(c.store, env.rank, env.world_size, options);
    }
  } catch (const ActionableError&) {
    throw;  // already says what to do (no NCCL: train on the CPU), not a rendezvous timeout
  } catch (const std::exception& e) {
    throw ActionableError(not_met(env, where, timeout, e), Remedy::raise_group_timeout);
  }
  return group;
}

void DistributedGroup::average(torch::Tensor& tensor, const std::string& what) {
  all_reduce(*connection_->group, tensor, c10d::ReduceOp::SUM, env_, timeout_, what);
  tensor.div_(static_cast<double>(env_.world_size));
}

void DistributedGroup::check_same(int64_t value, const std::string& what) {
  // One MAX over (v, -v) gives the largest and the smallest value.
  auto range = torch::tensor({value, -value}, torch::kInt64).to(device_);
  all_reduce(*connection_->group, range, c10d::ReduceOp::MAX, env_, timeout_, "checking " + what);
  range = range.cpu();
  const int64_t high = range[0].item<int64_t>(), low = -range[1].item<int64_t>();
  if (low != high)
    throw std::runtime_error(fmt::format("rank {} of {}: the ranks disagree on {} (from {} to {})", env_.rank,
                                         env_.world_size, what, low, high));
}

}  // namespace ddpm
