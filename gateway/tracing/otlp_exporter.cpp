#include "tracing/otlp_exporter.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>

#include "common/log.hpp"
#include "common/metrics.hpp"
#include "tracing/tracing_log.hpp"

namespace sb::tracing {
namespace {

namespace beast_http = boost::beast::http;
using Clock = std::chrono::steady_clock;

constexpr std::size_t max_queued = 8192;
constexpr std::size_t batch_size = 512;
constexpr auto flush_every = std::chrono::seconds(1);
constexpr auto request_timeout = std::chrono::seconds(5);

std::atomic<bool> exporting{false};

class Exporter {
 public:
  explicit Exporter(Url endpoint) : endpoint_(std::move(endpoint)) {
    if (endpoint_.path.size() < 10 || endpoint_.path.compare(endpoint_.path.size() - 10, 10, "/v1/traces") != 0)
      endpoint_.path = (endpoint_.path == "/" ? std::string() : endpoint_.path) + "/v1/traces";
    thread_ = std::thread([this] { run(); });
  }
  ~Exporter() { stop(); }

  void push(Span span) {
    {
      std::lock_guard lock(mutex_);
      if (queue_.size() >= max_queued) {
        metrics().trace_spans_dropped.inc();
        return;
      }
      queue_.push_back(std::move(span));
      if (queue_.size() < batch_size) return;
    }
    wake_.notify_one();
  }

  void stop() {
    {
      std::lock_guard lock(mutex_);
      if (is_stopping_) return;
      is_stopping_ = true;
    }
    wake_.notify_one();
    if (thread_.joinable()) thread_.join();
  }

 private:
  void run() {
    std::unique_lock lock(mutex_);
    for (;;) {
      wake_.wait_for(lock, flush_every, [this] { return is_stopping_ || queue_.size() >= batch_size; });
      while (!queue_.empty()) {
        std::vector<Span> batch;
        while (!queue_.empty() && batch.size() < batch_size) {
          batch.push_back(std::move(queue_.front()));
          queue_.pop_front();
        }
        lock.unlock();
        send(batch);
        lock.lock();
      }
      if (is_stopping_) return;
    }
  }

  void send(const std::vector<Span>& batch) {
    try {
      boost::asio::io_context io;
      boost::beast::tcp_stream stream(io);
      stream.expires_after(request_timeout);
      boost::asio::ip::tcp::resolver resolver(io);
      stream.connect(resolver.resolve(endpoint_.host, std::to_string(endpoint_.port)));
      beast_http::request<beast_http::string_body> request(beast_http::verb::post, endpoint_.target(), 11);
      request.set(beast_http::field::host, endpoint_.host_header());
      request.set(beast_http::field::content_type, "application/json");
      request.set(beast_http::field::user_agent, "switchboard");
      request.body() = encode_otlp_json(batch);
      request.prepare_payload();
      beast_http::write(stream, request);
      boost::beast::flat_buffer buffer;
      beast_http::response<beast_http::string_body> response;
      beast_http::read(stream, buffer, response);
      boost::beast::error_code ignored;
      stream.socket().shutdown(boost::asio::ip::tcp::socket::shutdown_both, ignored);
      if (response.result_int() / 100 != 2) throw std::runtime_error("status " + std::to_string(response.result_int()));
      metrics().trace_spans_exported.inc(batch.size());
    } catch (const std::exception& failure) {
      metrics().trace_spans_dropped.inc(batch.size());
      log::emit(log_events::export_failed, {{"endpoint", endpoint_.origin()}, {"error", failure.what()}});
    }
  }

