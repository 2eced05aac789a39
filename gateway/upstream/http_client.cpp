#include "upstream/http_client.hpp"

#include <sys/socket.h>

#include <array>
#include <boost/asio/connect.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/post.hpp>
#include <cerrno>

#include "upstream/http_response_parser.hpp"

namespace sb::upstream {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;

std::string_view to_string(CallOutcome outcome) {
  switch (outcome) {
    case CallOutcome::ok: return "ok";
    case CallOutcome::invalid_url: return "invalid_url";
    case CallOutcome::connect_failed: return "connect_failed";
    case CallOutcome::timeout: return "timeout";
    case CallOutcome::network_error: return "network_error";
    case CallOutcome::response_too_large: return "response_too_large";
    case CallOutcome::overloaded: return "overloaded";
    case CallOutcome::circuit_open: return "circuit_open";
  }
  return "unknown";
}

namespace {

constexpr std::size_t max_header_bytes = 64 * 1024;
constexpr std::size_t max_idle_sockets_per_host = 256;  // more idle sockets than that to one function is waste

// Replies are read here and parsed in place; only an unfinished header or chunk line is copied out.
std::array<char, 64 * 1024>& read_scratch() {
  thread_local std::array<char, 64 * 1024> buffer;
  return buffer;
}

// True when the pooled socket's peer has already closed it (a readable EOF), so it must not be reused.
bool peer_has_closed(tcp::socket& socket) {
  char byte;
  ssize_t n = ::recv(socket.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
}

bool is_would_block(const error_code& ec) {
  return ec == asio::error::would_block || ec == asio::error::try_again;
}

}  // namespace

// Lives while an operation of its own is pending (each handler holds it); linked into the client's
// in-flight list from start to finish.
class HttpClient::Call : public std::enable_shared_from_this<HttpClient::Call> {
 public:
  Call(HttpClient& client, Url url, std::string bytes, Callback callback)
      : deadline(Clock::now() + client.limits_.timeout),
        client_(&client),
        url_(std::move(url)),
        key_(url_.origin()),
        bytes_(std::move(bytes)),
        callback_(std::move(callback)) {}

  void start() {
    if (auto pooled = client_->take_idle(key_)) {
      socket_.emplace(std::move(*pooled));
      is_reused_ = true;
      return write();
    }
    connect();
  }

  // The deadline passed: end now; the pending operation, cancelled by the close, finds the call finished.
  void expire() { finish(CallOutcome::timeout, std::string(step_) + " timed out"); }

  // The client is going away first: end without a report, so that no pending handler reaches it.
  void forget_client() {
    client_ = nullptr;
    is_finished_ = true;
    if (socket_) {
      error_code ignored;
      socket_->close(ignored);
    }
  }

  Call* older = nullptr;
  Call* newer = nullptr;
  const Clock::time_point deadline;

 private:
  void connect() {
    is_reused_ = false;
    step_ = "connect";
    socket_.emplace(client_->executor_);
    auto cached = client_->resolved_.find(key_);
    if (cached != client_->resolved_.end()) return do_connect(cached->second);
    step_ = "resolve";
    client_->resolver_.async_resolve(url_.host, std::to_string(url_.port),
                                     [self = shared_from_this()](error_code ec, tcp::resolver::results_type results) {
                                       if (self->is_finished_) return;
                                       if (ec)
                                         return self->finish(CallOutcome::connect_failed, "resolve: " + ec.message());
                                       self->client_->resolved_[self->key_] = results;
                                       self->step_ = "connect";
                                       self->do_connect(results);
                                     });
  }

  void do_connect(const tcp::resolver::results_type& endpoints) {
    asio::async_connect(*socket_, endpoints, [self = shared_from_this()](error_code ec, const tcp::endpoint&) {
      if (self->is_finished_) return;
      if (ec) {
        self->client_->resolved_.erase(self->key_);  // maybe the address moved
        return self->finish(CallOutcome::connect_failed, "connect: " + ec.message());
      }
      error_code ignored;  // a peer that reset already fails the write next, with its own error
      self->socket_->set_option(tcp::no_delay(true), ignored);
      self->socket_->non_blocking(true, ignored);
      self->write();
    });
  }

