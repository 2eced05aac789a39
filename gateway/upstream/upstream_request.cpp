#include "upstream/upstream_request.hpp"

#include <algorithm>

#include "auth/upstream_signature.hpp"
#include "common/ids.hpp"
#include "protocol/hub_protocol.hpp"
#include "protocol/json_hub_protocol.hpp"

namespace sb::upstream {

std::string format_claims_header(const auth::Claims& claims) {
  std::string out;
  for (const auto& [type, value] : claims) {
    if (!out.empty()) out += ", ";
    out += type;
    out += ": ";
    out += value;
  }
  // Header values can't carry CR/LF: a claim that tries gets them replaced.
  for (auto& c : out)
    if (c == '\r' || c == '\n') c = ' ';
  return out;
}

void finish_upstream_request(UpstreamRequest& request, std::string_view url, const auth::KeyRing& keys,
                             std::chrono::system_clock::time_point now) {
  if (auto parsed = parse_url(url)) request.url = std::move(*parsed);
  // Signed once, so a retry carries the same timestamp and event id (the function de-duplicates on it).
  auto seconds = std::to_string(std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count());
  request.headers.emplace_back("X-Switchboard-Timestamp", seconds);
  auth::HeaderList signed_headers;
  for (const auto& [name, value] : request.headers) signed_headers.emplace_back(std::string(name), value);
  if (!request.content_type.empty()) signed_headers.emplace_back("Content-Type", request.content_type);
  request.headers.emplace_back(
      "X-Switchboard-Signature",
      auth::request_signature(keys, seconds, "POST", request.url ? request.url->target() : "/",
                              auth::canonical_signed_headers(signed_headers), request.body));
}

std::string route_label(std::string_view url_template) {
  auto text = url_template.substr(0, url_template.find_first_of("?#"));
  const auto scheme_end = text.find("://");
  if (scheme_end == std::string_view::npos) return std::string(text);
  const auto authority_start = scheme_end + 3;
  const auto authority_end = std::min(text.find('/', authority_start), text.size());
  const auto at = text.substr(0, authority_end).rfind('@');
  if (at == std::string_view::npos || at < authority_start) return std::string(text);
  return std::string(text.substr(0, authority_start)) + std::string(text.substr(at + 1));
}

std::optional<UpstreamRequest> build_upstream_request(const std::vector<config::UpstreamRule>& rules,
                                                      const auth::KeyRing& keys,
                                                      const connection::ConnectionIdentity& identity,
                                                      protocol::HubProtocolKind protocol,
                                                      const connection::UpstreamEvent& event,
                                                      std::chrono::system_clock::time_point now) {
  using connection::UpstreamEventKind;
  std::string_view category = event.kind == UpstreamEventKind::message ? "messages" : "connections";
  std::string_view name = event.kind == UpstreamEventKind::connected      ? std::string_view("connected")
                          : event.kind == UpstreamEventKind::disconnected ? std::string_view("disconnected")
                          : event.kind == UpstreamEventKind::refreshed    ? std::string_view("refresh")
                                                                          : std::string_view(event.message.target);
  const config::UpstreamRule* rule = nullptr;
  for (const auto& r : rules)
    if (r.matches(identity.hub, category, name)) {
      rule = &r;
      break;
    }
  if (!rule) return std::nullopt;

  UpstreamRequest request;
  request.event_id = random_id();
  auto& h = request.headers;
  h.reserve(16);
  h.emplace_back("X-ASRS-Connection-Id", identity.connection_id);
  h.emplace_back("X-ASRS-Hub", identity.hub);
  h.emplace_back("X-ASRS-Category", category);
  h.emplace_back("X-ASRS-Event", name);
  if (!identity.user_id.empty()) h.emplace_back("X-ASRS-User-Id", identity.user_id);
  if (!identity.claims.empty()) h.emplace_back("X-ASRS-User-Claims", format_claims_header(identity.claims));
  if (!identity.client_query.empty()) h.emplace_back("X-ASRS-Client-Query", identity.client_query);
  h.emplace_back("X-ASRS-Signature", auth::upstream_signature(keys, identity.connection_id));
  h.emplace_back("X-Switchboard-Event-Id", request.event_id);
  // A stateful client's message has a sequence id the client keeps: re-sent after its gateway died,
  // it reaches the function again with the same key, and the function answers it once
  // (functions-runtime keeps the first reply; docs/upstream.md "Idempotency").
  if (event.kind == UpstreamEventKind::message && event.inbound_id != 0)
    h.emplace_back("X-Switchboard-Idempotency-Key", identity.connection_id + ":" + std::to_string(event.inbound_id));
  if (!event.trace_parent.empty()) h.emplace_back("traceparent", event.trace_parent);
  if (!event.trace_state.empty()) h.emplace_back("tracestate", event.trace_state);
  // A part of a client upload: which stream, and the number of the body's first item
  // (docs/upstream.md "Upload streams").
  if (event.upload && !event.upload->stream_id.empty()) {
    h.emplace_back("X-Switchboard-Stream-Id", event.upload->stream_id);
    h.emplace_back("X-Switchboard-Stream-Sequence", std::to_string(event.upload->first_sequence));
  }

  switch (event.kind) {
    case UpstreamEventKind::connected:
      request.content_type = "application/json";
      request.body = R"({"type":10})";
      break;
    case UpstreamEventKind::disconnected:
      request.content_type = "application/json";
      // The emulator omits "error" on a clean close (BuildCloseConnectionPayload).
      request.body = event.error.empty() ? R"({"type":11})" : R"({"type":11,"error":)" + protocol::json_quote(event.error) + "}";
      break;
    case UpstreamEventKind::refreshed:
      // The new claims are in X-ASRS-User-Claims; the body says only what happened and until when.
      request.content_type = "application/json";
      request.body = R"({"type":12,"tokenExpiresAt":)" + std::to_string(identity.token_expires_at) + "}";
      break;
    case UpstreamEventKind::message:
      // The client's own Invocation record, unframed, in its protocol; an upload part's records framed.
      request.content_type = protocol::upstream_content_type(protocol);
      request.body = event.message.raw;
      break;
  }
  finish_upstream_request(request, rule->expand(identity.hub, category, name), keys, now);
  request.tls = rule->tls;
  request.route = route_label(rule->url_template);
  return request;
}

}  // namespace sb::upstream
