#pragma once
// The operator console's live trace (docs/operations.md "Live trace"): what happens to connections,
// messages and HTTP calls, streamed to whoever watches, as Azure's Live Trace tool does. The places
// where things happen (the hub dispatcher, the REST API, handoffs) publish an event only when
// is_watched() says a viewer is there: one relaxed atomic load, so with no viewer the trace costs
// nothing measurable. An event is encoded once, as a JSON line, and shared by every viewer whose filter
// takes it; each viewer has its own sampling and byte budget, and delivers on its own thread.
//
// Threads: any. Viewers are kept under a mutex taken only while someone watches.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

#include "common/frame.hpp"

namespace sb::console {

enum class TraceKind : std::uint8_t { connect, disconnect, invocation, upstream, reply, rest, handoff };
constexpr std::size_t trace_kind_count = 7;
std::string_view to_string(TraceKind kind);
std::optional<TraceKind> parse_trace_kind(std::string_view name);
// The line that tells a viewer how many events `gateway_id` left out ({"kind":"skipped","count":N}).
std::string skipped_notice(std::string_view gateway_id, std::uint64_t count);

// Whose event it is: what viewers filter on. Any part may be empty.
struct TraceSubject {
  std::string_view hub, connection, user, trace;
};

// One more field of an event: text, or a number written as a JSON number.
struct TraceField {
  std::string_view key;
  std::string value;
  bool is_number = false;
  TraceField(std::string_view k, std::string_view v) : key(k), value(v) {}
  TraceField(std::string_view k, const std::string& v) : key(k), value(v) {}
  TraceField(std::string_view k, const char* v) : key(k), value(v) {}
  template <typename N, typename = std::enable_if_t<std::is_arithmetic_v<N>>>
  TraceField(std::string_view k, N n) : key(k), value(std::to_string(n)), is_number(true) {}
};

// What one viewer asked to see. Empty strings match anything; hubs compare case-insensitively.
struct TraceFilter {
  std::string hub, user, connection;
  std::uint32_t kinds = (1u << trace_kind_count) - 1;  // bit per TraceKind
  // Keeps one in N of the busy kinds (invocation, upstream, reply); lifecycle events always pass.
  std::uint32_t sample_every = 1;
  // Past this many bytes in a second, events are skipped and counted ({"kind":"skipped","count":N}).
  std::size_t bytes_per_second = 256 * 1024;
};

// Where a viewer's events go: called on the publishing thread, with the viewer's lock-free work left
// to its own thread (post it).
class TraceSink {
 public:
  virtual ~TraceSink() = default;
  virtual void deliver(Frame lines) = 0;
  // The gateway stops (its loops have stopped): end the stream now, on the calling thread.
  virtual void end() {}
};

// One viewer's registration, in LiveTrace's list.
struct TraceWatchEntry {
  TraceFilter filter;
  std::shared_ptr<TraceSink> sink;
  std::uint64_t sampled = 0;  // busy-kind events this viewer's filter took, for 1-in-N
  std::chrono::steady_clock::time_point window_start{};
  std::size_t window_bytes = 0;
  std::uint64_t skipped = 0;  // over budget in the current window, reported when the next one opens
};

class LiveTrace {
 public:
  bool is_watched() const { return watchers_.load(std::memory_order_relaxed) != 0; }
  // Set once at start-up: every event names the gateway it happened on.
  void set_gateway_id(std::string id) { gateway_id_ = std::move(id); }

  void publish(TraceKind kind, const TraceSubject& subject, std::initializer_list<TraceField> fields);

  // A viewer's registration: it watches until this is destroyed.
  class Watch {
   public:
    ~Watch();
    Watch(const Watch&) = delete;
    Watch& operator=(const Watch&) = delete;

   private:
    friend class LiveTrace;
    Watch(LiveTrace& trace, std::list<TraceWatchEntry>::iterator entry) : trace_(trace), entry_(entry) {}
    LiveTrace& trace_;
    std::list<TraceWatchEntry>::iterator entry_;
  };
  std::unique_ptr<Watch> watch(TraceFilter filter, std::shared_ptr<TraceSink> sink);
  // Ends every viewer's stream (TraceSink::end), once the event loops have stopped: a stream must not
  // outlive the io_context it was served on.
  void end_all();

 private:
  std::atomic<std::size_t> watchers_{0};
  std::mutex mutex_;
  std::list<TraceWatchEntry> entries_;
  std::string gateway_id_;
};

LiveTrace& live_trace();

}  // namespace sb::console
