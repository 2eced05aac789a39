#include "upstream/http_response_parser.hpp"

#include <algorithm>
#include <boost/beast/http/basic_parser.hpp>
#include <boost/beast/http/error.hpp>

namespace sb::upstream {

namespace http = boost::beast::http;
using boost::beast::error_code;
using boost::beast::string_view;

// Beast calls these as it parses; each keeps only what the call needs.
class HttpResponseParser::Sink final : public http::basic_parser<false> {
 public:
  explicit Sink(HttpResponseParser& owner) : owner_(owner) {
    body_limit(owner.max_body_bytes_);
    // A backstop: HttpResponseParser::feed enforces the header limit itself.
    header_limit(static_cast<std::uint32_t>(std::min<std::size_t>(owner.max_header_bytes_ + 1, UINT32_MAX)));
  }

 private:
  void on_request_impl(http::verb, string_view, string_view, int, error_code&) override {}
  void on_response_impl(int code, string_view, int, error_code& ec) override {
    if (code < 100) ec = http::error::bad_status;  // Beast takes any three digits, "000" too
    owner_.status_ = code;
    owner_.content_type_.clear();
  }
  void on_field_impl(http::field name, string_view, string_view value, error_code&) override {
    if (name == http::field::content_type) owner_.content_type_.assign(value.data(), value.size());
  }
  void on_header_impl(error_code&) override {}
  void on_body_init_impl(const boost::optional<std::uint64_t>& content_length, error_code&) override {
    owner_.body_.clear();
    if (content_length) owner_.body_.reserve(static_cast<std::size_t>(*content_length));  // within body_limit
  }
  std::size_t on_body_impl(string_view body, error_code&) override {
    owner_.body_.append(body.data(), body.size());
    return body.size();
  }
  void on_chunk_header_impl(std::uint64_t, string_view, error_code&) override {}
  std::size_t on_chunk_body_impl(std::uint64_t, string_view body, error_code&) override {
    owner_.body_.append(body.data(), body.size());
    return body.size();
  }
  void on_finish_impl(error_code&) override {}

  HttpResponseParser& owner_;
};

HttpResponseParser::HttpResponseParser(std::size_t max_body_bytes, std::size_t max_header_bytes)
    : max_body_bytes_(max_body_bytes), max_header_bytes_(max_header_bytes), sink_(std::make_unique<Sink>(*this)) {}

HttpResponseParser::~HttpResponseParser() = default;

void HttpResponseParser::fail(std::string message) {
  state_ = State::failed;
  error_ = std::move(message);
}

void HttpResponseParser::on_message_done() {
  // 1xx (but 101, which we never ask for) is an interim reply: the real one follows.
  if (status_ >= 100 && status_ < 200 && status_ != 101) {
    sink_ = std::make_unique<Sink>(*this);
    status_ = 0;
    header_bytes_ = 0;
    return;
  }
  keep_alive_ = sink_->keep_alive();
  state_ = State::done;
}

std::size_t HttpResponseParser::feed(std::string_view bytes) {
  std::size_t used_total = 0;
  while (state_ == State::need_more && !bytes.empty()) {
    // Not eager inside the header, so that `used` ends where the header does and its size is exact:
    // Beast's own limit counts from where each call starts, so it would depend on how reads split.
    const bool is_in_header = !sink_->is_header_done();
    sink_->eager(!is_in_header);
    error_code ec;
    auto used = sink_->put(boost::asio::const_buffer(bytes.data(), bytes.size()), ec);
    used_total += used;
    bytes.remove_prefix(used);
    if (is_in_header) header_bytes_ += used;
    if (header_bytes_ > max_header_bytes_ ||
        (ec == http::error::need_more && !sink_->is_header_done() && header_bytes_ + bytes.size() > max_header_bytes_)) {
      fail("reply header over the size limit");
      break;
    }
    if (ec == http::error::need_more) break;
    if (ec == http::error::body_limit) {
      is_body_too_large_ = true;
      fail("reply over the size limit");
      break;
    }
    if (ec) {
      fail(ec.message());
      break;
    }
    if (sink_->is_done()) {
      on_message_done();
    } else if (used == 0) {
      break;
    }
  }
  return used_total;
}

void HttpResponseParser::feed_eof() {
  if (state_ != State::need_more) return;
  if (!sink_->got_some()) return fail("the function closed the connection without a reply");
  error_code ec;
  sink_->put_eof(ec);
  if (ec || !sink_->is_done()) return fail("the function closed the connection before its reply was complete");
  on_message_done();
  if (state_ == State::need_more) fail("the function closed the connection after an interim reply");
}

}  // namespace sb::upstream
