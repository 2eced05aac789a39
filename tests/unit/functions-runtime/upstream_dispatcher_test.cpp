#include "switchboard/detail/upstream_dispatcher.hpp"

#include <regex>
#include <stdexcept>
#include <string>

#include <doctest/doctest.h>

#include "switchboard/detail/upstream_signature.hpp"

using switchboard::Context;
using switchboard::Json;
using switchboard::Reply;
using switchboard::detail::UpstreamDispatcher;
using switchboard::detail::UpstreamEvent;
using switchboard::detail::UpstreamRequest;
using switchboard::detail::UpstreamResponse;

namespace {

constexpr const char* kAccessKey = "7aab239577fd4f24bc919802fb629f5f";
constexpr const char* kConnectionId = "0f9c97a2f0bf4706afe87a14e0797b11";

constexpr long long kNow = 1'700'000'000;

// X-Switchboard-Signature v2 of `request` as it stands (its identity headers included) under `key`.
std::string signature_for(const UpstreamRequest& request, const std::string& key) {
  const std::vector<std::pair<std::string, std::string>> headers(request.headers.begin(), request.headers.end());
  return switchboard::detail::sign_request(key, std::to_string(kNow), "POST", "/upstream",
                                           switchboard::detail::canonical_signed_headers(headers), request.body);
}

int events_made = 0;

// A correctly signed event as the gateway sends it (PROTOCOL.md part 2 §2.3, §2.5, part 3 §3.3): both
// signatures, so the same request passes in either signature mode.
UpstreamRequest event(std::string category, std::string event_name, std::string body) {
  UpstreamRequest request;
  request.headers = {{"Content-Type", "application/json; charset=utf-8"},
                     {"X-ASRS-Hub", "chat"},
                     {"X-ASRS-Category", std::move(category)},
                     {"X-ASRS-Event", std::move(event_name)},
                     {"X-ASRS-Connection-Id", kConnectionId},
                     {"X-ASRS-Signature", switchboard::detail::sign_connection_id(kAccessKey, kConnectionId)},
                     {"X-Switchboard-Timestamp", std::to_string(kNow)},
                     // Each event its own id, as the gateway sends: the same signed request twice is a replay.
                     {"X-Switchboard-Event-Id", "event-" + std::to_string(++events_made)}};
  request.target = "/upstream";
  request.now_seconds = kNow;
  request.body = std::move(body);
  request.headers.emplace("X-Switchboard-Signature", signature_for(request, kAccessKey));
  return request;
}

UpstreamRequest connected() { return event("connections", "connected", R"({"type":10})"); }

UpstreamRequest invocation(std::string target, std::string body) {
  return event("messages", std::move(target), std::move(body));
}

// Sets a header as the gateway would have sent it: the signature is made again over the new headers,
// unless the signature (or its timestamp) is what the test changes.
void set_header(UpstreamRequest& request, const std::string& name, std::string value) {
  request.headers.erase(name);
  request.headers.emplace(name, std::move(value));
  if (name == "X-Switchboard-Signature" || name == "X-Switchboard-Timestamp") return;
  request.headers.erase("X-Switchboard-Signature");
  request.headers.emplace("X-Switchboard-Signature", signature_for(request, kAccessKey));
}

Json body_of(const UpstreamResponse& response) { return Json::parse(response.body); }

UpstreamDispatcher dispatcher_with_keys(std::vector<std::string> keys) {
  return UpstreamDispatcher(switchboard::AppOptions{.access_keys = std::move(keys)});
}

}  // namespace

TEST_CASE("refuses a body that is neither JSON nor MessagePack with 415") {
  const UpstreamDispatcher dispatcher = dispatcher_with_keys({kAccessKey});
  UpstreamRequest request = connected();
  set_header(request, "Content-Type", "text/plain");
  const UpstreamResponse response = dispatcher.dispatch(request);
  CHECK(response.status == 415);
  CHECK(body_of(response)["code"] == "UnsupportedMediaType");
}

