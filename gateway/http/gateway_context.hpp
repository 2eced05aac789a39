#pragma once
// What every HTTP session needs, shared by all threads: immutable config and keys, the negotiated
// connection table, the backplane, readiness.
#include <atomic>
#include <memory>

#include "auth/key_ring.hpp"
#include "backplane/backplane.hpp"
#include "config/config.hpp"
#include "http/admission.hpp"
#include "http/connection_directory.hpp"
#include "http/negotiated_connections.hpp"

namespace sb::http {

struct Shard;
class TlsCertificates;

struct GatewayContext {
  const config::Config& config;
  std::shared_ptr<const auth::KeyRing> keys;
  NegotiatedConnections& negotiated;
  ConnectionDirectory& directory;
  backplane::Backplane& backplane;
  std::atomic<bool>& is_ready;     // false while starting and draining: /health/ready answers 503
  std::atomic<bool>& is_draining;  // SIGTERM received: negotiates and new connections are refused (503)
  Admission& admission;
  const TlsCertificates* tls = nullptr;  // set: the listener speaks TLS only (--tls-cert)
};

}  // namespace sb::http