  Url endpoint_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Span> queue_;
  bool is_stopping_ = false;
  std::thread thread_;
};

std::unique_ptr<Exporter>& exporter() {
  static std::unique_ptr<Exporter> instance;
  return instance;
}

// The length of the valid UTF-8 sequence at the start of `text`, or 0.
std::size_t utf8_sequence(std::string_view text) {
  const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(text[i]); };
  const unsigned char lead = byte(0);
  std::size_t length = lead < 0x80 ? 1 : (lead >> 5) == 0x6 ? 2 : (lead >> 4) == 0xe ? 3 : (lead >> 3) == 0x1e ? 4 : 0;
  if (length == 0 || length > text.size()) return 0;
  for (std::size_t i = 1; i < length; ++i)
    if ((byte(i) & 0xc0) != 0x80) return 0;
  if (length == 2 && lead < 0xc2) return 0;                             // overlong
  if (length == 3 && lead == 0xe0 && byte(1) < 0xa0) return 0;          // overlong
  if (length == 3 && lead == 0xed && byte(1) >= 0xa0) return 0;         // a surrogate
  if (length == 4 && (lead > 0xf4 || (lead == 0xf0 && byte(1) < 0x90) || (lead == 0xf4 && byte(1) >= 0x90))) return 0;
  return length;
}

// A JSON string of `text`; invalid UTF-8 (a client's method name may hold any bytes) becomes U+FFFD.
void append_json_string(std::string& out, std::string_view text) {
  static constexpr char hex[] = "0123456789abcdef";
  out += '"';
  while (!text.empty()) {
    const auto c = static_cast<unsigned char>(text.front());
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
      text.remove_prefix(1);
    } else if (c < 0x20) {
      out += "\\u00";
      out += hex[c >> 4];
      out += hex[c & 0xf];
      text.remove_prefix(1);
    } else if (auto length = utf8_sequence(text)) {
      out.append(text.substr(0, length));
      text.remove_prefix(length);
    } else {
      out += "\xEF\xBF\xBD";
      text.remove_prefix(1);
    }
  }
  out += '"';
}

}  // namespace

std::uint64_t unix_nanos_now() {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch()).count());
}

bool is_exporting() { return exporting.load(std::memory_order_relaxed); }

void record(Span span) {
  if (!is_exporting() || !span.context.is_sampled()) return;
  exporter()->push(std::move(span));
}

void start_export(const Url& endpoint) {
  exporter() = std::make_unique<Exporter>(endpoint);
  exporting.store(true);
}

void stop_export() {
  if (!exporter()) return;
  exporting.store(false);
  exporter()->stop();
}

std::string encode_otlp_json(const std::vector<Span>& spans) {
  // Written by hand, not through a JSON tree: on a busy gateway this runs for every span.
  std::string out;
  out.reserve(128 + spans.size() * 512);
  out += R"({"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"switchboard"}}]},)"
         R"("scopeSpans":[{"scope":{"name":"switchboard"},"spans":[)";
  bool first = true;
  for (const auto& span : spans) {
    if (!first) out += ',';
    first = false;
    out += R"({"traceId":")" + span.context.trace_id + R"(","spanId":")" + span.context.span_id + '"';
    if (!span.parent_span_id.empty()) out += R"(,"parentSpanId":")" + span.parent_span_id + '"';
    if (!span.trace_state.empty()) {
      out += R"(,"traceState":)";
      append_json_string(out, span.trace_state);
    }
    out += R"(,"name":)";
    append_json_string(out, span.name);
    out += R"(,"kind":)" + std::to_string(static_cast<int>(span.kind));
    // Nanoseconds as decimal strings: OTLP/JSON's encoding of a 64-bit integer.
    out += R"(,"startTimeUnixNano":")" + std::to_string(span.start_unix_nanos) + R"(","endTimeUnixNano":")" +
           std::to_string(span.end_unix_nanos) + R"(","attributes":[)";
    for (std::size_t i = 0; i < span.attributes.size(); ++i) {
      if (i) out += ',';
      out += R"({"key":)";
      append_json_string(out, span.attributes[i].first);
      out += R"(,"value":{"stringValue":)";
      append_json_string(out, span.attributes[i].second);
      out += "}}";
    }
    out += R"(],"status":{"code":)";
    out += span.is_error ? '2' : '1';
    out += "}}";
  }
  out += "]}]}]}";
  return out;
}

}  // namespace sb::tracing