TEST_CASE("hands a MessagePack invocation to the handler as JSON, bytes as base64") {
  UpstreamDispatcher dispatcher = dispatcher_with_keys({kAccessKey});
  Context seen;
  dispatcher.add(UpstreamEvent::message, "*", "*", [&](const Context& context, Reply& reply) {
    seen = context;
    reply.result(1);
  });
  SUBCASE("the JS client's 5-element form with an id") {
    // [1, {}, "7", "say", ["hi", 1.5, bin(01 02)]]
    UpstreamRequest request = invocation("say", std::string("\x95\x01\x80\xa1" "7" "\xa3say\x93\xa2hi\xcb\x3f\xf8\0\0\0\0\0\0\xc4\x02\x01\x02", 26));
    set_header(request, "Content-Type", "application/x-msgpack");
    const UpstreamResponse response = dispatcher.dispatch(request);
    CHECK(response.status == 200);
    CHECK(seen.invocation_id == std::optional<std::string>("7"));
    CHECK(seen.target == "say");
    CHECK(seen.arguments == Json::parse(R"(["hi", 1.5, "AQI="])"));
  }
  SUBCASE("a send() with nil id") {
    UpstreamRequest request = invocation("say", std::string("\x95\x01\x80\xc0\xa3say\x90", 9));
    set_header(request, "Content-Type", "application/x-msgpack");
    CHECK(dispatcher.dispatch(request).status == 200);
    CHECK_FALSE(seen.invocation_id.has_value());
  }
  SUBCASE("not an invocation array") {
    UpstreamRequest request = invocation("say", std::string("\x92\x06\x80", 3));
    set_header(request, "Content-Type", "application/x-msgpack");
    CHECK(dispatcher.dispatch(request).status == 400);
  }
}

TEST_CASE("names the missing X-ASRS header in a 400") {
  const UpstreamDispatcher dispatcher = dispatcher_with_keys({kAccessKey});
  for (const char* header : {"X-ASRS-Hub", "X-ASRS-Category", "X-ASRS-Event", "X-ASRS-Connection-Id"}) {
    CAPTURE(header);
    UpstreamRequest request = connected();
    request.headers.erase(header);
    const UpstreamResponse response = dispatcher.dispatch(request);
    CHECK(response.status == 400);
    CHECK(body_of(response)["code"] == "MissingHeader");
    CHECK(body_of(response)["message"].get<std::string>().find(header) != std::string::npos);
  }
}

TEST_CASE("in Azure mode refuses an event whose X-ASRS-Signature matches no access key with 401") {
  const UpstreamDispatcher azure(switchboard::AppOptions{.access_keys = {kAccessKey},
                                                         .signature_mode = switchboard::SignatureMode::azure});
  CHECK(azure.dispatch(connected()).status == 200);
  SUBCASE("signed with another key") {
    UpstreamRequest request = connected();
    set_header(request, "X-ASRS-Signature", switchboard::detail::sign_connection_id("other", kConnectionId));
    CHECK(azure.dispatch(request).status == 401);
  }
  SUBCASE("not signed") {
    UpstreamRequest request = connected();
    request.headers.erase("X-ASRS-Signature");
    CHECK(azure.dispatch(request).status == 401);
  }
}

TEST_CASE("by default checks X-Switchboard-Signature over the whole request and its timestamp") {
  const UpstreamDispatcher dispatcher = dispatcher_with_keys({kAccessKey});
  CHECK(dispatcher.dispatch(connected()).status == 200);
  SUBCASE("the Azure signature alone is not enough") {
    UpstreamRequest request = connected();
    request.headers.erase("X-Switchboard-Signature");
    CHECK(dispatcher.dispatch(request).status == 401);
  }
  SUBCASE("another key") {
    UpstreamRequest request = connected();
    set_header(request, "X-Switchboard-Signature", signature_for(request, "other"));
    CHECK(dispatcher.dispatch(request).status == 401);
  }
  SUBCASE("a body changed after signing") {
    UpstreamRequest request = connected();
    request.body = R"({"type":11})";
    CHECK(dispatcher.dispatch(request).status == 401);
  }
  SUBCASE("another path") {
    UpstreamRequest request = connected();
    request.target = "/upstream?x=1";
    CHECK(dispatcher.dispatch(request).status == 401);
  }
  SUBCASE("a timestamp outside the 5-minute window, either way") {
    UpstreamRequest request = connected();
    request.now_seconds = kNow + 301;
    CHECK(dispatcher.dispatch(request).status == 401);
    request.now_seconds = kNow - 301;
    CHECK(dispatcher.dispatch(request).status == 401);
    request.now_seconds = kNow + 299;
    CHECK(dispatcher.dispatch(request).status == 200);
  }
  SUBCASE("a second key signs too (rotation)") {
    const UpstreamDispatcher rotated = dispatcher_with_keys({"new-key", kAccessKey});
    CHECK(rotated.dispatch(connected()).status == 200);
  }
  SUBCASE("no access key configured") { CHECK(dispatcher_with_keys({}).dispatch(connected()).status == 401); }
}

