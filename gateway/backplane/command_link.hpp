#pragma once
// Where a CommandQueue sends its commands: a connection to Redis (RedisLink), or a fake in tests.
// Replies come back in the order the commands went out, each handler called exactly once: with the
// reply, or with nullptr when the link went down before it came. Backplane thread only.
#include <functional>
#include <string>
#include <vector>

#include "redis_client/reply.hpp"


namespace sb::backplane {

class CommandLink {
 public:
  // A reply, or nullptr when the link went down before it came.
  using ReplyHandler = std::function<void(const redis::Reply*)>;

  virtual ~CommandLink() = default;

  // Queues a command (argv, binary-safe). False when the link is not usable; `handler` is not called then.
  virtual bool command(const std::vector<std::string>& argv, ReplyHandler handler) = 0;
};

}  // namespace sb::backplane
