#include "console/peer_trace_watches.hpp"

#include <doctest/doctest.h>

#include <boost/asio/io_context.hpp>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "console/trace_filter_codec.hpp"

using namespace sb::console;
using namespace std::chrono_literals;

namespace {

struct Answered {
  std::optional<unsigned> status;
  std::string lines;
};

PeerTraceWatches::Answer into(Answered& answered) {
  return [&answered](unsigned status, std::string lines) {
    answered.status = status;
    answered.lines = std::move(lines);
  };
}

std::vector<nlohmann::json> parse_lines(const std::string& text) {
  std::vector<nlohmann::json> out;
  std::string_view rest = text;
  while (!rest.empty()) {
    auto end = rest.find('\n');
    out.push_back(nlohmann::json::parse(rest.substr(0, end)));
    rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 1);
  }
  return out;
}

}  // namespace

TEST_CASE("a peer's question waits for the first event, then gets what the watch's filter took") {
  boost::asio::io_context io;
  LiveTrace trace;
  trace.set_gateway_id("g1");
  auto watches = std::make_shared<PeerTraceWatches>(io.get_executor(), "g1", trace);
  TraceFilter only_alice;
  only_alice.user = "alice";
  Answered first;
  watches->poll("g0/1", only_alice, into(first));
  io.poll();
  CHECK(trace.is_watched());
  CHECK_FALSE(first.status);  // nothing yet: the question waits

  trace.publish(TraceKind::connect, {"chat", "c2", "bob", ""}, {});
  io.poll();
  CHECK_FALSE(first.status);  // bob is not what this watch takes
  trace.publish(TraceKind::connect, {"chat", "c1", "alice", ""}, {});
  io.poll();
  REQUIRE(first.status == 200u);
  auto events = parse_lines(first.lines);
  REQUIRE(events.size() == 1);
  CHECK(events[0]["user"] == "alice");
  CHECK(events[0]["gateway"] == "g1");

  // Events between two questions wait for the next one, which is answered at once and in order.
  trace.publish(TraceKind::invocation, {"chat", "c1", "alice", "t"}, {{"target", "a"}});
  trace.publish(TraceKind::invocation, {"chat", "c1", "alice", "t"}, {{"target", "b"}});
  Answered second;
  watches->poll("g0/1", {}, into(second));  // a later question keeps the first filter
  REQUIRE(second.status == 200u);
  events = parse_lines(second.lines);
  REQUIRE(events.size() == 2);
  CHECK(events[0]["target"] == "a");
  CHECK(events[1]["target"] == "b");

  // The viewer is gone: the waiting question ends at once, and the trace is no longer watched.
  Answered third;
  watches->poll("g0/1", only_alice, into(third));
  CHECK_FALSE(third.status);
  watches->unwatch("g0/1");
  CHECK(third.status == 200u);
  CHECK(third.lines.empty());
  CHECK_FALSE(trace.is_watched());
  CHECK(watches->size() == 0);
}

TEST_CASE("a question that finds nothing is answered empty after poll_wait; a second one answers the first") {
  boost::asio::io_context io;
  LiveTrace trace;
  auto watches = std::make_shared<PeerTraceWatches>(io.get_executor(), "g1", trace, PeerTraceWatches::Timing{50ms, 15s});
  Answered first, second;
  watches->poll("w", {}, into(first));
  watches->poll("w", {}, into(second));  // the asker gave up on the first (its relay timed out)
  CHECK(first.status == 200u);
  CHECK(first.lines.empty());
  CHECK_FALSE(second.status);
  io.run_for(300ms);
  CHECK(second.status == 200u);
  CHECK(second.lines.empty());
}

