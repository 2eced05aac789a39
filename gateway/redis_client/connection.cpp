#include "redis_client/connection.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>

namespace sb::redis {

namespace asio = boost::asio;
using boost::system::error_code;

namespace {

constexpr std::size_t read_chunk = 64 * 1024;

}  // namespace

Connection::Connection(asio::io_context& io, ConnectionOptions options)
    : io_(io), options_(std::move(options)), resolver_(io), deadline_(io) {}

Connection::~Connection() {
  up_ = nullptr;
  down_ = nullptr;
  // Handlers are not called from a destructor: the owner is going away.
  pending_.clear();
  if (!is_done_) {
    is_done_ = true;
    error_code ignored;
    socket().close(ignored);
  }
}

Connection::tcp::socket& Connection::socket() {
  if (tls_) return tls_->next_layer();
  if (!plain_) plain_ = std::make_unique<tcp::socket>(io_);
  return *plain_;
}

void Connection::connect(std::chrono::milliseconds timeout, Up up, Down down) {
  up_ = std::move(up);
  down_ = std::move(down);
  if (options_.tls) tls_ = std::make_unique<asio::ssl::stream<tcp::socket>>(io_, options_.tls->native());
  else plain_ = std::make_unique<tcp::socket>(io_);
  queue_handshake_commands();
  deadline_.expires_after(timeout);
  deadline_.async_wait([weak = weak_from_this()](error_code ec) {
    auto self = weak.lock();
    if (ec || !self || self->is_up_ || self->is_done_) return;
    self->finish("connect timed out");
  });
  // Socket and stream operations hold the connection (a strong reference): Asio's composed operations
  // (the range connect, TLS, write) use their socket until they complete, cancelled or not.
  resolver_.async_resolve(options_.host, std::to_string(options_.port),
                          [self = shared_from_this()](error_code ec, const tcp::resolver::results_type& results) {
                            if (self->is_done_) return;
                            if (ec) return self->finish("cannot resolve " + self->options_.host + ": " + ec.message());
                            self->on_resolved(results);
                          });
}

void Connection::queue_handshake_commands() {
  auto fail_on_error = [weak = weak_from_this()](std::string what) {
    return [weak, what = std::move(what)](const Reply* reply) {
      auto self = weak.lock();
      if (self && reply && reply->is_error()) self->finish(what + ": " + reply->text);
    };
  };
  if (!options_.password.empty()) {
    if (options_.username.empty()) command({"AUTH", options_.password}, fail_on_error("AUTH"));
    else command({"AUTH", options_.username, options_.password}, fail_on_error("AUTH"));
  }
  if (options_.database != 0) command({"SELECT", std::to_string(options_.database)}, fail_on_error("SELECT"));
  if (options_.require_master)
    command({"ROLE"}, [weak = weak_from_this()](const Reply* reply) {
      auto self = weak.lock();
      if (!self || !reply) return;
      if (!reply->is_array() || reply->size() == 0 || reply->element(0)->text != "master")
        self->finish("not the master (" + (reply->is_array() && reply->size() > 0 ? reply->element(0)->text : "no role") +
                     ")");
    });
  command({"PING"}, [weak = weak_from_this()](const Reply* reply) {
    auto self = weak.lock();
    if (!self || !reply || self->is_up_ || self->is_done_) return;
    if (reply->is_error()) return self->finish("PING: " + reply->text);
    self->is_up_ = true;
    self->deadline_.cancel();
    if (self->up_) self->up_();
  });
}

void Connection::on_resolved(const tcp::resolver::results_type& results) {
  asio::async_connect(socket(), results, [self = shared_from_this()](error_code ec, const tcp::endpoint&) {
    if (self->is_done_) return;
    if (ec) return self->finish("cannot connect to " + self->options_.host + ":" + std::to_string(self->options_.port) +
                                ": " + ec.message());
    self->on_connected();
  });
}

void Connection::on_connected() {
  error_code ignored;
  socket().set_option(tcp::no_delay(true), ignored);
  socket().set_option(asio::socket_base::keep_alive(true), ignored);
  if (!tls_) return handshake_done();
  // SNI and the name check: the certificate must name the host we were given (or its IP address).
  if (auto error = tls_client::prepare_connection(tls_->native_handle(), options_.host))
    return finish("TLS with " + options_.host + ": " + *error);
  tls_->async_handshake(asio::ssl::stream_base::client, [self = shared_from_this()](error_code ec) {
    if (self->is_done_) return;
    if (ec) {
      auto where = self->options_.host + ":" + std::to_string(self->options_.port);
      return self->finish("TLS handshake: " + tls_client::describe_failure(self->tls_->native_handle(), ec, where));
    }
    self->handshake_done();
  });
}

void Connection::handshake_done() {
  is_ready_ = true;
  in_.resize(read_chunk);
  start_reading();
  start_writing();
}

bool Connection::command(const std::vector<std::string>& argv, ReplyHandler handler) {
  if (is_done_) return false;
  append_command(out_, argv);
  pending_.push_back({std::move(handler), {}});
  start_writing();
  return true;
}

bool Connection::subscribe(const std::string& channel, ReplyHandler handler) {
  if (is_done_) return false;
  subscriptions_[channel] = std::make_shared<ReplyHandler>(std::move(handler));
  append_command(out_, {"SUBSCRIBE", channel});
  pending_.push_back({nullptr, channel});
  start_writing();
  return true;
}

void Connection::start_writing() {
  if (!is_ready_ || is_writing_ || out_.empty() || is_done_) return;
  is_writing_ = true;
  writing_.swap(out_);
  auto on_written = [self = shared_from_this()](error_code ec, std::size_t) {
    if (self->is_done_) return;
    self->is_writing_ = false;
    self->writing_.clear();
    if (ec) return self->finish("write: " + ec.message());
    self->start_writing();
  };
  if (tls_) asio::async_write(*tls_, asio::buffer(writing_), std::move(on_written));
  else asio::async_write(*plain_, asio::buffer(writing_), std::move(on_written));
}

void Connection::start_reading() {
  auto on_read = [self = shared_from_this()](error_code ec, std::size_t n) {
    if (self->is_done_) return;
    if (ec) return self->finish(ec == asio::error::eof ? "closed by Redis" : "read: " + ec.message());
    bool ok = self->parser_.feed(std::string_view(self->in_.data(), n), [&](Reply&& reply) {
      if (!self->is_done_) self->on_reply(std::move(reply));
    });
    if (self->is_done_) return;
    if (!ok) return self->finish("protocol error: " + self->parser_.error());
    self->start_reading();
  };
  if (tls_) tls_->async_read_some(asio::buffer(in_), std::move(on_read));
  else plain_->async_read_some(asio::buffer(in_), std::move(on_read));
}

void Connection::on_reply(Reply&& reply) {
  // Pushed messages of a subscription come between replies; everything else answers the oldest command.
  if (!subscriptions_.empty() && reply.is_array() && reply.size() >= 3 && reply.element(0)->text == "message") {
    if (auto it = subscriptions_.find(reply.element(1)->text); it != subscriptions_.end()) {
      auto handler = it->second;  // kept alive while it runs
      (*handler)(&reply);
    }
    return;
  }
  if (pending_.empty()) return finish("a reply nobody asked for");
  auto next = std::move(pending_.front());
  pending_.pop_front();
  if (next.handler) {
    next.handler(&reply);
  } else if (auto it = subscriptions_.find(next.channel); it != subscriptions_.end()) {
    auto handler = it->second;
    (*handler)(&reply);
  }
  // A master demoted to replica (a failover) refuses writes: reconnect, through Sentinel when it is used.
  if (reply.is_error() && reply.text.rfind("READONLY", 0) == 0 && !is_done_) finish("the server is a replica now");
}

void Connection::finish(std::string reason) {
  if (is_done_) return;
  is_done_ = true;
  is_up_ = false;
  is_ready_ = false;
  deadline_.cancel();
  resolver_.cancel();
  error_code ignored;
  socket().shutdown(tcp::socket::shutdown_both, ignored);
  socket().close(ignored);
  auto pending = std::move(pending_);
  pending_.clear();
  for (auto& p : pending)
    if (p.handler) p.handler(nullptr);
  auto down = std::move(down_);
  down_ = nullptr;
  up_ = nullptr;
  if (down) down(reason);
}

void Connection::close() {
  down_ = nullptr;
  up_ = nullptr;
  finish("closed by us");
}

}  // namespace sb::redis
