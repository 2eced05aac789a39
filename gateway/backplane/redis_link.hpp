#pragma once
// One of the backplane's links to Redis (commands, subscriptions, the fleet log's reads), on the
// backplane's io_context: a redis::Connection to the address given, or to the master Sentinel names
// at each connect, so a failover is survived like a Redis restart. Single use: once it is down it
// stays down, and the owner makes a new one (with back-off).
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "backplane/command_link.hpp"
#include "redis_client/connection.hpp"
#include "redis_client/sentinel.hpp"

namespace sb::backplane {

// Where the links go, built once from the configuration.
struct RedisTarget {
  redis::ConnectionOptions connection;  // with Sentinel: its host and port are replaced by the master's
  redis::SentinelOptions sentinel;      // no sentinels: connect to `connection` as given
};

class RedisLink : public CommandLink, public std::enable_shared_from_this<RedisLink> {
 public:
  using Up = std::function<void()>;
  using Down = std::function<void(const std::string& reason)>;

  RedisLink(boost::asio::io_context& io, std::shared_ptr<const RedisTarget> target);
  ~RedisLink() override;
  RedisLink(const RedisLink&) = delete;
  RedisLink& operator=(const RedisLink&) = delete;

  // `up` once the server answered (after AUTH and SELECT); `down` once, when the attempt fails, the
  // deadline passes or an established link breaks. Neither is called after close().
  void connect(std::chrono::milliseconds timeout, Up up, Down down);
  bool command(const std::vector<std::string>& argv, ReplyHandler handler) override;
  // SUBSCRIBE: `handler` gets the subscribe confirmation and then every message, as arrays
  // ["subscribe"|"message", channel, …]; it lives as long as the link.
  bool subscribe(const std::string& channel, ReplyHandler handler);
  // Drops the connection without calling `down`.
  void close();
  bool is_up() const { return connection_ && connection_->is_up(); }

 private:
  struct Early {
    std::vector<std::string> argv;  // a command, or
    std::string channel;            // a subscription
    ReplyHandler handler;
  };
  void connect_to(redis::ConnectionOptions options, std::chrono::milliseconds timeout);
  void drop_early();  // their handlers get nullptr, as a connection's pending replies do

  boost::asio::io_context& io_;
  std::shared_ptr<const RedisTarget> target_;
  std::shared_ptr<redis::Connection> connection_;
  // Commands and subscriptions asked for while Sentinel is consulted: sent once the master is known.
  std::vector<Early> early_;
  Up up_;
  Down down_;
  bool is_closed_ = false;
};

}  // namespace sb::backplane
