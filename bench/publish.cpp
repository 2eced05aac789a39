// bench-publish: POSTs messages to one HTTP publish endpoint (the gateway's REST API, Pushpin's publish
// port, an Nchan publisher location) over keep-alive connections, and prints one JSON line.
//
//   bench-publish --url http://127.0.0.1:8080/api/v1/hubs/bench/groups/g --header 'Authorization: Bearer T'
//                 --body '{"target":"m","arguments":[{"ts":{ts},"pad":"xx"}]}' --count 10000
//                 [--connections 4] [--rate 0] [--content-type application/json]
//
// Each connection keeps one request in flight (HTTP/1.1, no pipelining). --rate 0 sends as fast as the
// answers come back; --rate R spreads request i to start + i/R (open loop, as far as the connections
// allow). In the body, {ts} becomes the wall clock in microseconds (CLOCK_REALTIME), the convention
// wsload uses for latency, and {seq} the request's number.

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

struct Options {
  std::string host = "127.0.0.1";
  std::string port = "80";
  std::string target = "/";
  std::vector<std::pair<std::string, std::string>> headers;
  std::string content_type = "application/json";
  std::string body;
  long count = 1000;
  int connections = 4;
  double rate = 0;
};

// Shared by every connection: which request is next, and what came back.
struct Run {
  Options options;
  long next = 0;
  long ok = 0;
  long failed = 0;
  std::map<unsigned, long> statuses;
  std::chrono::steady_clock::time_point start;
  std::chrono::steady_clock::time_point last_answer;
};

long long now_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string render(const std::string& body, long seq) {
  std::string out;
  out.reserve(body.size() + 16);
  for (std::size_t i = 0; i < body.size();) {
    if (body.compare(i, 4, "{ts}") == 0) {
      out += std::to_string(now_us());
      i += 4;
    } else if (body.compare(i, 5, "{seq}") == 0) {
      out += std::to_string(seq);
      i += 5;
    } else {
      out += body[i++];
    }
  }
  return out;
}

class Publisher : public std::enable_shared_from_this<Publisher> {
 public:
  Publisher(asio::io_context& io, Run& run) : stream_(io), timer_(io), run_(run) {}

  void start(const tcp::resolver::results_type& endpoints) {
    endpoints_ = endpoints;
    do_connect();
  }

 private:
  void do_connect() {
    stream_.async_connect(endpoints_, beast::bind_front_handler(&Publisher::on_connect, shared_from_this()));
  }

  void on_connect(beast::error_code ec, const tcp::endpoint&) {
    if (ec) return fail("connect", ec);
    stream_.socket().set_option(tcp::no_delay(true));
    do_next();
  }

  void do_next() {
    if (run_.next >= run_.options.count) return;
    seq_ = run_.next++;
    if (run_.options.rate > 0) {
      const auto due = run_.start + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                        std::chrono::duration<double>(double(seq_) / run_.options.rate));
      timer_.expires_at(due);
      timer_.async_wait(beast::bind_front_handler(&Publisher::on_due, shared_from_this()));
    } else {
      do_write();
    }
  }

  void on_due(beast::error_code ec) {
    if (ec) return fail("timer", ec);
    do_write();
  }

  void do_write() {
    request_ = {http::verb::post, run_.options.target, 11};
    request_.set(http::field::host, run_.options.host + ":" + run_.options.port);
    request_.set(http::field::content_type, run_.options.content_type);
    for (const auto& [name, value] : run_.options.headers) request_.set(name, value);
    request_.body() = render(run_.options.body, seq_);
    request_.prepare_payload();
    http::async_write(stream_, request_, beast::bind_front_handler(&Publisher::on_write, shared_from_this()));
  }

  void on_write(beast::error_code ec, std::size_t) {
    if (ec) return fail("write", ec);
    response_ = {};
    http::async_read(stream_, buffer_, response_, beast::bind_front_handler(&Publisher::on_read, shared_from_this()));
  }

  void on_read(beast::error_code ec, std::size_t) {
    if (ec) return fail("read", ec);
    const unsigned status = response_.result_int();
    ++run_.statuses[status];
    (status >= 200 && status < 300 ? run_.ok : run_.failed)++;
    run_.last_answer = std::chrono::steady_clock::now();
    if (!response_.keep_alive()) {  // Pushpin's publish port closes after each answer: reconnect
      beast::error_code ignored;
      stream_.socket().close(ignored);
      if (run_.next < run_.options.count) do_connect();
      return;
    }
    do_next();
  }

  void fail(const char* what, beast::error_code ec) {
    ++run_.failed;
    std::cerr << "bench-publish: " << what << ": " << ec.message() << "\n";
  }

  tcp::resolver::results_type endpoints_;
  beast::tcp_stream stream_;
  asio::steady_timer timer_;
  beast::flat_buffer buffer_;
  http::request<http::string_body> request_;
  http::response<http::string_body> response_;
  Run& run_;
  long seq_ = 0;
};

