#include "console/live_trace.hpp"

#include <doctest/doctest.h>

#include <nlohmann/json.hpp>
#include <vector>

using namespace sb::console;

namespace {

struct Collector : TraceSink {
  std::vector<nlohmann::json> events;
  void deliver(sb::Frame lines) override {
    std::string_view rest = *lines;
    while (!rest.empty()) {
      auto end = rest.find('\n');
      events.push_back(nlohmann::json::parse(rest.substr(0, end)));  // throws on a line that isn't JSON
      rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 1);
    }
  }
};

}  // namespace

TEST_CASE("the live trace costs nothing and builds nothing while nobody watches") {
  LiveTrace trace;
  CHECK_FALSE(trace.is_watched());
  auto sink = std::make_shared<Collector>();
  {
    auto watch = trace.watch({}, sink);
    CHECK(trace.is_watched());
    trace.publish(TraceKind::connect, {"chat", "c1", "alice", ""}, {{"transport", "WebSockets"}});
  }
  CHECK_FALSE(trace.is_watched());
  trace.publish(TraceKind::connect, {"chat", "c2", "bob", ""}, {});
  REQUIRE(sink->events.size() == 1);
  CHECK(sink->events[0]["kind"] == "connect");
  CHECK(sink->events[0]["connection"] == "c1");
  CHECK(sink->events[0]["transport"] == "WebSockets");
  CHECK(sink->events[0].contains("t"));
  CHECK_FALSE(sink->events[0].contains("trace"));  // none given
}

TEST_CASE("each viewer's filter takes its hub, user, connection and kinds") {
  LiveTrace trace;
  auto everything = std::make_shared<Collector>();
  auto alice = std::make_shared<Collector>();
  auto chat_rest = std::make_shared<Collector>();
  auto w1 = trace.watch({}, everything);
  TraceFilter by_user;
  by_user.user = "alice";
  auto w2 = trace.watch(by_user, alice);
  TraceFilter by_hub_and_kind;
  by_hub_and_kind.hub = "CHAT";
  by_hub_and_kind.kinds = 1u << static_cast<unsigned>(TraceKind::rest);
  auto w3 = trace.watch(by_hub_and_kind, chat_rest);

  trace.publish(TraceKind::invocation, {"chat", "c1", "alice", "t1"}, {{"target", "send"}});
  trace.publish(TraceKind::invocation, {"chat", "c2", "bob", "t2"}, {{"target", "send"}});
  trace.publish(TraceKind::rest, {"Chat", "", "", "t3"}, {{"status", 202}, {"latencyMs", 1.5}});
  trace.publish(TraceKind::rest, {"other", "", "", "t4"}, {{"status", 202}});
  CHECK(everything->events.size() == 4);
  REQUIRE(alice->events.size() == 1);
  CHECK(alice->events[0]["user"] == "alice");
  CHECK(alice->events[0]["trace"] == "t1");
  REQUIRE(chat_rest->events.size() == 1);
  CHECK(chat_rest->events[0]["trace"] == "t3");
  CHECK(chat_rest->events[0]["status"] == 202);  // a number, not text
  CHECK(chat_rest->events[0]["latencyMs"].get<double>() == doctest::Approx(1.5));
}

TEST_CASE("sampling keeps one in N of the busy kinds, and lifecycle events always") {
  LiveTrace trace;
  auto sink = std::make_shared<Collector>();
  TraceFilter filter;
  filter.sample_every = 10;
  auto watch = trace.watch(filter, sink);
  for (int i = 0; i < 100; ++i) trace.publish(TraceKind::upstream, {"h", "c", "u", ""}, {{"i", i}});
  trace.publish(TraceKind::disconnect, {"h", "c", "u", ""}, {});
  REQUIRE(sink->events.size() == 11);
  CHECK(sink->events[0]["i"] == 0);
  CHECK(sink->events[1]["i"] == 10);
  CHECK(sink->events.back()["kind"] == "disconnect");
}

TEST_CASE("past its byte budget a viewer's events are skipped and counted") {
  LiveTrace trace;
  auto sink = std::make_shared<Collector>();
  TraceFilter filter;
  filter.bytes_per_second = 1024;
  auto watch = trace.watch(filter, sink);
  const std::string padding(200, 'x');
  for (int i = 0; i < 50; ++i) trace.publish(TraceKind::rest, {"h", "", "", ""}, {{"path", padding}});
  const auto taken = sink->events.size();
  CHECK(taken >= 3);
  CHECK(taken <= 5);  // about 1024 / 300 bytes
  for (const auto& e : sink->events) CHECK(e["kind"] == "rest");
}

TEST_CASE("every event is one JSON line, whatever bytes its fields hold") {
  LiveTrace trace;
  auto sink = std::make_shared<Collector>();
  auto watch = trace.watch({}, sink);
  const std::string nasty = std::string("quote\" back\\ nl\n nul") + '\0' + "\x01 \xff\xfe bad utf8 \xc3\xa9 ok \xe2\x82 cut \xed\xa0\x80 surrogate";
  trace.publish(TraceKind::disconnect, {nasty, nasty, nasty, nasty}, {{nasty, nasty}});
  REQUIRE(sink->events.size() == 1);
  const auto user = sink->events[0]["user"].get<std::string>();
  CHECK(user.find("quote\" back\\ nl\n nul") == 0);
  CHECK(user.find("\xc3\xa9 ok") != std::string::npos);  // valid UTF-8 passes
  CHECK(user.find("\xef\xbf\xbd") != std::string::npos);  // invalid bytes become U+FFFD
}

TEST_CASE("trace kinds have stable names") {
  for (std::size_t i = 0; i < trace_kind_count; ++i) {
    auto kind = static_cast<TraceKind>(i);
    CHECK(parse_trace_kind(to_string(kind)) == kind);
  }
  CHECK_FALSE(parse_trace_kind("Connect"));
  CHECK_FALSE(parse_trace_kind(""));
}
