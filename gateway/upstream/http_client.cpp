#include "upstream/http_client.hpp"

#include <sys/socket.h>

#include <openssl/ssl.h>

#include <array>
#include <boost/asio/connect.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/write.hpp>
#include <cerrno>

#include "common/metrics.hpp"
#include "tls_client/client_tls_context.hpp"
#include "upstream/http_response_parser.hpp"

namespace sb::upstream {

namespace asio = boost::asio;
namespace ssl = asio::ssl;
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
    case CallOutcome::tls_failed: return "tls_failed";
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

// One TLS record's worth of plaintext at most comes out of one read.
constexpr std::size_t tls_read_bytes = 16 * 1024;

bool is_would_block(const error_code& ec) {
  return ec == asio::error::would_block || ec == asio::error::try_again;
}

}  // namespace

// A connection to one function: a TCP socket, or a TLS stream over one. Pooled between calls; a TLS
// one keeps its own read buffer (a read completes into it after the loop has moved on, so the
// thread's shared scratch can't serve).
class HttpClient::Connection {
 public:
  explicit Connection(const asio::any_io_executor& executor) : plain_(std::in_place, executor) {}
  Connection(const asio::any_io_executor& executor, ssl::context& context)
      : tls_(std::in_place, executor, context), tls_buffer_(std::make_unique<char[]>(tls_read_bytes)) {}

  tcp::socket& socket() { return tls_ ? tls_->next_layer() : *plain_; }
  bool is_tls() const { return tls_.has_value(); }
  ssl::stream<tcp::socket>& tls() { return *tls_; }
  asio::mutable_buffer tls_buffer() { return asio::buffer(tls_buffer_.get(), tls_read_bytes); }
  const char* tls_data() const { return tls_buffer_.get(); }

  // TLS: the function asked for a client certificate in the handshake (tls_client::watch_certificate_request).
  bool is_certificate_requested = false;

  // May an idle connection carry another request? Not once the function closed it (a readable EOF).
  // Over TLS, not when anything at all is waiting either: on an idle connection that is a close_notify
  // or bytes no request asked for.
  bool is_reusable() {
    char byte;
    ssize_t n = ::recv(socket().native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK;
    return n > 0 && !is_tls();
  }

 private:
  std::optional<tcp::socket> plain_;
  std::optional<ssl::stream<tcp::socket>> tls_;
  std::unique_ptr<char[]> tls_buffer_;
};

// Lives while an operation of its own is pending (each handler holds it); linked into the client's
// in-flight list from start to finish.
class HttpClient::Call : public std::enable_shared_from_this<HttpClient::Call> {
 public:
  Call(HttpClient& client, Url url, std::string bytes, std::shared_ptr<const tls_client::ClientTlsContext> tls,
       Callback callback)
      : deadline(Clock::now() + client.limits_.timeout),
        client_(&client),
        url_(std::move(url)),
        key_(url_.origin()),
        bytes_(std::move(bytes)),
        tls_(std::move(tls)),
        callback_(std::move(callback)) {}

  void start() {
    if (auto pooled = client_->take_idle(key_)) {
      connection_ = std::move(pooled);
      is_reused_ = true;
      return send();
    }
    connect();
  }

  // The deadline passed: end now; the pending operation, cancelled by the close, finds the call finished.
  void expire() { finish(CallOutcome::timeout, std::string(step_) + " timed out"); }

  // The client is going away first: end without a report, so that no pending handler reaches it.
  void forget_client() {
    client_ = nullptr;
    is_finished_ = true;
    if (connection_) {
      error_code ignored;
      connection_->socket().close(ignored);
    }
  }

  Call* older = nullptr;
  Call* newer = nullptr;
  const Clock::time_point deadline;

 private:
  void connect() {
    is_reused_ = false;
    step_ = "connect";
    connection_ = tls_ ? std::make_unique<Connection>(client_->executor_, tls_->native())
                       : std::make_unique<Connection>(client_->executor_);
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
    asio::async_connect(connection_->socket(), endpoints,
                        [self = shared_from_this()](error_code ec, const tcp::endpoint&) {
                          if (self->is_finished_) return;
                          if (ec) {
                            self->client_->resolved_.erase(self->key_);  // maybe the address moved
                            return self->finish(CallOutcome::connect_failed, "connect: " + ec.message());
                          }
                          error_code ignored;  // a peer that reset already fails the write next, with its own error
                          self->connection_->socket().set_option(tcp::no_delay(true), ignored);
                          if (self->connection_->is_tls()) return self->handshake();
                          self->connection_->socket().non_blocking(true, ignored);
                          self->write();
                        });
  }

  void send() {
    if (connection_->is_tls()) return write_tls();
    write();
  }