  // Writes from the loop while the kernel takes bytes; waits for room only when it doesn't.
  void write() {
    step_ = "write";
    while (written_ < bytes_.size()) {
      error_code ec;
      auto n = socket_->write_some(asio::buffer(bytes_.data() + written_, bytes_.size() - written_), ec);
      if (is_would_block(ec)) {
        socket_->async_wait(tcp::socket::wait_write, [self = shared_from_this()](error_code wait_ec) {
          if (self->is_finished_) return;
          if (wait_ec) return self->on_write_failure(wait_ec);
          self->write();
        });
        return;
      }
      if (ec) return on_write_failure(ec);
      written_ += n;
    }
    wait_reply();
  }

  void on_write_failure(const error_code& ec) {
    // A pooled connection the function closed while idle: it can't have acted on a request it didn't
    // receive whole, so start afresh once, on a new connection (the pool could hand back another stale
    // one). A read that fails after the whole request was written is not retried here: the function may
    // have read and acted on it (then died), and a message must reach it at most once
    // (docs/upstream.md). ReliableUpstream retries what may be retried.
    bool is_stale = is_reused_ && !has_retried_ &&
                    (ec == asio::error::eof || ec == asio::error::connection_reset || ec == asio::error::broken_pipe);
    if (!is_stale) return finish(CallOutcome::network_error, "write: " + ec.message());
    has_retried_ = true;
    error_code ignored;
    socket_->close(ignored);
    written_ = 0;
    connect();
  }

  void wait_reply() {
    step_ = "read";
    socket_->async_wait(tcp::socket::wait_read, [self = shared_from_this()](error_code ec) {
      if (self->is_finished_) return;
      if (ec) return self->finish(CallOutcome::network_error, "read: " + ec.message());
      self->read_reply();
    });
  }

  void read_reply() {
    if (!parser_) parser_.emplace(client_->limits_.max_response_bytes, max_header_bytes);
    auto& scratch = read_scratch();
    for (;;) {
      error_code ec;
      auto n = socket_->read_some(asio::buffer(scratch), ec);
      if (is_would_block(ec)) return wait_reply();
      if (ec == asio::error::eof) {
        parser_->feed_eof();
        return on_parsed(true);
      }
      if (ec) return finish(CallOutcome::network_error, "read: " + ec.message());
      std::string_view chunk(scratch.data(), n);
      if (unparsed_.empty()) {
        auto used = parser_->feed(chunk);
        if (used < chunk.size()) unparsed_.assign(chunk.substr(used));
      } else {
        unparsed_.append(chunk);
        unparsed_.erase(0, parser_->feed(unparsed_));
      }
      if (parser_->state() != HttpResponseParser::State::need_more) return on_parsed(false);
    }
  }

  void on_parsed(bool has_peer_closed) {
    if (parser_->state() == HttpResponseParser::State::failed) {
      if (parser_->is_body_too_large()) return finish(CallOutcome::response_too_large, "reply over the size limit");
      return finish(CallOutcome::network_error, "read: " + std::string(parser_->error()));
    }
    HttpResponse response;
    response.status = parser_->status();
    response.content_type = std::move(parser_->content_type());
    response.body = std::move(parser_->body());
    // Bytes after the reply would belong to no request: such a connection isn't reused.
    if (parser_->keep_alive() && !has_peer_closed && unparsed_.empty()) {
      client_->give_idle(key_, std::move(*socket_));
      socket_.reset();
    }
    finish(CallOutcome::ok, std::move(response));
  }

  void finish(CallOutcome outcome, std::string detail) {
    HttpResponse response;
    response.error_detail = std::move(detail);
    finish(outcome, std::move(response));
  }

  void finish(CallOutcome outcome, HttpResponse response) {
    if (is_finished_) return;
    is_finished_ = true;
    if (socket_) {
      error_code ignored;
      socket_->close(ignored);  // cancels what is pending; those handlers find the call finished
    }
    if (!client_) return;
    auto* client = client_;
    client_ = nullptr;
    client->unlink(*this);
    --client->in_flight_;
    auto callback = std::move(callback_);
    callback(outcome, std::move(response));
    client->start_next();
  }