TEST_CASE("skips the signature check when validation is turned off") {
  UpstreamRequest request = connected();
  request.headers.erase("X-ASRS-Signature");
  request.headers.erase("X-Switchboard-Signature");
  const UpstreamDispatcher dispatcher(switchboard::AppOptions{.validate_signature = false});
  CHECK(dispatcher.dispatch(request).status == 200);
}

TEST_CASE("answers connection events without a handler with an empty 200") {
  const UpstreamDispatcher dispatcher = dispatcher_with_keys({kAccessKey});
  const UpstreamResponse opened = dispatcher.dispatch(connected());
  CHECK(opened.status == 200);
  CHECK(opened.body.empty());
  CHECK(dispatcher.dispatch(event("connections", "disconnected", R"({"type":11})")).status == 200);
}

TEST_CASE("answers an invocation without a handler with the error \"Unknown method 'x' on hub 'y'.\" and logs it") {
  UpstreamDispatcher dispatcher = dispatcher_with_keys({kAccessKey});
  SUBCASE("no handler at all") {}
  SUBCASE("handlers for other methods and hubs only") {
    dispatcher.add(UpstreamEvent::message, "chat", "shout", [](const Context&, Reply& reply) { reply.result(1); });
    dispatcher.add(UpstreamEvent::message, "news", "*", [](const Context&, Reply& reply) { reply.result(1); });
  }
  // The envelope's error is the caller's Completion error (docs/upstream.md); a 404 would reach the
  // client as "Invocation failed, status code 404".
  const UpstreamResponse response =
      dispatcher.dispatch(invocation("say", R"({"type":1,"invocationId":"0","target":"say","arguments":[]})"));
  CHECK(response.status == 200);
  CHECK(body_of(response) == Json{{"error", "Unknown method 'say' on hub 'chat'."}});
  CHECK(response.log_line ==
        std::string("info functions unknown_method hub=\"chat\" target=\"say\" conn=\"") + kConnectionId + "\"");
}

TEST_CASE("hands a handler the invocation's target, arguments and invocation id") {
  UpstreamDispatcher dispatcher = dispatcher_with_keys({kAccessKey});
  Context seen;
  dispatcher.add(UpstreamEvent::message, "chat", "say", [&](const Context& context, Reply& reply) {
    seen = context;
    reply.result(true);
  });
  const UpstreamResponse response = dispatcher.dispatch(
      invocation("say", R"({"type":1,"invocationId":"7","target":"say","arguments":["lobby","hi"]})"));
  CHECK(response.status == 200);
  CHECK(response.content_type == "application/json");
  CHECK(body_of(response) == Json{{"result", true}});
  CHECK(seen.hub == "chat");
  CHECK(seen.category == "messages");
  CHECK(seen.event == "say");
  CHECK(seen.connection_id == kConnectionId);
  CHECK(seen.target == "say");
  CHECK(seen.invocation_id == "7");
  CHECK(seen.arguments == Json::array({"lobby", "hi"}));
}

TEST_CASE("leaves the invocation id empty for a send() and answers an empty reply with an empty body") {
  UpstreamDispatcher dispatcher = dispatcher_with_keys({kAccessKey});
  bool has_invocation_id = true;
  dispatcher.add(UpstreamEvent::message, "chat", "say",
                 [&](const Context& context, Reply&) { has_invocation_id = context.invocation_id.has_value(); });
  const UpstreamResponse response =
      dispatcher.dispatch(invocation("say", R"({"type":1,"target":"say","arguments":[]})"));
  CHECK(response.status == 200);
  CHECK(response.body.empty());
  CHECK_FALSE(has_invocation_id);
}