TEST_CASE("watches are bounded in number and in what they hold") {
  boost::asio::io_context io;
  LiveTrace trace;
  auto watches = std::make_shared<PeerTraceWatches>(io.get_executor(), "g1", trace);
  std::vector<Answered> answers(PeerTraceWatches::max_watches + 1);
  for (std::size_t i = 0; i < PeerTraceWatches::max_watches; ++i) watches->poll("w" + std::to_string(i), {}, into(answers[i]));
  Answered refused;
  watches->poll("one-too-many", {}, into(refused));
  CHECK(refused.status == 429u);
  CHECK(watches->size() == PeerTraceWatches::max_watches);
  for (std::size_t i = 0; i < PeerTraceWatches::max_watches; ++i) watches->unwatch("w" + std::to_string(i));
  io.poll();

  // A watch nobody asks about holds at most max_held_bytes; the rest is counted and reported. Its
  // budget is at most max_bytes_per_second, so the events come in two seconds, each within budget.
  TraceFilter unlimited;
  unlimited.bytes_per_second = max_bytes_per_second;
  Answered first;
  watches->poll("w", unlimited, into(first));
  const std::string big(1000, 'x');
  std::size_t published = 0;
  const std::size_t per_second = PeerTraceWatches::max_bytes_per_second * 6 / 10 / 1100;  // ~60% of the budget
  for (int second = 0; second < 2; ++second) {
    if (second == 1) std::this_thread::sleep_for(1050ms);  // the trace's next budget window (a duration)
    for (std::size_t i = 0; i < per_second; ++i, ++published)
      trace.publish(TraceKind::invocation, {"chat", "c", "u", ""}, {{"target", big}});
  }
  io.poll();  // the waiting question gets what is held when its answer runs
  REQUIRE(first.status == 200u);
  CHECK(first.lines.size() <= PeerTraceWatches::max_held_bytes + 200);
  auto events = parse_lines(first.lines);
  REQUIRE(events.size() > 1);
  CHECK(events.back()["kind"] == "skipped");
  CHECK(events.back()["gateway"] == "g1");
  const auto kept = events.size() - 1;
  CHECK(kept + events.back()["count"].get<std::size_t>() == published);

  // The next question starts afresh.
  trace.publish(TraceKind::invocation, {"chat", "c", "u", ""}, {{"target", "after"}});
  Answered second;
  watches->poll("w", {}, into(second));
  REQUIRE(second.status == 200u);
  events = parse_lines(second.lines);
  REQUIRE(events.size() == 1);
  CHECK(events[0]["target"] == "after");
}

TEST_CASE("a watch nobody asks about is let go after idle_expiry") {
  boost::asio::io_context io;
  LiveTrace trace;
  auto watches = std::make_shared<PeerTraceWatches>(io.get_executor(), "g1", trace, PeerTraceWatches::Timing{2s, 300ms});
  Answered first;
  watches->poll("w", {}, into(first));
  trace.publish(TraceKind::connect, {"chat", "c", "u", ""}, {});
  io.poll();
  REQUIRE(first.status == 200u);
  CHECK(trace.is_watched());
  io.run_for(60ms);
  CHECK(trace.is_watched());  // not yet
  io.run_for(800ms);
  CHECK_FALSE(trace.is_watched());
  CHECK(watches->size() == 0);
}

TEST_CASE("a peer's watch request is read as untrusted") {
  TraceFilter filter;
  filter.hub = "chat";
  filter.user = "al\"ice";
  filter.kinds = 0b101;
  filter.sample_every = 10;
  filter.bytes_per_second = 4096;
  auto decoded = decode_peer_watch(encode_peer_watch("g0/7", filter));
  REQUIRE(decoded);
  CHECK(decoded->watch_id == "g0/7");
  CHECK(decoded->filter.hub == "chat");
  CHECK(decoded->filter.user == "al\"ice");
  CHECK(decoded->filter.kinds == 0b101u);
  CHECK(decoded->filter.sample_every == 10u);
  CHECK(decoded->filter.bytes_per_second == 4096u);

  CHECK_FALSE(decode_peer_watch(""));
  CHECK_FALSE(decode_peer_watch("[]"));
  CHECK_FALSE(decode_peer_watch(R"({"hub":"chat"})"));
  CHECK_FALSE(decode_peer_watch(R"({"watch":7})"));
  CHECK_FALSE(decode_peer_watch(R"({"watch":")" + std::string(201, 'w') + "\"}"));
  auto clamped = decode_peer_watch(R"({"watch":"w","kinds":4294967295,"sample":0,"budget":1,"user":5})");
  REQUIRE(clamped);
  CHECK(clamped->filter.kinds == (1u << trace_kind_count) - 1);
  CHECK(clamped->filter.sample_every == 1u);
  CHECK(clamped->filter.bytes_per_second == min_bytes_per_second);
  CHECK(clamped->filter.user.empty());
  auto negative = decode_peer_watch(R"({"watch":"w","sample":-5,"budget":-1})");
  REQUIRE(negative);
  CHECK(negative->filter.sample_every == 1u);
}
