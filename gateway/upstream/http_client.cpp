#include "upstream/http_client.hpp"

#include <sys/socket.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <optional>

#include "common/log.hpp"

namespace sb::upstream {

namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = boost::asio::ip::tcp;
using Clock = std::chrono::steady_clock;

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

struct ParsedUrl {
  std::string host, port, target;
  std::string key() const { return host + ":" + port; }
};

// Templates are validated at start-up to be http://; this only splits the expanded URL.
std::optional<ParsedUrl> parse_http_url(std::string_view url) {
  if (url.substr(0, 7) != "http://") return std::nullopt;
  url.remove_prefix(7);
  auto slash = url.find_first_of("/?");
  auto authority = url.substr(0, slash);
  ParsedUrl out;
  out.target = slash == std::string_view::npos ? "/" : std::string(url.substr(slash));
  if (!out.target.empty() && out.target[0] == '?') out.target.insert(0, "/");
  if (!authority.empty() && authority[0] == '[') {
    auto close = authority.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    out.host = std::string(authority.substr(1, close - 1));
    auto rest = authority.substr(close + 1);
    out.port = rest.size() > 1 && rest[0] == ':' ? std::string(rest.substr(1)) : "80";
  } else {
    auto colon = authority.rfind(':');
    out.host = std::string(authority.substr(0, colon));
    out.port = colon == std::string_view::npos ? "80" : std::string(authority.substr(colon + 1));
  }
  if (out.host.empty()) return std::nullopt;
  return out;
}

// True when the pooled socket's peer has already closed it (a readable EOF), so it must not be reused.
bool peer_has_closed(tcp::socket& socket) {
  char byte;
  ssize_t n = ::recv(socket.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
}

}  // namespace

// Idle keep-alive sockets per host. A sweep runs every second while any socket is idle and closes those
// past `max_idle` or already closed by the function, so a pool nobody draws from gives its descriptors
// back instead of holding them (in CLOSE_WAIT) until the next call to that host.
struct HttpClient::Pool : std::enable_shared_from_this<HttpClient::Pool> {
  struct Idle {
    beast::tcp_stream stream;
    Clock::time_point since;
  };
  Pool(boost::asio::any_io_executor executor, std::chrono::milliseconds max_idle_time)
      : resolver(executor), sweeper(executor), max_idle(max_idle_time) {}

  std::optional<beast::tcp_stream> take(const std::string& key) {
    auto it = idle.find(key);
    if (it == idle.end()) return std::nullopt;
    auto now = Clock::now();
    while (!it->second.empty()) {
      Idle entry = std::move(it->second.back());
      it->second.pop_back();
      if (now - entry.since < max_idle && !peer_has_closed(entry.stream.socket())) return std::move(entry.stream);
    }
    return std::nullopt;
  }

  void give(const std::string& key, beast::tcp_stream stream) {
    auto& list = idle[key];
    if (list.size() >= 256) return;  // more idle sockets than that to one function is waste
    list.push_back({std::move(stream), Clock::now()});
    if (!is_sweeping) arm_sweep();
  }

  void arm_sweep() {
    is_sweeping = true;
    sweeper.expires_after(std::chrono::seconds(1));
    // Weak: the timer must not keep the pool (and its sockets) alive once the client is gone.
    sweeper.async_wait([weak = weak_from_this()](boost::system::error_code ec) {
      auto self = weak.lock();
      if (ec || !self) return;
      self->is_sweeping = false;
      self->sweep();
    });
  }

  void sweep() {
    auto now = Clock::now();
    for (auto it = idle.begin(); it != idle.end();) {
      // tcp_stream can be moved but not move-assigned, so the survivors go to a new list.
      std::vector<Idle> kept;
      for (auto& entry : it->second) {
        if (now - entry.since < max_idle && !peer_has_closed(entry.stream.socket())) kept.push_back(std::move(entry));
      }
      it->second.clear();  // closes the rest
      if (kept.empty()) {
        it = idle.erase(it);
      } else {
        it->second = std::move(kept);
        ++it;
      }
    }
    if (!idle.empty()) arm_sweep();
  }

