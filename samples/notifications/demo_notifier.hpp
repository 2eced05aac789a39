// --demo-every: a timer that notifies every online user, so that a page shows something without
// anyone calling /api/notify. Who is online comes from the gateway's presence extension, which
// answers for the whole fleet (RestClient::list_users).
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <stop_token>
#include <thread>

#include "notifier.hpp"

namespace notifications {

class DemoNotifier {
 public:
  // Starts a thread that sends a round every `period`, the first one `period` from now.
  // `notifier` must outlive this object. Failures are logged on stderr; the next round tries again.
  DemoNotifier(Notifier& notifier, std::chrono::seconds period);
  // Stops the thread: a round in progress finishes its current REST call first.
  ~DemoNotifier();
  DemoNotifier(const DemoNotifier&) = delete;
  DemoNotifier& operator=(const DemoNotifier&) = delete;

 private:
  void run(std::stop_token stop);

  Notifier& notifier_;
  const std::chrono::seconds period_;
  std::mutex mutex_;
  std::condition_variable_any wake_;
  std::jthread thread_;  // last: starts after the members it uses, stops before they go
};

}  // namespace notifications