TEST_CASE("fills the user, claims, query and headers of the context") {
  UpstreamDispatcher dispatcher = dispatcher_with_keys({kAccessKey});
  Context seen;
  dispatcher.add(UpstreamEvent::connected, "chat", "", [&](const Context& context, Reply&) { seen = context; });
  UpstreamRequest request = connected();
  set_header(request, "X-ASRS-User-Id", "alice");
  set_header(request, "X-ASRS-User-Claims", "asrs.s.uid: alice, role: admin, role: editor");
  set_header(request, "X-ASRS-Client-Query", "?hub=chat&room=the%20lobby");
  REQUIRE(dispatcher.dispatch(request).status == 200);
  CHECK(seen.user_id == "alice");
  CHECK(seen.claim("role") == "admin");
  CHECK(seen.claims.count("role") == 2);
  CHECK(seen.query_value("room") == "the lobby");
  CHECK(seen.header("x-asrs-user-id") == "alice");
  CHECK(seen.header("X-Not-There").empty());
}

TEST_CASE("hands a disconnected handler the error that closed the connection") {
  UpstreamDispatcher dispatcher = dispatcher_with_keys({kAccessKey});
  std::string error = "unset";
  dispatcher.add(UpstreamEvent::disconnected, "*", "", [&](const Context& context, Reply&) { error = context.error; });
  dispatcher.dispatch(event("connections", "disconnected", R"({"type":11,"error":"transport failed"})"));
  CHECK(error == "transport failed");
  dispatcher.dispatch(event("connections", "disconnected", R"({"type":11})"));
  CHECK(error.empty());
}

TEST_CASE("matches hubs and targets case-insensitively") {
  UpstreamDispatcher dispatcher = dispatcher_with_keys({kAccessKey});
  dispatcher.add(UpstreamEvent::message, "Chat", "SAY", [](const Context&, Reply& reply) { reply.result(1); });
  UpstreamRequest request = invocation("say", R"({"type":1,"invocationId":"0","target":"Say","arguments":[]})");
  set_header(request, "X-ASRS-Hub", "CHAT");
  CHECK(body_of(dispatcher.dispatch(request)) == Json{{"result", 1}});
}

TEST_CASE("prefers the handler registered for the exact hub and target over wildcards") {
  UpstreamDispatcher dispatcher = dispatcher_with_keys({kAccessKey});
  dispatcher.add(UpstreamEvent::message, "*", "*", [](const Context&, Reply& reply) { reply.result("any"); });
  dispatcher.add(UpstreamEvent::message, "*", "say", [](const Context&, Reply& reply) { reply.result("any hub"); });
  dispatcher.add(UpstreamEvent::message, "chat", "*", [](const Context&, Reply& reply) { reply.result("chat"); });
  dispatcher.add(UpstreamEvent::message, "chat", "say", [](const Context&, Reply& reply) { reply.result("exact"); });
  const auto result_for = [&](std::string hub, std::string target) {
    UpstreamRequest request =
        invocation(target, Json{{"type", 1}, {"invocationId", "0"}, {"target", target}, {"arguments", Json::array()}}.dump());
    set_header(request, "X-ASRS-Hub", std::move(hub));
    return body_of(dispatcher.dispatch(request))["result"];
  };
  CHECK(result_for("chat", "say") == "exact");
  CHECK(result_for("chat", "shout") == "chat");
  CHECK(result_for("news", "say") == "any hub");
  CHECK(result_for("news", "shout") == "any");
}

