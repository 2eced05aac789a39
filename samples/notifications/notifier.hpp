// Sends notifications: one REST call (RestClient::send_to_user) to the gateway it was given, which
// delivers to the user's connections on every gateway of the fleet (docs/scaling.md).
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include <switchboard/functions.hpp>

namespace notifications {

inline constexpr const char* kNotificationsHub = "notifications";

// Server-to-client target: notification({id, text, sentAt, via, from?})
//   id      this process's sequence number, from 1
//   sentAt  milliseconds since the Unix epoch, when it was sent
//   via     the gateway the REST call went to (the page shows it next to its own gateway)
//   from    the signed-in user who sent it from the page; absent when a backend sent it
// Clients call no methods: the hub needs no upstream.
inline constexpr const char* kNotificationTarget = "notification";

// Safe to share between threads (RestClient is; the id is atomic).
class Notifier {
 public:
  // `rest` must outlive the Notifier; `via` is its gateway's URL, shown to users.
  Notifier(switchboard::RestClient& rest, std::string via) : rest_(rest), via_(std::move(via)) {}

  // Sends `text` to every connection of `user_id`, wherever it is connected, and returns the id.
  // `from` names the sender when a user sent it (empty: a backend did).
  // Throws std::runtime_error when the gateway refuses it or cannot be reached. A user with no
  // connection is not an error: the gateway accepts the send and nobody receives it.
  std::uint64_t notify(std::string_view user_id, std::string_view text, std::string_view from = {});

  switchboard::RestClient& rest() { return rest_; }

 private:
  switchboard::RestClient& rest_;
  const std::string via_;
  std::atomic<std::uint64_t> next_id_{1};
};

}  // namespace notifications
