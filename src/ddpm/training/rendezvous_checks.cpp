#include "ddpm/training/rendezvous_checks.h"

#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <stdexcept>

#include <fmt/format.h>

namespace ddpm {
namespace {

using AddressList = std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)>;

AddressList resolve(const std::string& host, const std::string& port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  const int rc = ::getaddrinfo(host.c_str(), port.empty() ? nullptr : port.c_str(), &hints, &found);
  if (rc != 0)
    throw std::runtime_error(fmt::format("MASTER_ADDR '{}' does not resolve: {}", host, ::gai_strerror(rc)));
  return AddressList(found, ::freeaddrinfo);
}

}  // namespace

void check_master_resolves(const std::string& host) { resolve(host, ""); }

void check_master_port_free(const std::string& host, int64_t port) {
  const auto addresses = resolve(host, std::to_string(port));
  const addrinfo* a = addresses.get();
  const int fd = ::socket(a->ai_family, a->ai_socktype, a->ai_protocol);
  if (fd < 0) return;  // nothing to learn here; the store reports its own failure
  const int yes = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);  // as the store does: TIME_WAIT is no conflict
  const int rc = ::bind(fd, a->ai_addr, a->ai_addrlen);
  const int error = errno;
  ::close(fd);
  if (rc != 0 && error == EADDRINUSE)
    throw std::runtime_error(fmt::format("MASTER_PORT {} on {} is in use by another process (another run?); choose "
                                         "a free port",
                                         port, host));
}

}  // namespace ddpm
