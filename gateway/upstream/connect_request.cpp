#include "upstream/connect_request.hpp"

#include <nlohmann/json.hpp>

#include "common/ascii.hpp"
#include "auth/upstream_signature.hpp"
#include "common/ids.hpp"

namespace sb::upstream {
namespace {

constexpr std::string_view connect_event = "connect";
constexpr std::string_view connections_category = "connections";

bool names_connect(const config::NamePattern& events) {
  if (events.any) return false;  // "*" must not start gating every negotiate of an existing setup
  for (const auto& name : events.names)
    if (iequals(name, connect_event))
      return true;
  return false;
}

// Pairs as an object; a name that repeats becomes an array of its values (claims such as roles do).
nlohmann::json pairs_to_object(const std::vector<std::pair<std::string, std::string>>& pairs) {
  auto out = nlohmann::json::object();
  for (const auto& [name, value] : pairs) {
    auto it = out.find(name);
    if (it == out.end())
      out[name] = value;
    else if (it->is_array())
      it->push_back(value);
    else
      *it = nlohmann::json::array({*it, value});
  }
  return out;
}

}  // namespace

const config::UpstreamRule* find_connect_rule(const std::vector<config::UpstreamRule>& rules, std::string_view hub) {
  for (const auto& rule : rules)
    if (names_connect(rule.events) && rule.matches(hub, connections_category, connect_event)) return &rule;
  return nullptr;
}

UpstreamRequest build_connect_request(const config::UpstreamRule& rule, const auth::KeyRing& keys,
                                      const ConnectCaller& caller, std::chrono::system_clock::time_point now) {
  UpstreamRequest request;
  request.event_id = random_id();
  auto& h = request.headers;
  h.reserve(12);
  h.emplace_back("X-ASRS-Hub", caller.hub);
  h.emplace_back("X-ASRS-Category", connections_category);
  h.emplace_back("X-ASRS-Event", connect_event);
  if (!caller.user_id.empty()) h.emplace_back("X-ASRS-User-Id", caller.user_id);
  if (!caller.claims.empty()) h.emplace_back("X-ASRS-User-Claims", format_claims_header(caller.claims));
  if (!caller.client_query.empty()) h.emplace_back("X-ASRS-Client-Query", caller.client_query);
  // Azure signs the connection id; there is none yet, so the empty string stands in (docs/upstream.md).
  h.emplace_back("X-ASRS-Signature", auth::upstream_signature(keys, ""));
  h.emplace_back("X-Switchboard-Event-Id", request.event_id);
  if (!caller.trace_parent.empty()) h.emplace_back("traceparent", caller.trace_parent);
  if (!caller.trace_state.empty()) h.emplace_back("tracestate", caller.trace_state);

  nlohmann::json body = {
      {"type", "connect"}, {"claims", pairs_to_object(caller.claims)}, {"query", pairs_to_object(caller.query)}};
  request.content_type = "application/json";
  // Claims and query come from the client: replace invalid UTF-8 rather than throw.
  request.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  finish_upstream_request(request, rule.expand(caller.hub, connections_category, connect_event), keys, now);
  request.tls = rule.tls;
  return request;
}

}  // namespace sb::upstream
