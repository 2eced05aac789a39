// Turns one upstream request (headers + body) into a call to the user's handler and the HTTP answer
// for the gateway. No sockets here: App adapts cpp-httplib's request to UpstreamRequest, and tests
// drive the dispatcher directly.
//
// Checks, in order (each failure answers with a JSON body {"code","message"}):
//   415  Content-Type is neither application/json nor application/x-msgpack
//   400  X-ASRS-Hub, -Category, -Event or -Connection-Id missing or empty
//   401  the signature matches no access key (when validation is on): X-Switchboard-Signature v2, over
//        the identity headers too, or X-ASRS-Signature in SignatureMode::azure
//   409  the same signed request was already served (a replay; ReplayGuard)
//   404  an event category other than connections or messages
//   200  no handler: `connected`/`disconnected` get an empty answer, an invocation the envelope error
//        "Unknown method 'x' on hub 'y'." (its caller's invoke() rejects with it) and one log line
//   400  the body is not the message the event calls for (docs/upstream.md, Request)
// then the handler runs (docs/upstream.md, Reply).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "switchboard/detail/replay_guard.hpp"
#include "switchboard/detail/upstream_headers.hpp"
#include "switchboard/functions.hpp"

namespace switchboard::detail {

struct UpstreamRequest {
  HeaderMap headers;  // as received
  std::string body;
  std::string method = "POST";
  std::string target;  // path and query as received, for X-Switchboard-Signature
  long long now_seconds = 0;  // unix time of arrival, for the signature's tolerance window
};

struct UpstreamResponse {
  int status = 200;
  std::string content_type;  // empty when the body is empty
  std::string body;
  std::string log_line;      // when not empty, one line the caller writes to stderr
};

enum class UpstreamEvent { connected, disconnected, refresh, message, stream, upload };

class IdempotencyCache;

class UpstreamDispatcher {
 public:
  explicit UpstreamDispatcher(AppOptions options);

  // hub and target "*" match anything and compare case-insensitively; `target` is ignored for
  // connection events. Registering the same (event, hub, target) again replaces the handler.
  // Not thread-safe: add every handler before the first dispatch().
  void add(UpstreamEvent event, std::string hub, std::string target, Handler handler);

  // Safe to call from many threads at once. Never throws: a handler's exception becomes the answer,
  // its text for the client only with AppOptions::detailed_errors, else a fixed text with an error id
  // that the log line repeats beside the text.
  UpstreamResponse dispatch(const UpstreamRequest& request) const;

 private:
  struct Route {
    UpstreamEvent event;
    std::string hub;     // lower case, or "*"
    std::string target;  // lower case, or "*"
    Handler handler;
  };

  const Handler* find_handler(UpstreamEvent event, std::string_view hub, std::string_view target) const;
  UpstreamResponse run_handler(const Handler& handler, const Context& context, UpstreamEvent event) const;

  AppOptions options_;
  std::vector<Route> routes_;
  std::shared_ptr<ReplayGuard> replays_ = std::make_shared<ReplayGuard>();
  std::shared_ptr<IdempotencyCache> idempotency_;  // idempotency_cache.hpp; made in the constructor
};

}  // namespace switchboard::detail
