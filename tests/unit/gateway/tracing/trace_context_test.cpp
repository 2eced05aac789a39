#include "tracing/trace_context.hpp"

#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "tracing/otlp_exporter.hpp"

using namespace sb::tracing;

TEST_CASE("reads a traceparent as the W3C spec does") {
  auto context = parse_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
  REQUIRE(context);
  CHECK(context->trace_id == "4bf92f3577b34da6a3ce929d0e0e4736");
  CHECK(context->span_id == "00f067aa0ba902b7");
  CHECK(context->is_sampled());
  CHECK(context->header() == "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
  CHECK_FALSE(parse_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00")->is_sampled());
  CHECK(parse_traceparent("  00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01 "));  // blanks around
  // A later version: its first fields are read as 00's, what follows is ignored.
  CHECK(parse_traceparent("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra")->span_id == "00f067aa0ba902b7");

  const char* invalid[] = {
      "",
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",  // version 00 is exactly 55
      "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",        // version ff
      "00-00000000000000000000000000000000-00f067aa0ba902b7-01",        // all-zero trace id
      "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",        // all-zero span id
      "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",        // uppercase
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0g",
      "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
      "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01x",       // a later version needs '-' after 55
  };
  for (const char* text : invalid) {
    CAPTURE(text);
    CHECK_FALSE(parse_traceparent(text));
  }
}

TEST_CASE("a child keeps the trace and its flags, with a span of its own; a new trace is sampled") {
  auto parent = *parse_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00");
  auto child = child_of(parent);
  CHECK(child.trace_id == parent.trace_id);
  CHECK(child.span_id != parent.span_id);
  CHECK(child.flags == 0);
  CHECK(parse_traceparent(child.header()));
  auto fresh = new_trace();
  CHECK(parse_traceparent(fresh.header()));
  CHECK(fresh.is_sampled());
  CHECK(new_trace().trace_id != fresh.trace_id);
  CHECK(continue_or_start("garbage").trace_id != continue_or_start("garbage").trace_id);
  CHECK(continue_or_start(parent.header()).trace_id == parent.trace_id);
}

TEST_CASE("spans are encoded as OTLP/HTTP JSON") {
  Span span;
  span.context = *parse_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
  span.parent_span_id = "1111111111111111";
  span.name = "upstream say";
  span.kind = SpanKind::client;
  span.start_unix_nanos = 1'700'000'000'000'000'001;
  span.end_unix_nanos = 1'700'000'000'100'000'000;
  span.is_error = true;
  span.attributes = {{"switchboard.hub", "chat"}};
  auto body = nlohmann::json::parse(encode_otlp_json({span}));
  const auto& resource = body["resourceSpans"][0];
  CHECK(resource["resource"]["attributes"][0]["key"] == "service.name");
  CHECK(resource["resource"]["attributes"][0]["value"]["stringValue"] == "switchboard");
  const auto& s = resource["scopeSpans"][0]["spans"][0];
  CHECK(s["traceId"] == "4bf92f3577b34da6a3ce929d0e0e4736");
  CHECK(s["spanId"] == "00f067aa0ba902b7");
  CHECK(s["parentSpanId"] == "1111111111111111");
  CHECK(s["kind"] == 3);
  CHECK(s["startTimeUnixNano"] == "1700000000000000001");
  CHECK(s["status"]["code"] == 2);
  CHECK(s["attributes"][0]["value"]["stringValue"] == "chat");
  CHECK_FALSE(s.contains("traceState"));  // none given
  span.parent_span_id.clear();
  span.trace_state = R"(vendor=a"b\c,other=x y)";
  const auto again = nlohmann::json::parse(encode_otlp_json({span}))["resourceSpans"][0]["scopeSpans"][0]["spans"][0];
  CHECK_FALSE(again.contains("parentSpanId"));
  CHECK(again["traceState"] == R"(vendor=a"b\c,other=x y)");
}

TEST_CASE("span names and attributes are JSON-escaped, invalid UTF-8 replaced") {
  Span span;
  span.context = new_trace();
  span.name = std::string("upstream \"say\"\\\n\xff\xc3\xa9", 19);
  span.attributes = {{"k", std::string("a\x01\xe2\x82", 4)}};
  auto body = nlohmann::json::parse(encode_otlp_json({span, span}));  // valid JSON, two spans
  const auto& spans = body["resourceSpans"][0]["scopeSpans"][0]["spans"];
  REQUIRE(spans.size() == 2);
  CHECK(spans[0]["name"] == "upstream \"say\"\\\n\xEF\xBF\xBD\xc3\xa9");
  CHECK(spans[0]["attributes"][0]["value"]["stringValue"] == "a\x01\xEF\xBF\xBD\xEF\xBF\xBD");
  CHECK(nlohmann::json::parse(encode_otlp_json({}))["resourceSpans"][0]["scopeSpans"][0]["spans"].empty());
}

TEST_CASE("a tracestate is passed on only when it is a well-formed list, at most 512 characters") {
  CHECK(accepted_tracestate("congo=t61rcWkgMzE") == "congo=t61rcWkgMzE");
  CHECK(accepted_tracestate("rojo=00f067aa0ba902b7, congo=t61rcWkgMzE") == "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE");
  CHECK(accepted_tracestate(" a=1 ,, b=2 ") == "a=1,b=2");  // blanks and empty members dropped
  CHECK(accepted_tracestate("").empty());
  CHECK(accepted_tracestate("novalue").empty());
  CHECK(accepted_tracestate("=1").empty());
  CHECK(accepted_tracestate("a=").empty());
  CHECK(accepted_tracestate("a=1=2").empty());
  CHECK(accepted_tracestate("a=\x01").empty());
  CHECK(accepted_tracestate("a=\xc3\xa9").empty());
  CHECK(accepted_tracestate("a=" + std::string(511, 'x')).empty());  // 513 characters
  CHECK(accepted_tracestate("a=" + std::string(510, 'x')).size() == 512);
  std::string many;
  for (int i = 0; i < 33; ++i) many += "k" + std::to_string(i) + "=v,";
  CHECK(accepted_tracestate(many).empty());  // 33 members
}