TEST_CASE("refuses a malformed event body with 400") {
  UpstreamDispatcher dispatcher = dispatcher_with_keys({kAccessKey});
  dispatcher.add(UpstreamEvent::message, "*", "*", [](const Context&, Reply& reply) { reply.result(1); });
  dispatcher.add(UpstreamEvent::connected, "*", "", [](const Context&, Reply&) {});
  for (const char* body : {"not json", R"({"type":3,"target":"say","arguments":[]})",
                           R"({"type":1,"arguments":[]})", R"({"type":1,"target":"say","arguments":{}})",
                           R"({"type":1,"target":"say","invocationId":5,"arguments":[]})", "[1]"}) {
    CAPTURE(body);
    CHECK(dispatcher.dispatch(invocation("say", body)).status == 400);
  }
  CHECK(dispatcher.dispatch(event("connections", "connected", R"({"type":11})")).status == 400);
}

TEST_CASE("refuses an invocation whose target differs from the X-ASRS-Event header") {
  UpstreamDispatcher dispatcher = dispatcher_with_keys({kAccessKey});
  dispatcher.add(UpstreamEvent::message, "*", "*", [](const Context&, Reply& reply) { reply.result(1); });
  const UpstreamResponse response =
      dispatcher.dispatch(invocation("say", R"({"type":1,"invocationId":"0","target":"shout","arguments":[]})"));
  CHECK(response.status == 400);
}

TEST_CASE("with detailed_errors, answers an invocation whose handler throws with 200 and the exception's text") {
  UpstreamDispatcher dispatcher(switchboard::AppOptions{.access_keys = {kAccessKey}, .detailed_errors = true});
  dispatcher.add(UpstreamEvent::message, "chat", "say", [](const Context&, Reply& reply) {
    reply.send_to_all("never", Json::array());
    throw std::runtime_error("room is full");
  });
  const UpstreamResponse response =
      dispatcher.dispatch(invocation("say", R"({"type":1,"invocationId":"0","target":"say","arguments":[]})"));
  CHECK(response.status == 200);
  CHECK(body_of(response) == Json{{"error", "room is full"}});
  CHECK(response.log_line.find("handler_failed") != std::string::npos);
}

TEST_CASE("refuses a connection whose connected handler throws with 403") {
  UpstreamDispatcher dispatcher(switchboard::AppOptions{.access_keys = {kAccessKey}, .detailed_errors = true});
  dispatcher.add(UpstreamEvent::connected, "chat", "", [](const Context&, Reply&) { throw std::runtime_error("banned"); });
  const UpstreamResponse response = dispatcher.dispatch(connected());
  CHECK(response.status == 403);
  CHECK(body_of(response) == Json{{"error", "banned"}});
  CHECK_FALSE(response.log_line.empty());
}

TEST_CASE("by default hides a handler's exception text from the client behind an error id that the log line repeats") {
  UpstreamDispatcher dispatcher = dispatcher_with_keys({kAccessKey});
  const std::string what = "[json.exception.out_of_range.401] array index 0 is out of range";
  dispatcher.add(UpstreamEvent::message, "chat", "add",
                 [&](const Context& context, Reply&) { (void)context.arguments.at(0); });
  dispatcher.add(UpstreamEvent::connected, "chat", "",
                 [](const Context&, Reply&) { throw std::runtime_error("db down"); });

  // "<generic text> (error id <16 hex digits>)" -> the id; fails the test when the shape differs.
  const auto error_id_in = [](const std::string& text, const std::string& generic) {
    const std::regex shape(generic + R"( \(error id ([0-9a-f]{16})\))");
    std::smatch match;
    REQUIRE(std::regex_match(text, match, shape));
    return match[1].str();
  };

  SUBCASE("an invocation") {
    const UpstreamResponse response =
        dispatcher.dispatch(invocation("add", R"({"type":1,"invocationId":"0","target":"add","arguments":[]})"));
    CHECK(response.status == 200);
    const std::string error = body_of(response)["error"];
    CHECK(error.find("json.exception") == std::string::npos);
    const std::string id = error_id_in(error, R"(An unexpected error occurred invoking 'add' on the server\.)");
    CHECK(response.log_line.find("handler_failed") != std::string::npos);
    CHECK(response.log_line.find(" error_id=" + id + " ") != std::string::npos);
    CHECK(response.log_line.find(what) != std::string::npos);

    const UpstreamResponse again =
        dispatcher.dispatch(invocation("add", R"({"type":1,"invocationId":"1","target":"add","arguments":[]})"));
    CHECK(error_id_in(body_of(again)["error"], R"(An unexpected error occurred invoking 'add' on the server\.)") != id);
  }
  SUBCASE("a connected event") {
    const UpstreamResponse response = dispatcher.dispatch(connected());
    CHECK(response.status == 403);
    const std::string id =
        error_id_in(body_of(response)["error"], R"(An unexpected error occurred connecting to hub 'chat'\.)");
    CHECK(response.log_line.find(" error_id=" + id + " error=\"db down\"") != std::string::npos);
  }
}

