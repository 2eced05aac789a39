#pragma once
// Finds the current master through Redis Sentinel: asks each sentinel in turn
// "SENTINEL get-master-addr-by-name NAME" (Redis's "Sentinel clients" guide). The caller then connects
// with ConnectionOptions::require_master, so a stale answer (a master since demoted) is a failed
// connect and the caller asks again after its back-off.
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tls_client/client_tls_context.hpp"

namespace sb::redis {

struct Address {
  std::string host;
  unsigned port = 0;
};

struct SentinelOptions {
  std::vector<Address> sentinels;
  std::string master_name;
  std::string password;  // the sentinels' own (requirepass on the sentinels); empty: none. Never logged.
  std::shared_ptr<const tls_client::ClientTlsContext> tls;  // null: plain TCP
};

// `done` gets the master's address, or nullopt and why no sentinel gave one. Runs on `io`'s thread.
using MasterFound = std::function<void(std::optional<Address> master, const std::string& error)>;
void locate_master(boost::asio::io_context& io, const SentinelOptions& options, std::chrono::milliseconds timeout,
                   MasterFound done);

}  // namespace sb::redis
