#include "server/connection_directory.hpp"

#include <doctest/doctest.h>

#include <memory>
#include <string>
#include <vector>

using namespace sb::server;

namespace {

// A transport that does nothing: the directory only watches whether it is still alive.
class IdleTransport : public sb::transport::Transport {
 public:
  void start(std::shared_ptr<sb::transport::TransportHandler>) override {}
  bool send(sb::Frame, sb::transport::FrameFormat) override { return true; }
  void close() override {}
  void abort() override {}
  bool supports_binary() const override { return true; }
};

DirectoryEntry entry_for(const std::shared_ptr<sb::transport::Transport>& transport) {
  return DirectoryEntry{{}, transport, TransportKind::long_polling, "hub"};
}

}  // namespace

TEST_CASE("finds a live connection and forgets a finished one") {
  ConnectionDirectory directory;
  auto live = std::make_shared<IdleTransport>();
  directory.add("live", entry_for(live));
  directory.add("gone", entry_for(std::make_shared<IdleTransport>()));
  CHECK(directory.find("live").has_value());
  CHECK_FALSE(directory.find("gone").has_value());
  CHECK_FALSE(directory.find("unknown").has_value());
}

TEST_CASE("finished connections are swept out while others stay open") {
  // The soak's shape: connections held for the whole run while many more come and go. The table must
  // stay bounded by the live ones, not grow with every connection that ever existed.
  ConnectionDirectory directory;
  std::vector<std::shared_ptr<sb::transport::Transport>> held;
  for (int i = 0; i < 10; ++i) {
    held.push_back(std::make_shared<IdleTransport>());
    directory.add("held-" + std::to_string(i), entry_for(held.back()));
  }
  for (int i = 0; i < 20'000; ++i) directory.add("churn-" + std::to_string(i), entry_for(std::make_shared<IdleTransport>()));
  CHECK(directory.size() <= held.size() + ConnectionDirectory::min_adds_between_sweeps);
  for (int i = 0; i < 10; ++i) CHECK(directory.find("held-" + std::to_string(i)).has_value());
}

TEST_CASE("a sweep waits for as many additions as the entries it kept") {
  // Many live connections: sweeping at every 1024th addition would walk them all each time.
  ConnectionDirectory directory;
  std::vector<std::shared_ptr<sb::transport::Transport>> held;
  for (int i = 0; i < 3000; ++i) {
    held.push_back(std::make_shared<IdleTransport>());
    directory.add("held-" + std::to_string(i), entry_for(held.back()));
  }
  held.clear();  // every one of them ends
  // The last sweep, at the 2048th addition, kept 2047 entries: the next one comes 2047 additions later,
  // at the 4095th, and drops every finished entry.
  int late = 0;
  auto add_finished = [&](int count) {
    for (int i = 0; i < count; ++i, ++late)
      directory.add("late-" + std::to_string(late), entry_for(std::make_shared<IdleTransport>()));
  };
  add_finished(1000);
  CHECK(directory.size() == 4000);
  add_finished(200);
  CHECK(directory.size() == 106);  // the one that triggered the sweep and the 105 after it
}
