#include "notifier.hpp"

#include <chrono>

namespace notifications {

std::uint64_t Notifier::notify(std::string_view user_id, std::string_view text, std::string_view from) {
  const std::uint64_t id = next_id_.fetch_add(1, std::memory_order_relaxed);
  const auto sent_at =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch());
  switchboard::Json notification = {{"id", id}, {"text", text}, {"sentAt", sent_at.count()}, {"via", via_}};
  if (!from.empty()) notification["from"] = from;
  rest_.send_to_user(kNotificationsHub, user_id, kNotificationTarget, switchboard::Json::array({notification}));
  return id;
}

}  // namespace notifications