[[noreturn]] void usage(const std::string& why) {
  std::cerr << "bench-publish: " << why << "\n"
            << "usage: bench-publish --url http://HOST:PORT/PATH --body TEMPLATE [--header 'Name: value']...\n"
            << "                     [--count N] [--connections C] [--rate R] [--content-type TYPE]\n";
  std::exit(2);
}

void parse_url(std::string_view url, Options& options) {
  constexpr std::string_view scheme = "http://";
  if (url.substr(0, scheme.size()) != scheme) usage("only http:// URLs");
  url.remove_prefix(scheme.size());
  const auto slash = url.find('/');
  const std::string_view authority = url.substr(0, slash);
  options.target = slash == std::string_view::npos ? "/" : std::string(url.substr(slash));
  const auto colon = authority.rfind(':');
  options.host = std::string(authority.substr(0, colon));
  if (colon != std::string_view::npos) options.port = std::string(authority.substr(colon + 1));
}

Options parse_args(int argc, char** argv) {
  Options options;
  bool has_url = false;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage(flag + " needs a value");
      return argv[++i];
    };
    try {
      if (flag == "--url") {
        parse_url(value(), options);
        has_url = true;
      } else if (flag == "--header") {
        const std::string header = value();
        const auto colon = header.find(':');
        if (colon == std::string::npos) usage("--header wants 'Name: value'");
        options.headers.emplace_back(header.substr(0, colon), header.substr(header.find_first_not_of(' ', colon + 1)));
      } else if (flag == "--body") {
        options.body = value();
      } else if (flag == "--content-type") {
        options.content_type = value();
      } else if (flag == "--count") {
        options.count = std::stol(value());
      } else if (flag == "--connections") {
        options.connections = std::stoi(value());
      } else if (flag == "--rate") {
        options.rate = std::stod(value());
      } else {
        usage("unknown flag " + flag);
      }
    } catch (const std::logic_error&) {  // std::stol and friends
      usage("bad number for " + flag);
    }
  }
  if (!has_url) usage("--url is required");
  if (options.connections < 1 || options.count < 0) usage("--connections must be >= 1, --count >= 0");
  return options;
}

}  // namespace

int main(int argc, char** argv) {
  Run run;
  run.options = parse_args(argc, argv);
  asio::io_context io;
  const auto endpoints = tcp::resolver(io).resolve(run.options.host, run.options.port);
  run.start = run.last_answer = std::chrono::steady_clock::now();
  for (int i = 0; i < run.options.connections; ++i) std::make_shared<Publisher>(io, run)->start(endpoints);
  io.run();

  const double elapsed_s = std::chrono::duration<double>(run.last_answer - run.start).count();
  std::string statuses;
  for (const auto& [status, n] : run.statuses) {
    statuses += (statuses.empty() ? "" : ",") + ("\"" + std::to_string(status) + "\":" + std::to_string(n));
  }
  std::printf("{\"requests\":%ld,\"ok\":%ld,\"failed\":%ld,\"elapsed_s\":%.3f,\"req_per_sec\":%.1f,\"statuses\":{%s}}\n",
              run.options.count, run.ok, run.failed, elapsed_s, elapsed_s > 0 ? double(run.ok) / elapsed_s : 0.0,
              statuses.c_str());
  return run.failed == 0 ? 0 : 3;
}
