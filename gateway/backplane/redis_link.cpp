#include "backplane/redis_link.hpp"

namespace sb::backplane {

RedisLink::RedisLink(boost::asio::io_context& io, std::shared_ptr<const RedisTarget> target)
    : io_(io), target_(std::move(target)) {}

RedisLink::~RedisLink() { close(); }

void RedisLink::connect(std::chrono::milliseconds timeout, Up up, Down down) {
  up_ = std::move(up);
  down_ = std::move(down);
  if (target_->sentinel.sentinels.empty()) return connect_to(target_->connection, timeout);
  redis::locate_master(io_, target_->sentinel, timeout,
                       [weak = weak_from_this(), timeout](std::optional<redis::Address> master, const std::string& error) {
                         auto self = weak.lock();
                         if (!self || self->is_closed_) return;
                         if (!master) {
                           auto on_down = std::move(self->down_);
                           self->is_closed_ = true;
                           self->drop_early();
                           if (on_down) on_down(error);
                           return;
                         }
                         auto options = self->target_->connection;
                         options.host = master->host;
                         options.port = master->port;
                         options.require_master = true;
                         self->connect_to(std::move(options), timeout);
                       });
}

void RedisLink::connect_to(redis::ConnectionOptions options, std::chrono::milliseconds timeout) {
  connection_ = std::make_shared<redis::Connection>(io_, std::move(options));
  auto weak = weak_from_this();
  connection_->connect(
      timeout,
      [weak] {
        auto self = weak.lock();
        if (self && self->up_) self->up_();
      },
      [weak](const std::string& reason) {
        auto self = weak.lock();
        if (!self) return;
        self->is_closed_ = true;
        auto down = std::move(self->down_);
        self->up_ = nullptr;
        if (down) down(reason);
      });
  auto early = std::move(early_);
  early_.clear();
  for (auto& e : early) {
    if (e.argv.empty()) connection_->subscribe(e.channel, std::move(e.handler));
    else connection_->command(e.argv, std::move(e.handler));
  }
}

void RedisLink::drop_early() {
  auto early = std::move(early_);
  early_.clear();
  for (auto& e : early)
    if (!e.argv.empty() && e.handler) e.handler(nullptr);
}

bool RedisLink::command(const std::vector<std::string>& argv, ReplyHandler handler) {
  if (is_closed_) return false;
  if (connection_) return connection_->command(argv, std::move(handler));
  early_.push_back({argv, {}, std::move(handler)});
  return true;
}

bool RedisLink::subscribe(const std::string& channel, ReplyHandler handler) {
  if (is_closed_) return false;
  if (connection_) return connection_->subscribe(channel, std::move(handler));
  early_.push_back({{}, channel, std::move(handler)});
  return true;
}

void RedisLink::close() {
  if (is_closed_ && !connection_) return;
  is_closed_ = true;
  down_ = nullptr;
  up_ = nullptr;
  if (connection_) {
    auto connection = std::move(connection_);
    connection->close();  // pending handlers run now, with nullptr
  }
  drop_early();
}

}  // namespace sb::backplane