TEST_CASE("answers with the status and envelope the handler chose") {
  UpstreamDispatcher dispatcher = dispatcher_with_keys({kAccessKey});
  dispatcher.add(UpstreamEvent::connected, "chat", "", [](const Context& context, Reply& reply) {
    reply.send_to_connection(context.connection_id, "welcome", Json::array({"alice"}));
  });
  const UpstreamResponse response = dispatcher.dispatch(connected());
  CHECK(response.status == 200);
  CHECK(body_of(response) ==
        Json::parse(R"({"actions":[{"target":"welcome","arguments":["alice"],"connectionId":"0f9c97a2f0bf4706afe87a14e0797b11"}]})"));

  dispatcher.add(UpstreamEvent::connected, "chat", "",
                 [](const Context&, Reply& reply) { reply.error("not today").status(403); });
  const UpstreamResponse refused = dispatcher.dispatch(connected());
  CHECK(refused.status == 403);
  CHECK(body_of(refused) == Json{{"error", "not today"}});
}

TEST_CASE("the signature covers the identity headers: a request replayed as someone else is refused") {
  const UpstreamDispatcher dispatcher = dispatcher_with_keys({kAccessKey});
  UpstreamRequest signed_as_alice = connected();
  set_header(signed_as_alice, "X-ASRS-User-Id", "alice");
  for (const auto& [name, value] : std::vector<std::pair<std::string, std::string>>{
           {"X-ASRS-User-Id", "mallory"},
           {"X-ASRS-User-Claims", "role: admin"},
           {"X-ASRS-Hub", "admin"},
           {"X-ASRS-Connection-Id", "another"},
           {"X-ASRS-Event", "disconnected"},
           {"X-Switchboard-Event-Id", "another-event"},
           {"Content-Type", "application/x-msgpack"}}) {
    CAPTURE(name);
    UpstreamRequest tampered = signed_as_alice;
    tampered.headers.erase(name);
    tampered.headers.emplace(name, value);  // the signature stays alice's
    CHECK(dispatcher.dispatch(tampered).status == 401);
  }
  UpstreamRequest added = connected();  // anonymous, then a user added after signing
  added.headers.emplace("X-ASRS-User-Id", "mallory");
  CHECK(dispatcher.dispatch(added).status == 401);
  UpstreamRequest v1_only = connected();  // a receiver must not fall back to v1, which covers no identity
  v1_only.headers.erase("X-Switchboard-Signature");
  v1_only.headers.emplace("X-Switchboard-Signature", "v1=" + std::string(64, '0'));
  CHECK(dispatcher.dispatch(v1_only).status == 401);
  CHECK(dispatcher.dispatch(signed_as_alice).status == 200);
}

TEST_CASE("a signed request served once is refused as a replay; one whose handler failed may come again") {
  UpstreamDispatcher dispatcher = dispatcher_with_keys({kAccessKey});
  int calls = 0;
  bool fail = true;
  dispatcher.add(UpstreamEvent::connected, "chat", "", [&](const Context&, Reply&) {
    ++calls;
    if (fail) throw std::runtime_error("not yet");
  });
  const UpstreamRequest request = connected();
  CHECK(dispatcher.dispatch(request).status == 403);  // failed: a retry of the same request must still run
  fail = false;
  CHECK(dispatcher.dispatch(request).status == 200);
  auto replay = dispatcher.dispatch(request);
  CHECK(replay.status == 409);
  CHECK(body_of(replay)["code"] == "Replayed");
  CHECK(calls == 2);
  CHECK(dispatcher.dispatch(connected()).status == 200);  // another event is not a replay
}

