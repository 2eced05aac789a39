#pragma once
// Builds the POST for one upstream event exactly in Azure's serverless format (PROTOCOL.md part 2 §2,
// part 3 §3.3): URL from the first matching rule, X-ASRS-* headers, one sha256= signature per key,
// and the body. Pure.
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "auth/key_ring.hpp"
#include "common/url.hpp"
#include "config/upstream_rule.hpp"
#include "connection/connection_identity.hpp"

namespace sb::upstream {

struct UpstreamRequest {
  // Parsed once, here; nullopt when the expanded template is no URL we can request (templates are
  // checked at start-up, so only a bug gets there): the client answers invalid_url.
  std::optional<Url> url;
  std::vector<std::pair<std::string_view, std::string>> headers;  // names are string literals
  std::string content_type;
  std::string body;
  std::string event_id;  // X-Switchboard-Event-Id
  // https:// only: the rule's TLS client settings (UpstreamRule::tls); without them the client refuses
  // an https:// URL rather than calling it unverified.
  std::shared_ptr<const tls_client::ClientTlsContext> tls;
  // The rule's URL template without user info, query or fragment (where secrets such as Azure
  // Functions' ?code= live): the metrics' `route` label.
  std::string route;
};

// `url_template` without user info, query and fragment: a label that names a route and no secret.
std::string route_label(std::string_view url_template);

// nullopt: no rule matches, the event is not sent (Azure and the emulator drop it too).
std::optional<UpstreamRequest> build_upstream_request(const std::vector<config::UpstreamRule>& rules,
                                                      const auth::KeyRing& keys,
                                                      const connection::ConnectionIdentity& identity,
                                                      protocol::HubProtocolKind protocol,
                                                      const connection::UpstreamEvent& event,
                                                      std::chrono::system_clock::time_point now);

// Parses an expanded URL template into `request.url` and signs the request (X-Switchboard-Timestamp and
// -Signature over method, path, query and body): the last step of building any upstream request.
void finish_upstream_request(UpstreamRequest& request, std::string_view url, const auth::KeyRing& keys,
                             std::chrono::system_clock::time_point now);

// "type: value, type: value" (.NET Claim.ToString() joined by ", ").
std::string format_claims_header(const auth::Claims& claims);

}  // namespace sb::upstream
