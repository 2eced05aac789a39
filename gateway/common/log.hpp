#pragma once
// One logging facade: one line per event on stderr, "level module event key=value ...".
// Every line is an `Event` that its module declares once, in its `*_log.hpp` (STYLE.md; ASP.NET's
// `*Log.cs`), so operators can read the whole list (`switchboard --log-events`, docs/logging.md).
// `emit` checks the level first; on hot paths wrap the call in `if (log::enabled(event))` so that the
// fields are not even built. Values are escaped and bounded; never pass secrets.
#include <atomic>
#include <initializer_list>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "common/log_throttle.hpp"

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

std::string_view to_string(Level level);

// One kind of log line. Names and field keys are stable: people alert on them.
struct Event {
  Level level;
  std::string_view module;   // the log's module word, e.g. "connection"
  std::string_view name;     // e.g. "send_queue_full"
  std::string_view fields;   // the keys it may carry, space-separated; debug builds assert each emitted key is here
  std::string_view meaning;  // one line for the operator
  // Set for a line a client can repeat at will (one per request): at most one line per interval goes
  // out, with `skipped=N` for the lines dropped before it (STYLE.md "Repeated lines are rate-limited").
  LogThrottle* throttle = nullptr;
};

inline bool enabled(const Event& event) { return enabled(event.level); }

void emit(const Event& event, std::initializer_list<Field> fields = {});
// For the rare event whose level depends on a field (a refusal that is our fault is a warning).
void emit(const Event& event, Level level, std::initializer_list<Field> fields);

// True when `key` is one of the event's declared fields.
bool declares(const Event& event, std::string_view key);

// A bounded, escaped sample of client input for protocol-error lines (Redis setProtocolError).
std::string sample(std::string_view bytes, std::size_t max_bytes = 128);

}  // namespace sb::log
