#include "presence_hub.hpp"

#include <array>
#include <cstdio>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

namespace presence {
namespace {

using switchboard::Context;
using switchboard::Json;
using switchboard::Reply;

// Events of one user are handled one at a time (cpp-httplib runs handlers concurrently). Each handler
// reads the user's live connection count from the gateway and broadcasts it before the next handler
// of that user starts, so the last announcement always matches the gateway, whatever order tabs open
// and close in. Without this, two tabs opening together could both read 2 and announce nothing, or an
// older "online" could arrive after a newer "offline". Striped so that memory stays fixed.
class UserLocks {
 public:
  std::mutex& of(const std::string& user_id) { return stripes_[std::hash<std::string>{}(user_id) % stripes_.size()]; }

 private:
  std::array<std::mutex, 64> stripes_;
};

// Announces the user's presence as the gateway sees it now. The broadcast goes through the REST API
// (answered once every gateway thread has queued it), not through the reply, so that it is out before
// the lock is released: reply actions run after the handler returns.
void announce(switchboard::RestClient& rest, UserLocks& locks, const Context& context) {
  if (context.user_id.empty()) return;  // anonymous connections are nobody's presence
  std::lock_guard lock(locks.of(context.user_id));
  try {
    const std::size_t connections = rest.count_user_connections(context.hub, context.user_id);
    if (connections == 0) {
      rest.send_to_all(context.hub, "offline", Json::array({context.user_id}));
    } else {
      rest.send_to_all(context.hub, "online", Json::array({context.user_id, connections}));
    }
  } catch (const std::exception& error) {
    // The connection itself is fine; only the announcement failed. Pages catch up on their next load.
    std::fprintf(stderr, "warn presence announce_failed event=%s error=\"%s\"\n", context.event.c_str(), error.what());
  }
}

}  // namespace

void add_presence_hub(switchboard::App& app, switchboard::RestClient& rest) {
  auto locks = std::make_shared<UserLocks>();
  // The gateway indexes a connection before it sends `connected` and unindexes it before it sends
  // `disconnected`, so the count read here already includes (or excludes) this connection.
  auto handler = [&rest, locks](const Context& context, Reply&) { announce(rest, *locks, context); };
  app.on_connected(kPresenceHub, handler).on_disconnected(kPresenceHub, handler);
}

}  // namespace presence
