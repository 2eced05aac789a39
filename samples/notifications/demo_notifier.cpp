#include "demo_notifier.hpp"

#include <cstdio>
#include <exception>
#include <string>
#include <utility>

namespace notifications {

DemoNotifier::DemoNotifier(Notifier& notifier, std::chrono::seconds period)
    : notifier_(notifier), period_(period), thread_([this](std::stop_token stop) { run(std::move(stop)); }) {}

DemoNotifier::~DemoNotifier() {
  thread_.request_stop();  // wakes wait_for below
}

void DemoNotifier::run(std::stop_token stop) {
  for (unsigned round = 1;; ++round) {
    {
      std::unique_lock lock(mutex_);
      // Nothing notifies wake_: it only waits out the period, cut short by a stop request.
      wake_.wait_for(lock, stop, period_, [] { return false; });
      if (stop.stop_requested()) return;
    }
    try {
      for (const auto& user : notifier_.rest().list_users(kNotificationsHub)) {
        if (stop.stop_requested()) return;
        notifier_.notify(user.user_id, "Demo notification #" + std::to_string(round));
      }
    } catch (const std::exception& error) {
      std::fprintf(stderr, "warn notifications demo_failed round=%u error=\"%s\"\n", round, error.what());
    }
  }
}

}  // namespace notifications
