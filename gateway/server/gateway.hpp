#pragma once
// The whole gateway process: one shard per thread, the listener, the backplane, and shutdown.
// main() builds one from the config and calls run().
#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include "config/config.hpp"

namespace sb::server {

class Gateway {
 public:
  // `version`: what the operator console shows.
  explicit Gateway(const config::Config& config, std::string version = {});
  ~Gateway();
  Gateway(const Gateway&) = delete;
  Gateway& operator=(const Gateway&) = delete;

  // Binds, prints the ready block, serves until SIGTERM/SIGINT, drains, returns the exit code.
  int run();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace sb::server