  std::unordered_map<std::string, std::vector<Idle>> idle;
  std::unordered_map<std::string, tcp::resolver::results_type> resolved;
  tcp::resolver resolver;
  boost::asio::steady_timer sweeper;
  std::chrono::milliseconds max_idle;
  bool is_sweeping = false;
};

namespace {

class Call : public std::enable_shared_from_this<Call> {
 public:
  using Done = std::function<void(CallOutcome, HttpResponse)>;

  Call(boost::asio::any_io_executor executor, std::shared_ptr<HttpClient::Pool> pool, const HttpClientLimits& limits,
       ParsedUrl url, UpstreamRequest request, Done done)
      : executor_(std::move(executor)),
        pool_(std::move(pool)),
        limits_(limits),
        url_(std::move(url)),
        done_(std::move(done)),
        deadline_(Clock::now() + limits.timeout) {
    request_.method(http::verb::post);
    request_.target(url_.target);
    request_.version(11);
    request_.set(http::field::host, url_.host + (url_.port == "80" ? "" : ":" + url_.port));
    request_.set(http::field::user_agent, "switchboard");
    request_.set(http::field::content_type, request.content_type);
    for (auto& [name, value] : request.headers) request_.set(name, value);
    request_.body() = std::move(request.body);
    request_.keep_alive(true);
    request_.prepare_payload();
  }

  void start() {
    if (auto pooled = pool_->take(url_.key())) {
      stream_.emplace(std::move(*pooled));
      is_reused_ = true;
      return do_write();
    }
    is_reused_ = false;
    stream_.emplace(executor_);
    auto cached = pool_->resolved.find(url_.key());
    if (cached != pool_->resolved.end()) return do_connect(cached->second);
    pool_->resolver.async_resolve(url_.host, url_.port,
                                  [self = shared_from_this()](beast::error_code ec, tcp::resolver::results_type results) {
                                    if (ec) return self->finish(CallOutcome::connect_failed, "resolve: " + ec.message());
                                    self->pool_->resolved[self->url_.key()] = results;
                                    self->do_connect(results);
                                  });
  }

 private:
  void do_connect(const tcp::resolver::results_type& endpoints) {
    stream_->expires_at(deadline_);
    stream_->async_connect(endpoints, [self = shared_from_this()](beast::error_code ec, const tcp::endpoint&) {
      if (ec == beast::error::timeout) return self->finish(CallOutcome::timeout, "connect timed out");
      if (ec) {
        self->pool_->resolved.erase(self->url_.key());  // maybe the address moved
        return self->finish(CallOutcome::connect_failed, "connect: " + ec.message());
      }
      beast::error_code ignored;  // a peer that reset already fails the write next, with its own error
      self->stream_->socket().set_option(tcp::no_delay(true), ignored);
      self->do_write();
    });
  }

  void do_write() {
    stream_->expires_at(deadline_);
    http::async_write(*stream_, request_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec) return self->on_failure(ec, "write");
      self->do_read();
    });
  }

  void do_read() {
    parser_.emplace();
    parser_->body_limit(limits_.max_response_bytes);
    parser_->header_limit(64 * 1024);
    stream_->expires_at(deadline_);
    http::async_read(*stream_, buffer_, *parser_, [self = shared_from_this()](beast::error_code ec, std::size_t bytes) {
      if (ec) return self->on_failure(ec, "read", bytes);
      self->on_response();
    });
  }

