#include "backplane/redis_link.hpp"

#include <hiredis/async.h>
#include <hiredis/hiredis.h>

#include <boost/asio/post.hpp>

#include "backplane/hiredis_asio_adapter.hpp"

namespace sb::backplane {
namespace {

// A one-shot reply handler travels as hiredis's privdata and is freed after its one call.
void run_once(redisAsyncContext*, void* reply, void* privdata) {
  std::unique_ptr<RedisLink::ReplyHandler> handler(static_cast<RedisLink::ReplyHandler*>(privdata));
  (*handler)(static_cast<const redisReply*>(reply));
}

// A subscription's handler is called for every message; the link owns it.
void run_subscription(redisAsyncContext*, void* reply, void* privdata) {
  (*static_cast<RedisLink::ReplyHandler*>(privdata))(static_cast<const redisReply*>(reply));
}

bool send_argv(redisAsyncContext* context, redisCallbackFn* fn, void* privdata, const std::vector<std::string>& argv) {
  std::vector<const char*> pointers;
  std::vector<std::size_t> sizes;
  pointers.reserve(argv.size());
  sizes.reserve(argv.size());
  for (const auto& arg : argv) {
    pointers.push_back(arg.data());
    sizes.push_back(arg.size());
  }
  return redisAsyncCommandArgv(context, fn, privdata, static_cast<int>(argv.size()), pointers.data(), sizes.data()) ==
         REDIS_OK;
}

}  // namespace

RedisLink::RedisLink(boost::asio::io_context& io, config::RedisEndpoint endpoint)
    : io_(io), endpoint_(std::move(endpoint)), deadline_(io) {}

RedisLink::~RedisLink() { close(); }

void RedisLink::connect(std::chrono::milliseconds timeout, Up up, Down down) {
  up_ = std::move(up);
  down_ = std::move(down);
  // A name is resolved synchronously here: that blocks the backplane thread only, never a client's.
  context_ = redisAsyncConnect(endpoint_.host.c_str(), static_cast<int>(endpoint_.port));
  if (!context_ || context_->err) {
    std::string reason = context_ ? context_->errstr : "out of memory";
    if (context_) redisAsyncFree(context_);
    context_ = nullptr;
    boost::asio::post(io_, [self = shared_from_this(), reason] { self->finish(reason); });
    return;
  }
  context_->data = this;
  redisAsyncSetConnectCallback(context_, &RedisLink::on_connect_callback);
  redisAsyncSetDisconnectCallback(context_, &RedisLink::on_disconnect_callback);
  if (!attach_to_asio(context_, io_)) {
    redisAsyncFree(context_);
    context_ = nullptr;
    boost::asio::post(io_, [self = shared_from_this()] { self->finish("cannot watch the socket"); });
    return;
  }
  deadline_.expires_after(timeout);
  deadline_.async_wait([weak = weak_from_this()](boost::system::error_code ec) {
    auto self = weak.lock();
    if (ec || !self || self->is_up_ || !self->context_) return;
    self->finish("connect timed out");
  });
  if (endpoint_.database != 0) command({"SELECT", std::to_string(endpoint_.database)}, [](const redisReply*) {});
  // The first command also starts the connect (hiredis connects on the first write event).
  command({"PING"}, [weak = weak_from_this()](const redisReply* reply) {
    auto self = weak.lock();
    if (!self || !reply || self->is_up_) return;
    if (reply->type == REDIS_REPLY_ERROR) return self->finish(std::string("PING: ") + reply->str);
    self->is_up_ = true;
    self->deadline_.cancel();
    if (self->up_) self->up_();
  });
}

bool RedisLink::command(const std::vector<std::string>& argv, ReplyHandler handler) {
  if (!context_) return false;
  auto owned = std::make_unique<ReplyHandler>(std::move(handler));
  if (!send_argv(context_, &run_once, owned.get(), argv)) return false;
  owned.release();  // run_once frees it
  return true;
}

bool RedisLink::subscribe(const std::string& channel, ReplyHandler handler) {
  if (!context_) return false;
  subscriptions_.push_back(std::make_unique<ReplyHandler>(std::move(handler)));
  return send_argv(context_, &run_subscription, subscriptions_.back().get(), {"SUBSCRIBE", channel});
}

void RedisLink::on_connect_callback(const redisAsyncContext* context, int status) {
  auto* self = static_cast<RedisLink*>(context->data);
  if (!self || status == REDIS_OK) return;
  // hiredis frees the context after this callback.
  self->context_ = nullptr;
  self->finish(context->errstr ? context->errstr : "connect failed");
}

void RedisLink::on_disconnect_callback(const redisAsyncContext* context, int status) {
  auto* self = static_cast<RedisLink*>(context->data);
  if (!self) return;
  self->context_ = nullptr;  // hiredis frees it after this callback
  self->finish(status == REDIS_OK ? "closed" : (context->errstr ? context->errstr : "connection lost"));
}

void RedisLink::finish(const std::string& reason) {
  is_up_ = false;
  deadline_.cancel();
  if (context_) {
    auto* context = context_;
    context_ = nullptr;
    context->data = nullptr;
    redisAsyncFree(context);  // pending handlers run now, with nullptr
  }
  auto down = std::move(down_);
  down_ = nullptr;
  up_ = nullptr;
  if (down) down(reason);
}

void RedisLink::close() {
  down_ = nullptr;
  up_ = nullptr;
  finish("closed by us");
}

}  // namespace sb::backplane
