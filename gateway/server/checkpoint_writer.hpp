#pragma once
// One shard's checkpoints (the fleet log; docs/scaling.md "Crashes"): every --checkpoint-interval, the
// state of each stateful-reconnect connection that changed since its last checkpoint is written to
// Redis, with the shard's place in the log. If this gateway dies, the gateway the client reconnects to
// rebuilds the connection from it and runs the log's later entries on it (server/handoff.cpp).
// The shard's thread only.
#include <boost/asio/steady_timer.hpp>
#include <chrono>

namespace sb::backplane {
class Backplane;
}

namespace sb::server {

struct Shard;

class CheckpointWriter {
 public:
  CheckpointWriter(Shard& shard, backplane::Backplane& backplane, std::chrono::milliseconds interval);
  void start();
  void stop() { timer_.cancel(); }

 private:
  void schedule();
  void write_changed();

  Shard& shard_;
  backplane::Backplane& backplane_;
  std::chrono::milliseconds interval_;
  boost::asio::steady_timer timer_;
  std::uint64_t resyncs_seen_ = 0;
};

}  // namespace sb::server
