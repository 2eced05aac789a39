#include "console/live_trace.hpp"

#include <cstdio>
#include <vector>

#include "common/ascii.hpp"
#include "common/metrics.hpp"

namespace sb::console {
namespace {

constexpr std::string_view kind_names[trace_kind_count] = {"connect", "disconnect", "invocation", "upstream",
                                                           "reply",   "rest",       "handoff"};

// The length of the valid UTF-8 sequence at the start of `text`, or 0 when it is not one.
std::size_t utf8_sequence(std::string_view text) {
  const auto b = [&](std::size_t i) { return static_cast<unsigned char>(text[i]); };
  const auto c = b(0);
  std::size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : (c >> 3) == 0x1e ? 4 : 0;
  if (n == 0 || n > text.size()) return 0;
  for (std::size_t i = 1; i < n; ++i)
    if ((b(i) & 0xc0) != 0x80) return 0;
  // Overlong forms, surrogates and code points past U+10FFFF are not UTF-8.
  if (n == 2 && c < 0xc2) return 0;
  if (n == 3 && ((c == 0xe0 && b(1) < 0xa0) || (c == 0xed && b(1) >= 0xa0))) return 0;
  if (n == 4 && ((c == 0xf0 && b(1) < 0x90) || c > 0xf4 || (c == 0xf4 && b(1) >= 0x90))) return 0;
  return n;
}

// A JSON string of `text`; bytes that are not UTF-8 become U+FFFD, so every line parses.
void append_json_string(std::string& out, std::string_view text) {
  out += '"';
  while (!text.empty()) {
    const auto c = static_cast<unsigned char>(text.front());
    std::size_t n = 1;
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20 || c == 0x7f) {
          char escaped[8];
          std::snprintf(escaped, sizeof escaped, "\\u%04x", c);
          out += escaped;
        } else if ((n = utf8_sequence(text)) != 0) {
          out.append(text.data(), n);
        } else {
          out += "\xef\xbf\xbd";
          n = 1;
        }
    }
    text.remove_prefix(n);
  }
  out += '"';
}

void append_member(std::string& out, std::string_view key, std::string_view value) {
  out += ',';
  append_json_string(out, key);
  out += ':';
  append_json_string(out, value);
}

bool is_busy(TraceKind kind) {
  return kind == TraceKind::invocation || kind == TraceKind::upstream || kind == TraceKind::reply;
}

bool matches(const TraceFilter& filter, TraceKind kind, const TraceSubject& subject) {
  if ((filter.kinds & (1u << static_cast<unsigned>(kind))) == 0) return false;
  if (!filter.hub.empty() && !iequals(filter.hub, subject.hub)) return false;
  if (!filter.user.empty() && filter.user != subject.user) return false;
  if (!filter.connection.empty() && filter.connection != subject.connection) return false;
  return true;
}

long long unix_millis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

std::string skipped_notice(std::string_view gateway_id, std::uint64_t count) {
  std::string notice = "{\"t\":" + std::to_string(unix_millis());
  append_member(notice, "gateway", gateway_id);
  notice += ",\"kind\":\"skipped\",\"count\":" + std::to_string(count) + "}\n";
  return notice;
}

std::string_view to_string(TraceKind kind) { return kind_names[static_cast<std::size_t>(kind)]; }

std::optional<TraceKind> parse_trace_kind(std::string_view name) {
  for (std::size_t i = 0; i < trace_kind_count; ++i)
    if (kind_names[i] == name) return static_cast<TraceKind>(i);
  return std::nullopt;
}

void LiveTrace::publish(TraceKind kind, const TraceSubject& subject, std::initializer_list<TraceField> fields) {
  if (!is_watched()) return;
  // Encoded once, and only when some viewer takes it: a busy gateway's events mostly fall outside
  // the viewers' filters, samples or budgets.
  auto encode = [&] {
    std::string line = "{\"t\":" + std::to_string(unix_millis());
    append_member(line, "gateway", gateway_id_);
    append_member(line, "kind", to_string(kind));
    append_member(line, "hub", subject.hub);
    append_member(line, "connection", subject.connection);
    append_member(line, "user", subject.user);
    if (!subject.trace.empty()) append_member(line, "trace", subject.trace);
    for (const auto& field : fields) {
      if (!field.is_number) {
        append_member(line, field.key, field.value);
        continue;
      }
      line += ',';
      append_json_string(line, field.key);
      line += ':';
      line += field.value;
    }
    line += "}\n";
    return make_frame(std::move(line));
  };
  Frame frame;
  const auto now = std::chrono::steady_clock::now();
  std::lock_guard lock(mutex_);
  for (auto& entry : entries_) {
    if (!matches(entry.filter, kind, subject)) continue;
    if (is_busy(kind) && entry.filter.sample_every > 1 && entry.sampled++ % entry.filter.sample_every != 0) continue;
    if (now - entry.window_start >= std::chrono::seconds(1)) {
      if (entry.skipped > 0) entry.sink->deliver(make_frame(skipped_notice(gateway_id_, entry.skipped)));
      entry.window_start = now;
      entry.window_bytes = 0;
      entry.skipped = 0;
    }
    if (entry.window_bytes >= entry.filter.bytes_per_second) {
      ++entry.skipped;
      metrics().console_trace_skipped.inc();
      continue;
    }
    if (!frame) frame = encode();
    entry.window_bytes += frame->size();
    entry.sink->deliver(frame);
  }
}

std::unique_ptr<LiveTrace::Watch> LiveTrace::watch(TraceFilter filter, std::shared_ptr<TraceSink> sink) {
  std::lock_guard lock(mutex_);
  entries_.push_front(TraceWatchEntry{std::move(filter), std::move(sink)});
  watchers_.fetch_add(1, std::memory_order_relaxed);
  metrics().console_viewers.add(1);
  return std::unique_ptr<Watch>(new Watch(*this, entries_.begin()));
}

void LiveTrace::end_all() {
  std::vector<std::shared_ptr<TraceSink>> sinks;
  {
    std::lock_guard lock(mutex_);
    for (auto& entry : entries_) sinks.push_back(entry.sink);
  }
  for (auto& sink : sinks) sink->end();  // each lets go of its Watch, which takes the lock
}

LiveTrace::Watch::~Watch() {
  std::lock_guard lock(trace_.mutex_);
  trace_.entries_.erase(entry_);
  trace_.watchers_.fetch_sub(1, std::memory_order_relaxed);
  metrics().console_viewers.add(-1);
}

LiveTrace& live_trace() {
  static LiveTrace instance;
  return instance;
}

}  // namespace sb::console
