#pragma once
// What every shard's routes need, shared by all threads: immutable config and keys, the connection
// directory, the backplane, admission, readiness.
#include <atomic>
#include <memory>

#include "auth/key_ring.hpp"
#include "backplane/backplane.hpp"
#include "config/config.hpp"
#include "server/admission.hpp"
#include "server/connection_directory.hpp"

namespace sb::server {

struct GatewayContext {
  const config::Config& config;
  std::shared_ptr<const auth::KeyRing> keys;
  ConnectionDirectory& directory;
  backplane::Backplane& backplane;
  std::atomic<bool>& is_ready;     // false while starting and draining: /health/ready answers 503
  std::atomic<bool>& is_draining;  // SIGTERM received: negotiates and new connections are refused (503)
  Admission& admission;
};

}  // namespace sb::server
