#pragma once
// The blocking `connect` event (PROTOCOL.md part 3 §3.7, an extension Azure lacks): during
// /client/negotiate, before any connection exists, the gateway asks a function whether to let the
// client in. Only a rule that names `connect` in its event pattern matches: `*` never does, so existing
// setups don't start calling functions during negotiate. Pure.
//
// The request carries the headers of `connected` minus X-ASRS-Connection-Id (there is none yet).
// X-ASRS-Signature signs the empty string in its place, so it only proves the key; X-Switchboard-Signature
// covers the timestamp, path and body and is the one to check. Body:
//   {"type":"connect","claims":{type: value | [values]},"query":{name: value | [values]}}
#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "auth/jwt.hpp"
#include "auth/key_ring.hpp"
#include "config/upstream_rule.hpp"
#include "upstream/upstream_request.hpp"

namespace sb::upstream {

struct ConnectCaller {
  std::string hub;
  std::string user_id;  // from the token; empty: anonymous
  auth::Claims claims;
  std::vector<std::pair<std::string, std::string>> query;  // decoded negotiate query, access_token removed
  std::string client_query;                                // the same, raw "?…" (X-ASRS-Client-Query), or empty
  std::string trace_parent;                                // the call's traceparent (under the negotiate's), or empty
  std::string trace_state;                                 // the negotiate's tracestate, when its traceparent was valid
};

// The first rule naming `connect` explicitly that matches `hub` (category `connections`); null: none, the
// negotiate goes ahead without a call.
const config::UpstreamRule* find_connect_rule(const std::vector<config::UpstreamRule>& rules, std::string_view hub);

UpstreamRequest build_connect_request(const config::UpstreamRule& rule, const auth::KeyRing& keys,
                                      const ConnectCaller& caller, std::chrono::system_clock::time_point now);

}  // namespace sb::upstream
