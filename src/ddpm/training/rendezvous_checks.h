// Checks made before c10d's TCPStore is created, because its own failures are slow or noisy: a busy
// MASTER_PORT shows only as a rendezvous timeout after the whole --dist-timeout, and an unresolvable
// MASTER_ADDR prints several library log lines before the error.
#pragma once

#include <cstdint>
#include <string>

namespace ddpm {

// Throws std::runtime_error naming MASTER_ADDR when `host` does not resolve.
void check_master_resolves(const std::string& host);

// For the rank that serves the store: throws std::runtime_error naming MASTER_PORT when `port` on `host`
// is already taken by another process.
void check_master_port_free(const std::string& host, int64_t port);

}  // namespace ddpm
