#pragma once
// One logging facade: one line per event on stderr, "level module event key=value ...".
// The helpers below check the level first; on hot paths wrap the call in `if (log::enabled(...))` so
// that the fields are not even built. Values are escaped and bounded; never pass secrets.
#include <atomic>
#include <initializer_list>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

namespace sb::log {

enum class Level { trace = 0, debug = 1, info = 2, warn = 3, error = 4, off = 5 };

struct Field {
  std::string_view key;
  std::string value;
  Field(std::string_view k, std::string_view v) : key(k), value(v) {}
  Field(std::string_view k, const std::string& v) : key(k), value(v) {}
  Field(std::string_view k, const char* v) : key(k), value(v) {}
  template <typename N, typename = std::enable_if_t<std::is_arithmetic_v<N>>>
  Field(std::string_view k, N n) : key(k), value(std::to_string(n)) {}
};

void set_level(Level level);
Level level();
inline bool enabled(Level l) { return l >= level(); }
bool parse_level(std::string_view text, Level& out);  // "trace"…"error", "off"

void write(Level level, std::string_view module, std::string_view event, std::initializer_list<Field> fields = {});

// A bounded, escaped sample of client input for protocol-error lines (Redis setProtocolError).
std::string sample(std::string_view bytes, std::size_t max_bytes = 128);

inline void trace(std::string_view m, std::string_view e, std::initializer_list<Field> f = {}) { if (enabled(Level::trace)) write(Level::trace, m, e, f); }
inline void debug(std::string_view m, std::string_view e, std::initializer_list<Field> f = {}) { if (enabled(Level::debug)) write(Level::debug, m, e, f); }
inline void info(std::string_view m, std::string_view e, std::initializer_list<Field> f = {}) { if (enabled(Level::info)) write(Level::info, m, e, f); }
inline void warn(std::string_view m, std::string_view e, std::initializer_list<Field> f = {}) { if (enabled(Level::warn)) write(Level::warn, m, e, f); }
inline void error(std::string_view m, std::string_view e, std::initializer_list<Field> f = {}) { if (enabled(Level::error)) write(Level::error, m, e, f); }

}  // namespace sb::log