TEST_CASE("a StreamInvocation runs the stream handler, with the stream's id; the wrong kind of call is refused") {
  UpstreamDispatcher dispatcher = dispatcher_with_keys({kAccessKey});
  Context seen;
  dispatcher.add(UpstreamEvent::stream, "chat", "counter", [&](const Context& ctx, Reply&) { seen = ctx; });
  dispatcher.add(UpstreamEvent::message, "chat", "echo", [](const Context&, Reply& reply) { reply.result(1); });

  auto started = dispatcher.dispatch(invocation("counter", R"({"type":4,"invocationId":"7","target":"counter","arguments":[3]})"));
  CHECK(started.status == 200);
  CHECK(started.body.empty());  // the stream stays open
  CHECK(seen.is_stream);
  CHECK(seen.invocation_id == "7");
  CHECK(seen.arguments == Json::array({3}));

  auto not_streaming = dispatcher.dispatch(invocation("echo", R"({"type":4,"invocationId":"8","target":"echo","arguments":[]})"));
  CAPTURE(not_streaming.status);
  CAPTURE(not_streaming.body);
  CHECK(body_of(not_streaming)["error"] ==
        "The client attempted to invoke the non-streaming 'echo' method with a streaming invocation.");
  auto only_streams = dispatcher.dispatch(invocation("counter", R"({"type":1,"invocationId":"9","target":"counter","arguments":[]})"));
  CHECK(body_of(only_streams)["error"] ==
        "The client attempted to invoke the streaming 'counter' method with a non-streaming invocation.");
}

namespace {

// A part of a client upload as the gateway sends it: framed records of stream `stream_id`.
UpstreamRequest upload_part(std::string target, std::string stream_id, std::uint64_t sequence, std::string body,
                            bool is_messagepack = false) {
  UpstreamRequest request = invocation(std::move(target), std::move(body));
  if (is_messagepack) set_header(request, "Content-Type", "application/x-msgpack");
  set_header(request, "X-Switchboard-Stream-Id", std::move(stream_id));
  set_header(request, "X-Switchboard-Stream-Sequence", std::to_string(sequence));
  return request;
}

std::string msgpack_record(const Json& array) {
  auto bytes = Json::to_msgpack(array);
  std::string out;
  for (std::size_t n = bytes.size(); ; n >>= 7) {  // VarInt length
    out.push_back(static_cast<char>((n & 0x7f) | (n >= 0x80 ? 0x80 : 0)));
    if (n < 0x80) break;
  }
  return out + std::string(bytes.begin(), bytes.end());
}

}  // namespace

