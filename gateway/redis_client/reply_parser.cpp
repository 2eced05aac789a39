#include "redis_client/reply_parser.hpp"

#include <charconv>
#include <limits>

namespace sb::redis {
namespace {

constexpr std::size_t max_line_bytes = 64 * 1024;
constexpr std::size_t max_depth = 16;

std::optional<long long> parse_integer(std::string_view text) {
  long long value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return value;
}

}  // namespace

bool ReplyParser::fail(std::string why) {
  error_ = std::move(why);
  pending_.clear();
  open_.clear();
  bulk_.reset();
  return false;
}

void ReplyParser::complete(Reply&& value, const OnReply& on_reply) {
  Reply done = std::move(value);
  while (!open_.empty()) {
    auto& top = open_.back();
    top.array.elements.push_back(std::move(done));
    if (--top.remaining > 0) return;
    done = std::move(top.array);
    open_.pop_back();
  }
  on_reply(std::move(done));
}

bool ReplyParser::feed(std::string_view bytes, const OnReply& on_reply) {
  if (!error_.empty()) return false;
  pending_.append(bytes);
  std::size_t at = 0;
  for (;;) {
    if (bulk_) {
      if (pending_.size() - at < *bulk_ + 2) break;
      if (pending_.compare(at + *bulk_, 2, "\r\n") != 0) return fail("a bulk string does not end in CRLF");
      Reply value;
      value.type = Reply::Type::string;
      value.text.assign(pending_, at, *bulk_);
      at += *bulk_ + 2;
      bulk_.reset();
      complete(std::move(value), on_reply);
      continue;
    }
    auto end = pending_.find("\r\n", std::max(at, scanned_ > 0 ? scanned_ - 1 : 0));
    if (end == std::string::npos) {
      if (pending_.size() - at > max_line_bytes) return fail("a line longer than 64 KiB");
      scanned_ = pending_.size();
      break;
    }
    scanned_ = 0;
    std::string_view line(pending_.data() + at + 1, end - at - 1);
    char kind = pending_[at];
    at = end + 2;
    Reply value;
    switch (kind) {
      case '+':
      case '-':
        value.type = kind == '+' ? Reply::Type::status : Reply::Type::error;
        value.text.assign(line);
        complete(std::move(value), on_reply);
        break;
      case ':': {
        auto number = parse_integer(line);
        if (!number) return fail("an integer that does not parse");
        value.type = Reply::Type::integer;
        value.integer = *number;
        complete(std::move(value), on_reply);
        break;
      }
      case '$': {
        auto length = parse_integer(line);
        if (!length || *length < -1) return fail("a bulk length that does not parse");
        if (*length == -1) {
          complete(Reply{}, on_reply);
          break;
        }
        if (static_cast<unsigned long long>(*length) > max_bulk_bytes_) return fail("a bulk string over the limit");
        bulk_ = static_cast<std::size_t>(*length);
        break;
      }
      case '*': {
        auto count = parse_integer(line);
        if (!count || *count < -1) return fail("an array length that does not parse");
        if (*count == -1) {
          complete(Reply{}, on_reply);
          break;
        }
        value.type = Reply::Type::array;
        if (*count == 0) {
          complete(std::move(value), on_reply);
          break;
        }
        if (open_.size() >= max_depth) return fail("arrays nested too deep");
        // No reserve(count): memory grows with what arrives, not with what a length claims.
        open_.push_back({std::move(value), static_cast<std::size_t>(*count)});
        break;
      }
      default:
        return fail("an unknown reply type");
    }
  }
  pending_.erase(0, at);
  if (scanned_ >= at) scanned_ -= at;
  else scanned_ = 0;
  return true;
}

void append_command(std::string& out, const std::vector<std::string>& argv) {
  out += '*';
  out += std::to_string(argv.size());
  out += "\r\n";
  for (const auto& arg : argv) {
    out += '$';
    out += std::to_string(arg.size());
    out += "\r\n";
    out += arg;
    out += "\r\n";
  }
}

}  // namespace sb::redis