  HttpClient* client_;
  Url url_;
  std::string key_;
  std::string bytes_;
  Callback callback_;
  std::optional<tcp::socket> socket_;
  std::optional<HttpResponseParser> parser_;
  std::string unparsed_;  // received, not yet parsed: the start of a header or chunk line
  std::size_t written_ = 0;
  const char* step_ = "connect";
  bool is_reused_ = false;
  bool has_retried_ = false;
  bool is_finished_ = false;
};

HttpClient::HttpClient(asio::any_io_executor executor, HttpClientLimits limits)
    : executor_(std::move(executor)),
      limits_(limits),
      deadline_timer_(executor_),
      idle_sweeper_(executor_),
      resolver_(executor_) {}

HttpClient::~HttpClient() {
  for (auto* call = oldest_; call; call = call->newer) call->forget_client();
}

void HttpClient::post(const UpstreamRequest& request, Callback callback) {
  if (waiting_.size() >= limits_.max_waiting) {
    HttpResponse response;
    response.error_detail = "too many upstream requests waiting";
    return asio::post(executor_, [callback = std::move(callback), response = std::move(response)]() mutable {
      callback(CallOutcome::overloaded, std::move(response));
    });
  }
  // Plain HTTP only, for now: https:// templates are refused at start-up.
  std::optional<Url> url;
  if (request.url && request.url->scheme == "http") url = request.url;
  std::string bytes = url ? format_http_request(*url, request) : std::string();
  waiting_.push_back({std::move(url), std::move(bytes), std::move(callback)});
  start_next();
}

void HttpClient::start_next() {
  while (in_flight_ < limits_.max_in_flight && !waiting_.empty()) {
    Waiting next = std::move(waiting_.front());
    waiting_.pop_front();
    if (!next.url) {
      HttpResponse response;
      response.error_detail = "not an http:// URL";
      next.callback(CallOutcome::invalid_url, std::move(response));
      continue;
    }
    ++in_flight_;
    auto call = std::make_shared<Call>(*this, std::move(*next.url), std::move(next.bytes), std::move(next.callback));
    link(*call);
    call->start();
  }
}

void HttpClient::link(Call& call) {
  call.older = newest_;
  call.newer = nullptr;
  if (newest_) newest_->newer = &call;
  newest_ = &call;
  if (!oldest_) oldest_ = &call;
  if (!is_deadline_timer_armed_) arm_deadline_timer();
}

void HttpClient::unlink(Call& call) {
  if (call.older)
    call.older->newer = call.newer;
  else
    oldest_ = call.newer;
  if (call.newer)
    call.newer->older = call.older;
  else
    newest_ = call.older;
  call.older = call.newer = nullptr;
}

void HttpClient::arm_deadline_timer() {
  is_deadline_timer_armed_ = true;
  deadline_timer_.expires_at(oldest_->deadline);
  deadline_timer_.async_wait([this](error_code ec) {
    is_deadline_timer_armed_ = false;
    if (ec) return;
    expire_overdue();
  });
}

void HttpClient::expire_overdue() {
  auto now = Clock::now();
  while (oldest_ && oldest_->deadline <= now) {
    auto keep = oldest_->shared_from_this();  // expire() may drop the last other reference
    keep->expire();
  }
  if (oldest_ && !is_deadline_timer_armed_) arm_deadline_timer();
}

std::optional<tcp::socket> HttpClient::take_idle(const std::string& key) {
  auto it = idle_.find(key);
  if (it == idle_.end()) return std::nullopt;
  auto now = Clock::now();
  auto& sockets = it->second;
  while (!sockets.empty()) {
    IdleSocket entry = std::move(sockets.back());
    sockets.pop_back();
    if (now - entry.since < limits_.max_idle && !peer_has_closed(entry.socket)) return std::move(entry.socket);
  }
  return std::nullopt;
}

void HttpClient::give_idle(const std::string& key, tcp::socket socket) {
  auto& sockets = idle_[key];
  if (sockets.size() >= max_idle_sockets_per_host) return;
  sockets.push_back({std::move(socket), Clock::now()});
  if (!is_idle_sweep_armed_) arm_idle_sweep();
}

// Every second while any socket is idle: close those past `max_idle` or already closed by the function,
// so a pool nobody draws from gives its descriptors back instead of holding them (in CLOSE_WAIT).
void HttpClient::arm_idle_sweep() {
  is_idle_sweep_armed_ = true;
  idle_sweeper_.expires_after(std::chrono::seconds(1));
  idle_sweeper_.async_wait([this](error_code ec) {
    is_idle_sweep_armed_ = false;
    if (!ec) sweep_idle();
  });
}

void HttpClient::sweep_idle() {
  auto now = Clock::now();
  for (auto it = idle_.begin(); it != idle_.end();) {
    auto& sockets = it->second;
    std::erase_if(sockets, [&](IdleSocket& entry) {
      return now - entry.since >= limits_.max_idle || peer_has_closed(entry.socket);  // erasing closes it
    });
    it = sockets.empty() ? idle_.erase(it) : std::next(it);
  }
  if (!idle_.empty()) arm_idle_sweep();
}

}  // namespace sb::upstream