  // Writes from the loop while the kernel takes bytes; waits for room only when it doesn't.
  void write() {
    step_ = "write";
    auto& socket = connection_->socket();
    while (written_ < bytes_.size()) {
      error_code ec;
      auto n = socket.write_some(asio::buffer(bytes_.data() + written_, bytes_.size() - written_), ec);
      if (is_would_block(ec)) {
        socket.async_wait(tcp::socket::wait_write, [self = shared_from_this()](error_code wait_ec) {
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
    connection_->socket().close(ignored);
    written_ = 0;
    connect();
  }

  void wait_reply() {
    step_ = "read";
    connection_->socket().async_wait(tcp::socket::wait_read, [self = shared_from_this()](error_code ec) {
      if (self->is_finished_) return;
      if (ec) return self->finish(CallOutcome::network_error, "read: " + ec.message());
      self->read_reply();
    });
  }

  void read_reply() {
    auto& scratch = read_scratch();
    for (;;) {
      error_code ec;
      auto n = connection_->socket().read_some(asio::buffer(scratch), ec);
      if (is_would_block(ec)) return wait_reply();
      if (ec == asio::error::eof) {
        parser().feed_eof();
        return on_parsed(true);
      }
      if (ec) return finish(CallOutcome::network_error, "read: " + ec.message());
      if (consume(std::string_view(scratch.data(), n))) return on_parsed(false);
    }
  }

  // TLS: the verified handshake of a new connection (SNI, the certificate's name or address), offering
  // the function's last session. Asio's asynchronous operations throughout: its synchronous ones would
  // lose engine output on a non-blocking socket that takes only part of it.
  void handshake() {
    step_ = "handshake";
    SSL* native = connection_->tls().native_handle();
    if (auto problem = tls_client::prepare_connection(native, url_.host))
      return finish(CallOutcome::tls_failed, *problem + " (host " + host_port() + ")");
    client_->sessions_.offer(key_, native);
    tls_client::watch_certificate_request(native, &connection_->is_certificate_requested);
    connection_->tls().async_handshake(ssl::stream_base::client, [self = shared_from_this()](error_code ec) {
      if (self->is_finished_) return;
      if (ec) return self->on_tls_failure(ec);
      self->has_handshaken_ = true;
      bool is_resumed = SSL_session_reused(self->connection_->tls().native_handle()) == 1;
      metrics().upstream_tls_handshakes.with(is_resumed ? "resumed" : "full").inc();
      self->write_tls();
    });
  }

  // A failure at the TLS layer (OpenSSL's error category) is tls_failed: it repeats until a certificate
  // or a setting changes. Under the handshake, a socket error means the request was never sent, as for
  // a refused connect; once the request is out, it is an ordinary network error.
  void on_tls_failure(const error_code& ec) {
    if (step_ == std::string_view("handshake")) metrics().upstream_tls_handshakes.with("failed").inc();
    if (tls_client::is_tls_error(ec)) {
      client_->sessions_.forget(key_);
      return finish(CallOutcome::tls_failed,
                    std::string(step_) + ": " +
                        tls_client::describe_failure(connection_->tls().native_handle(), ec, host_port()));
    }
    if (step_ == std::string_view("handshake"))
      return finish(CallOutcome::connect_failed, "handshake: " + ec.message() + " (host " + host_port() + ")");
    // TLS 1.3 ends the client's handshake before the function has checked the client certificate: its
    // refusal is an alert after it, which a TCP reset (our request unread at the function) can overtake.
    // A new connection that asked for a certificate and then died without a byte of reply was almost
    // surely refused (a function crashing on that very request would read the same, and is rarer).
    if (has_handshaken_ && !has_received_reply_ && connection_->is_certificate_requested) {
      client_->sessions_.forget(key_);
      return finish(
          CallOutcome::tls_failed,
          std::string(step_) + ": " + ec.message() + " right after the function asked for a client certificate: " +
              (tls_->has_client_certificate() ? "ours was probably refused" : "none is configured (--upstream-cert)") +
              " (host " + host_port() + ")");
    }
    if (step_ == std::string_view("write")) return on_write_failure(ec);
    finish(CallOutcome::network_error, std::string(step_) + ": " + ec.message());
  }

  void write_tls() {
    step_ = "write";
    asio::async_write(connection_->tls(), asio::buffer(bytes_),
                      [self = shared_from_this()](error_code ec, std::size_t) {
                        if (self->is_finished_) return;
                        if (ec) return self->on_tls_failure(ec);
                        self->read_tls();
                      });
  }

  void read_tls() {
    step_ = "read";
    connection_->tls().async_read_some(connection_->tls_buffer(),
                                       [self = shared_from_this()](error_code ec, std::size_t n) {
                                         if (self->is_finished_) return;
                                         // eof is the function's close_notify. A close without one
                                         // (ssl::error::stream_truncated) is a network error: a reply delimited by the
                                         // close could have been cut short.
                                         if (ec == asio::error::eof) {
                                           self->parser().feed_eof();
                                           return self->on_parsed(true);
                                         }
                                         if (ec) return self->on_tls_failure(ec);
                                         self->has_received_reply_ = true;
                                         if (self->consume(std::string_view(self->connection_->tls_data(), n)))
                                           return self->on_parsed(false);
                                         self->read_tls();
                                       });
  }

  HttpResponseParser& parser() {
    if (!parser_) parser_.emplace(client_->limits_.max_response_bytes, max_header_bytes);
    return *parser_;
  }

  // Feeds received bytes to the parser; true once it needs no more.
  bool consume(std::string_view chunk) {
    auto& reply = parser();
    if (unparsed_.empty()) {
      auto used = reply.feed(chunk);
      if (used < chunk.size()) unparsed_.assign(chunk.substr(used));
    } else {
      unparsed_.append(chunk);
      unparsed_.erase(0, reply.feed(unparsed_));
    }
    return reply.state() != HttpResponseParser::State::need_more;
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
    bool is_reusable = parser_->keep_alive() && !has_peer_closed && unparsed_.empty();
    if (connection_->is_tls()) {
      SSL* native = connection_->tls().native_handle();
      // By now a TLS 1.3 server's session tickets have arrived (they precede the reply).
      if (has_handshaken_) client_->sessions_.remember(key_, native);
      is_reusable = is_reusable && SSL_pending(native) == 0;
    }
    // Bytes after the reply would belong to no request: such a connection isn't reused.
    if (is_reusable) client_->give_idle(key_, std::move(connection_));
    finish(CallOutcome::ok, std::move(response));
  }

  std::string host_port() const {
    return (url_.host.find(':') != std::string::npos ? "[" + url_.host + "]" : url_.host) + ":" +
           std::to_string(url_.port);
  }

  void finish(CallOutcome outcome, std::string detail) {
    HttpResponse response;
    response.error_detail = std::move(detail);
    finish(outcome, std::move(response));
  }

  void finish(CallOutcome outcome, HttpResponse response) {
    if (is_finished_) return;
    is_finished_ = true;
    if (connection_) {
      error_code ignored;
      connection_->socket().close(ignored);  // cancels what is pending; those handlers find the call finished
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
  std::shared_ptr<const tls_client::ClientTlsContext> tls_;  // https only
  Callback callback_;
  std::unique_ptr<Connection> connection_;
  std::optional<HttpResponseParser> parser_;
  std::string unparsed_;  // received, not yet parsed: the start of a header or chunk line
  std::size_t written_ = 0;
  const char* step_ = "connect";
  bool is_reused_ = false;
  bool has_retried_ = false;
  bool has_handshaken_ = false;      // this call made a new TLS session (full or resumed)
  bool has_received_reply_ = false;  // TLS: a byte of the reply came
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
  // http://, or https:// with the rule's TLS settings: never an https:// URL called unverified.
  std::optional<Url> url;
  std::shared_ptr<const tls_client::ClientTlsContext> tls;
  if (request.url && request.url->scheme == "http") {
    url = request.url;
  } else if (request.url && request.url->scheme == "https" && request.tls) {
    url = request.url;
    tls = request.tls;
  }
  std::string bytes = url ? format_http_request(*url, request) : std::string();
  waiting_.push_back({std::move(url), std::move(bytes), std::move(tls), std::move(callback)});
  start_next();
}

void HttpClient::start_next() {
  while (in_flight_ < limits_.max_in_flight && !waiting_.empty()) {
    Waiting next = std::move(waiting_.front());
    waiting_.pop_front();
    if (!next.url || next.url->is_tls() != (next.tls != nullptr)) {  // never https:// without TLS
      HttpResponse response;
      response.error_detail = "not an http:// or https:// URL the client can call";
      next.callback(CallOutcome::invalid_url, std::move(response));
      continue;
    }
    ++in_flight_;
    auto call = std::make_shared<Call>(*this, std::move(*next.url), std::move(next.bytes), std::move(next.tls),
                                       std::move(next.callback));
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

std::unique_ptr<HttpClient::Connection> HttpClient::take_idle(const std::string& key) {
  auto it = idle_.find(key);
  if (it == idle_.end()) return nullptr;
  auto now = Clock::now();
  auto& connections = it->second;
  while (!connections.empty()) {
    IdleConnection entry = std::move(connections.back());
    connections.pop_back();
    if (now - entry.since < limits_.max_idle && entry.connection->is_reusable()) return std::move(entry.connection);
  }
  return nullptr;
}

void HttpClient::give_idle(const std::string& key, std::unique_ptr<Connection> connection) {
  auto& connections = idle_[key];
  if (connections.size() >= max_idle_sockets_per_host) return;
  connections.push_back({std::move(connection), Clock::now()});
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
    auto& connections = it->second;
    std::erase_if(connections, [&](IdleConnection& entry) {
      return now - entry.since >= limits_.max_idle || !entry.connection->is_reusable();  // erasing closes it
    });
    it = connections.empty() ? idle_.erase(it) : std::next(it);
  }
  if (!idle_.empty()) arm_idle_sweep();
}

}  // namespace sb::upstream
