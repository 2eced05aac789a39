#pragma once
// One connection to Redis, on the backplane's io_context (its one thread): connect with a deadline,
// pipelined commands whose replies come back in order, and subscriptions. Single use: once it is down
// it stays down, and the owner makes a new one (with back-off). Owned by shared_ptr; hiredis's
// callbacks reach it through the context's `data` pointer, which is cleared before it goes away.
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "backplane/command_link.hpp"
#include "config/redis_url.hpp"

struct redisAsyncContext;
struct redisReply;

namespace sb::backplane {

class RedisLink : public CommandLink, public std::enable_shared_from_this<RedisLink> {
 public:
  using Up = std::function<void()>;
  using Down = std::function<void(const std::string& reason)>;

  RedisLink(boost::asio::io_context& io, config::RedisEndpoint endpoint);
  ~RedisLink() override;
  RedisLink(const RedisLink&) = delete;
  RedisLink& operator=(const RedisLink&) = delete;

  // `up` once the server answered (after SELECT); `down` once, when the attempt fails, the deadline
  // passes or an established link breaks. Neither is called after close().
  void connect(std::chrono::milliseconds timeout, Up up, Down down);
  bool command(const std::vector<std::string>& argv, ReplyHandler handler) override;
  // SUBSCRIBE: `handler` gets the subscribe confirmation and then every message, as hiredis's arrays
  // ["subscribe"|"message", channel, …]; it lives as long as the link.
  bool subscribe(const std::string& channel, ReplyHandler handler);
  // Drops the connection without calling `down`.
  void close();
  bool is_up() const { return is_up_; }

 private:
  static void on_connect_callback(const redisAsyncContext* context, int status);
  static void on_disconnect_callback(const redisAsyncContext* context, int status);
  void finish(const std::string& reason);

  boost::asio::io_context& io_;
  config::RedisEndpoint endpoint_;
  redisAsyncContext* context_ = nullptr;  // freed by hiredis when the link ends
  boost::asio::steady_timer deadline_;
  Up up_;
  Down down_;
  bool is_up_ = false;
  std::vector<std::unique_ptr<ReplyHandler>> subscriptions_;
};

}  // namespace sb::backplane
