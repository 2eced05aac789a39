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
#include <nlohmann/json.hpp>

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

nlohmann::json string_attribute(const std::string& key, const std::string& value) {
  return {{"key", key}, {"value", {{"stringValue", value}}}};
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
  nlohmann::json out_spans = nlohmann::json::array();
  for (const auto& span : spans) {
    nlohmann::json attributes = nlohmann::json::array();
    for (const auto& [key, value] : span.attributes) attributes.push_back(string_attribute(key, value));
    nlohmann::json s{{"traceId", span.context.trace_id},
                     {"spanId", span.context.span_id},
                     {"name", span.name},
                     {"kind", static_cast<int>(span.kind)},
                     // Nanoseconds as decimal strings: OTLP/JSON's encoding of a 64-bit integer.
                     {"startTimeUnixNano", std::to_string(span.start_unix_nanos)},
                     {"endTimeUnixNano", std::to_string(span.end_unix_nanos)},
                     {"attributes", attributes},
                     {"status", {{"code", span.is_error ? 2 : 1}}}};
    if (!span.parent_span_id.empty()) s["parentSpanId"] = span.parent_span_id;
    out_spans.push_back(std::move(s));
  }
  nlohmann::json body{
      {"resourceSpans",
       {{{"resource", {{"attributes", {string_attribute("service.name", "switchboard")}}}},
         {"scopeSpans", {{{"scope", {{"name", "switchboard"}}}, {"spans", out_spans}}}}}}}};
  return body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace sb::tracing
