#include "common/log.hpp"

#include <cassert>
#include <chrono>
#include <cstdio>
#include <ctime>

namespace sb::log {
namespace {

std::atomic<Level> current_level{Level::info};

}  // namespace

std::string_view to_string(Level l) {
  switch (l) {
    case Level::trace: return "trace";
    case Level::debug: return "debug";
    case Level::info: return "info";
    case Level::warn: return "warn";
    case Level::error: return "error";
    case Level::off: return "off";
  }
  return "?";
}

namespace {

// Values with spaces, quotes or control bytes are quoted and escaped so a line stays one line.
void append_value(std::string& out, std::string_view v) {
  bool needs_quotes = v.empty();
  for (unsigned char c : v)
    if (c <= ' ' || c == '"' || c == '=' || c >= 0x7f) needs_quotes = true;
  if (!needs_quotes) {
    out += v;
    return;
  }
  out += '"';
  out += sample(v, 512);
  out += '"';
}

}  // namespace

void set_level(Level level) { current_level.store(level, std::memory_order_relaxed); }
Level level() { return current_level.load(std::memory_order_relaxed); }

bool parse_level(std::string_view text, Level& out) {
  for (Level l : {Level::trace, Level::debug, Level::info, Level::warn, Level::error, Level::off})
    if (text == to_string(l)) {
      out = l;
      return true;
    }
  return false;
}

std::string sample(std::string_view bytes, std::size_t max_bytes) {
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  out.reserve(std::min(bytes.size(), max_bytes) + 8);
  for (std::size_t i = 0; i < bytes.size() && i < max_bytes; ++i) {
    auto c = static_cast<unsigned char>(bytes[i]);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c >= 0x7f) {
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
  if (bytes.size() > max_bytes) out += "...";
  return out;
}

bool declares(const Event& event, std::string_view key) {
  std::string_view rest = event.fields;
  while (!rest.empty()) {
    auto space = rest.find(' ');
    if (rest.substr(0, space) == key) return true;
    if (space == std::string_view::npos) break;
    rest.remove_prefix(space + 1);
  }
  return false;
}

namespace {

void write(Level l, std::string_view module, std::string_view event, std::initializer_list<Field> fields,
           std::uint64_t skipped) {
  using namespace std::chrono;
  auto now = system_clock::now();
  std::time_t t = system_clock::to_time_t(now);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char stamp[64];
  auto ms = duration_cast<milliseconds>(now.time_since_epoch()).count() % 1000;
  std::snprintf(stamp, sizeof stamp, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms));
  std::string line;
  line.reserve(128);
  line += stamp;
  line += ' ';
  line += to_string(l);
  line += ' ';
  line += module;
  line += ' ';
  line += event;
  for (const auto& f : fields) {
    line += ' ';
    line += f.key;
    line += '=';
    append_value(line, f.value);
  }
  if (skipped > 0) line += " skipped=" + std::to_string(skipped);
  line += '\n';
  // One fwrite per line: stdio locks the stream, so lines from different threads don't interleave.
  std::fwrite(line.data(), 1, line.size(), stderr);
}

}  // namespace

void emit(const Event& event, Level level, std::initializer_list<Field> fields) {
  for ([[maybe_unused]] const auto& f : fields) assert(declares(event, f.key) && "log field not declared by its event");
  if (!enabled(level)) return;
  std::uint64_t skipped = 0;
  if (event.throttle) {
    auto admitted = event.throttle->admit(LogThrottle::Clock::now());
    if (!admitted) return;
    skipped = *admitted;
  }
  write(level, event.module, event.name, fields, skipped);
}

void emit(const Event& event, std::initializer_list<Field> fields) { emit(event, event.level, fields); }

}  // namespace sb::log