TEST_CASE("an upload runs the upload handler for its invocation and for each part, items in order") {
  UpstreamDispatcher dispatcher = dispatcher_with_keys({kAccessKey});
  std::vector<Context> seen;
  dispatcher.add(UpstreamEvent::upload, "chat", "sum", [&](const Context& ctx, Reply& reply) {
    seen.push_back(ctx);
    if (ctx.upload && ctx.upload->is_complete) reply.result(42);
  });
  dispatcher.add(UpstreamEvent::message, "chat", "echo", [](const Context&, Reply& reply) { reply.result(1); });

  auto opened = dispatcher.dispatch(invocation("sum", R"({"type":1,"invocationId":"3","target":"sum","arguments":["x"],"streamIds":["0"]})"));
  CHECK(opened.status == 200);
  CHECK(opened.body.empty());
  auto items = dispatcher.dispatch(upload_part("sum", "0", 0,
      "{\"type\":2,\"invocationId\":\"0\",\"item\":{\"z\":1,\"a\":2}}\x1e{\"type\":2,\"invocationId\":\"0\",\"item\":3}\x1e"));
  CHECK(items.status == 200);
  auto ended = dispatcher.dispatch(upload_part("sum", "0", 2, "{\"type\":3,\"invocationId\":\"0\",\"error\":\"gone\"}\x1e"));
  CHECK(body_of(ended)["result"] == 42);

  REQUIRE(seen.size() == 3);
  CHECK(seen[0].stream_ids == std::vector<std::string>{"0"});
  CHECK(seen[0].arguments == Json::array({"x"}));
  CHECK_FALSE(seen[0].upload.has_value());
  REQUIRE(seen[1].upload.has_value());
  CHECK(seen[1].upload->stream_id == "0");
  CHECK(seen[1].upload->first_sequence == 0);
  REQUIRE(seen[1].upload->items.size() == 2);
  CHECK(seen[1].upload->items[0].dump() == R"({"z":1,"a":2})");  // keys as the client wrote them
  CHECK_FALSE(seen[1].upload->is_complete);
  CHECK(seen[2].upload->first_sequence == 2);
  CHECK(seen[2].upload->items.empty());
  CHECK(seen[2].upload->is_complete);
  CHECK(seen[2].upload->error == "gone");
  CHECK(seen[2].target == "sum");

  SUBCASE("MessagePack parts read the same") {
    seen.clear();
    auto part = dispatcher.dispatch(upload_part("sum", "5", 7,
        msgpack_record(Json::array({2, Json::object(), "5", Json::array({1, "b"})})) +
            msgpack_record(Json::array({3, Json::object(), "5", 2})), true));
    CHECK(body_of(part)["result"] == 42);
    REQUIRE(seen.size() == 1);
    CHECK(seen[0].upload->first_sequence == 7);
    CHECK(seen[0].upload->items == std::vector<Json>{Json::array({1, "b"})});
    CHECK(seen[0].upload->is_complete);
    CHECK_FALSE(seen[0].upload->error.has_value());
  }
  SUBCASE("a MessagePack invocation's streamIds are read") {
    seen.clear();
    UpstreamRequest request = invocation("sum", [] {
      auto bytes = Json::to_msgpack(Json::array({1, Json::object(), "4", "sum", Json::array(), Json::array({"1", "2"})}));
      return std::string(bytes.begin(), bytes.end());
    }());
    set_header(request, "Content-Type", "application/x-msgpack");
    CHECK(dispatcher.dispatch(request).status == 200);
    REQUIRE(seen.size() == 1);
    CHECK(seen[0].stream_ids == std::vector<std::string>{"1", "2"});
  }
  SUBCASE("uploads to a method that takes none, and plain calls to one that takes one, are refused as ASP.NET does") {
    auto to_echo = dispatcher.dispatch(invocation("echo", R"({"type":1,"invocationId":"3","target":"echo","arguments":[],"streamIds":["0","1"]})"));
    CHECK(body_of(to_echo)["error"] == "Client sent 2 stream(s), Hub method expects 0.");
    auto plain = dispatcher.dispatch(invocation("sum", R"({"type":1,"invocationId":"3","target":"sum","arguments":[]})"));
    CHECK(body_of(plain)["error"] == "Client sent 0 stream(s), Hub method expects at least 1.");
  }
  SUBCASE("malformed parts get 400 and run nothing") {
    seen.clear();
    const std::string bad_bodies[] = {
        "",                                                          // no record
        "{\"type\":2,\"invocationId\":\"0\",\"item\":1}",            // not framed
        "{\"type\":2,\"invocationId\":\"9\",\"item\":1}\x1e",        // another stream's item
        "{\"type\":3,\"invocationId\":\"0\"}\x1e{\"type\":2,\"invocationId\":\"0\",\"item\":1}\x1e",  // item after the end
        "{\"type\":1,\"target\":\"sum\",\"arguments\":[]}\x1e",      // not an upload record
        "not json\x1e",
    };
    for (const auto& body : bad_bodies) {
      CAPTURE(body);
      CHECK(dispatcher.dispatch(upload_part("sum", "0", 0, body)).status == 400);
    }
    auto bad_sequence = upload_part("sum", "0", 0, "{\"type\":2,\"invocationId\":\"0\",\"item\":1}\x1e");
    set_header(bad_sequence, "X-Switchboard-Stream-Sequence", "-1");
    CHECK(dispatcher.dispatch(bad_sequence).status == 400);
    CHECK(dispatcher.dispatch(upload_part("sum", "0", 0, "\x85\x01", true)).status == 400);  // truncated VarInt body
    CHECK(seen.empty());
  }
}