  void on_failure(beast::error_code ec, std::string_view step, std::size_t bytes_read = 0) {
    if (ec == beast::error::timeout) return finish(CallOutcome::timeout, std::string(step) + " timed out");
    if (ec == http::error::body_limit) return finish(CallOutcome::response_too_large, "reply over the size limit");
    // A pooled connection the server closed while idle: the request could not be written, so nothing of
    // ours was processed; start afresh once. A read that fails after the whole request was written is not
    // retried here: the function may have read and acted on it (then died), and a message must reach it at
    // most once (docs/upstream.md). ReliableUpstream retries what may be retried.
    bool stale = is_reused_ && !has_retried_ && step == "write" && bytes_read == 0 &&
                 (ec == http::error::end_of_stream || ec == boost::asio::error::eof ||
                  ec == boost::asio::error::connection_reset || ec == boost::asio::error::broken_pipe);
    if (stale) {
      has_retried_ = true;
      beast::error_code ignored;
      stream_->socket().close(ignored);
      stream_.reset();
      buffer_.clear();
      return start_fresh();
    }
    finish(CallOutcome::network_error, std::string(step) + ": " + ec.message());
  }

  void start_fresh() {
    // Skip the pool: take() could hand back another stale socket.
    stream_.emplace(executor_);
    is_reused_ = false;
    auto cached = pool_->resolved.find(url_.key());
    if (cached != pool_->resolved.end()) return do_connect(cached->second);
    start();
  }

  void on_response() {
    auto& message = parser_->get();
    HttpResponse response;
    response.status = static_cast<int>(message.result_int());
    response.content_type = std::string(message[http::field::content_type]);
    response.body = std::move(message.body());
    if (message.keep_alive() && buffer_.size() == 0) {
      stream_->expires_never();
      pool_->give(url_.key(), std::move(*stream_));
    }
    stream_.reset();
    auto done = std::move(done_);
    done(CallOutcome::ok, std::move(response));
  }

  void finish(CallOutcome outcome, std::string detail) {
    if (stream_) {
      beast::error_code ignored;
      stream_->socket().close(ignored);
    }
    HttpResponse response;
    response.error_detail = std::move(detail);
    auto done = std::move(done_);
    done(outcome, std::move(response));
  }

  boost::asio::any_io_executor executor_;
  std::shared_ptr<HttpClient::Pool> pool_;
  HttpClientLimits limits_;
  ParsedUrl url_;
  Done done_;
  Clock::time_point deadline_;
  http::request<http::string_body> request_;
  std::optional<beast::tcp_stream> stream_;
  beast::flat_buffer buffer_;
  std::optional<http::response_parser<http::string_body>> parser_;
  bool is_reused_ = false;
  bool has_retried_ = false;
};

}  // namespace

HttpClient::HttpClient(boost::asio::any_io_executor executor, HttpClientLimits limits)
    : executor_(std::move(executor)), limits_(limits), pool_(std::make_shared<Pool>(executor_, limits.max_idle)) {}

HttpClient::~HttpClient() { *alive_ = false; }

void HttpClient::post(UpstreamRequest request, Callback callback) {
  if (waiting_.size() >= limits_.max_waiting) {
    HttpResponse response;
    response.error_detail = "too many upstream requests waiting";
    return boost::asio::post(executor_, [callback = std::move(callback), response = std::move(response)]() mutable {
      callback(CallOutcome::overloaded, std::move(response));
    });
  }
  waiting_.emplace_back(std::move(request), std::move(callback));
  start_next();
}

void HttpClient::start_next() {
  while (in_flight_ < limits_.max_in_flight && !waiting_.empty()) {
    auto [request, callback] = std::move(waiting_.front());
    waiting_.pop_front();
    auto url = parse_http_url(request.url);
    if (!url) {
      HttpResponse response;
      response.error_detail = "not an http:// URL";
      callback(CallOutcome::invalid_url, std::move(response));
      continue;
    }
    ++in_flight_;
    auto done = [this, alive = std::weak_ptr<bool>(alive_), callback = std::move(callback)](CallOutcome outcome,
                                                                                           HttpResponse response) {
      // The client belongs to the thread's shard, which outlives every call it starts unless the
      // process is shutting down; `alive` covers that case.
      auto is_alive = alive.lock();
      if (!is_alive || !*is_alive) return;
      --in_flight_;
      callback(outcome, std::move(response));
      start_next();
    };
    std::make_shared<Call>(executor_, pool_, limits_, std::move(*url), std::move(request), std::move(done))->start();
  }
}

}  // namespace sb::upstream
