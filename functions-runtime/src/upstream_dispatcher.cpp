#include "switchboard/detail/upstream_dispatcher.hpp"

#include <optional>

#include <nlohmann/json.hpp>

#include "switchboard/detail/ascii.hpp"
#include "switchboard/detail/base64url.hpp"
#include "switchboard/detail/crypto.hpp"
#include "switchboard/detail/idempotency_cache.hpp"
#include "switchboard/detail/log_line.hpp"
#include "switchboard/detail/upstream_signature.hpp"

namespace switchboard::detail {
namespace {

// Binary values become base64 strings, as .NET's JSON protocol writes byte[]; everything else maps as is.
void binary_to_base64(Json& value) {
  if (value.is_binary()) {
    const auto& bytes = value.get_binary();
    value = base64_encode(std::string(bytes.begin(), bytes.end()));
  } else if (value.is_structured()) {
    for (auto& element : value) binary_to_base64(element);
  }
}

// [1 or 4, headers, invocationId|nil, target, arguments(, streamIds)] ->
// {"type":1 or 4, "invocationId"?, "target", "arguments"}
Json invocation_from_messagepack(const std::string& body) {
  Json array = Json::from_msgpack(body, /*strict=*/true, /*allow_exceptions=*/false);
  if (array.is_discarded() || !array.is_array() || array.size() < 5 || (array[0] != 1 && array[0] != 4) ||
      !array[3].is_string() || !array[4].is_array()) {
    return Json(Json::value_t::discarded);
  }
  Json invocation = {{"type", array[0]}, {"target", array[3]}, {"arguments", array[4]}};
  if (array[2].is_string() && !array[2].get_ref<const std::string&>().empty()) invocation["invocationId"] = array[2];
  if (array.size() > 5 && array[5].is_array()) invocation["streamIds"] = array[5];
  binary_to_base64(invocation["arguments"]);
  return invocation;
}

// Serverless protocol message types (docs/upstream.md, Request).
constexpr int kInvocation = 1;
constexpr int kStreamItem = 2;
constexpr int kCompletion = 3;
constexpr int kStreamInvocation = 4;
constexpr int kOpenConnection = 10;
constexpr int kCloseConnection = 11;
constexpr int kRefresh = 12;

std::string dump_json(const Json& value) {
  // replace: a handler's string with invalid UTF-8 must not turn into an exception here.
  return value.dump(-1, ' ', false, Json::error_handler_t::replace);
}

UpstreamResponse json_answer(int status, const Json& body) {
  return UpstreamResponse{status, "application/json", dump_json(body), {}};
}

UpstreamResponse error_answer(int status, std::string_view code, std::string message) {
  return json_answer(status, Json{{"code", code}, {"message", std::move(message)}});
}

std::string media_type(std::string_view content_type) {
  return to_ascii_lower(trim_blanks(content_type.substr(0, content_type.find(';'))));
}

std::optional<int> message_type(const Json& body) {
  if (!body.is_object()) return std::nullopt;
  const auto type = body.find("type");
  if (type == body.end() || !type->is_number_integer()) return std::nullopt;
  return type->get<int>();
}

// Fills the message fields of `context` from a JSON Invocation; returns the problem, or "" when fine.
std::string read_invocation(const Json& body, Context& context) {
  const auto type = message_type(body);
  if (type != kInvocation && type != kStreamInvocation)
    return "the body must be a JSON Invocation ({\"type\":1,...}) or StreamInvocation ({\"type\":4,...})";
  context.is_stream = type == kStreamInvocation;

  const auto target = body.find("target");
  if (target == body.end() || !target->is_string() || target->get_ref<const std::string&>().empty()) {
    return "target: expected a non-empty string";
  }
  context.target = target->get<std::string>();

  const auto invocation_id = body.find("invocationId");
  if (invocation_id != body.end() && !invocation_id->is_null()) {
    if (!invocation_id->is_string()) return "invocationId: expected a string";
    context.invocation_id = invocation_id->get<std::string>();
  }

  const auto arguments = body.find("arguments");
  if (arguments != body.end()) {
    if (!arguments->is_array()) return "arguments: expected an array";
    context.arguments = *arguments;
  }

  const auto stream_ids = body.find("streamIds");
  if (stream_ids != body.end() && !stream_ids->is_null()) {
    if (!stream_ids->is_array()) return "streamIds: expected an array";
    for (const auto& id : *stream_ids) {
      if (!id.is_string()) return "streamIds: expected strings";
      context.stream_ids.push_back(id.get<std::string>());
    }
  }
  return {};
}

// The records of an upload part (docs/upstream.md "Upload streams"), framed as on the wire: JSON records
// each ending with 0x1E, or MessagePack records each after a VarInt length.
std::optional<std::vector<std::string>> split_records(const std::string& body, bool is_messagepack) {
  std::vector<std::string> records;
  std::size_t at = 0;
  while (at < body.size()) {
    if (!is_messagepack) {
      const auto end = body.find('\x1e', at);
      if (end == std::string::npos) return std::nullopt;
      records.push_back(body.substr(at, end - at));
      at = end + 1;
      continue;
    }
    std::size_t length = 0;
    int shift = 0;
    for (;;) {
      if (at >= body.size() || shift > 28) return std::nullopt;
      const auto byte = static_cast<unsigned char>(body[at++]);
      length |= static_cast<std::size_t>(byte & 0x7f) << shift;
      shift += 7;
      if ((byte & 0x80) == 0) break;
    }
    if (body.size() - at < length) return std::nullopt;
    records.push_back(body.substr(at, length));
    at += length;
  }
  return records;
}

// One StreamItem or Completion of an upload part as {"type","invocationId","item"|"error"}.
Json upload_record(const std::string& record, bool is_messagepack) {
  if (!is_messagepack) return Json::parse(record, nullptr, false);
  // [2, headers, id, item] or [3, headers, id, 1 error | 2 void | 3 result, value?]
  Json array = Json::from_msgpack(record, /*strict=*/true, /*allow_exceptions=*/false);
  if (array.is_discarded() || !array.is_array() || array.size() < 4 || !array[0].is_number_integer())
    return Json(Json::value_t::discarded);
  Json out = {{"type", array[0]}, {"invocationId", array[2]}};
  if (array[0] == kStreamItem) {
    out["item"] = array[3];
    binary_to_base64(out["item"]);
  } else if (array[0] == kCompletion && array[3] == 1 && array.size() > 4) {
    out["error"] = array[4];
  }
  return out;
}

// Fills context.upload from an upload part's body; returns the problem, or "" when fine.
std::string read_upload(const std::string& body, bool is_messagepack, const std::string& stream_id,
                        const std::string* sequence, Context& context) {
  UploadChunk chunk;
  chunk.stream_id = stream_id;
  if (sequence != nullptr) {
    if (sequence->empty() || sequence->size() > 19 || sequence->find_first_not_of("0123456789") != std::string::npos)
      return "X-Switchboard-Stream-Sequence: expected a number";
    chunk.first_sequence = std::stoull(*sequence);
  }
  const auto records = split_records(body, is_messagepack);
  if (!records || records->empty()) return "the body must be framed StreamItem and Completion records";
  for (std::size_t i = 0; i < records->size(); ++i) {
    const Json record = upload_record((*records)[i], is_messagepack);
    const auto type = message_type(record);
    const auto id = record.is_object() ? record.find("invocationId") : record.end();
    if (!type || id == record.end() || !id->is_string() || *id != stream_id)
      return "each record must be a StreamItem or Completion of stream '" + stream_id + "'";
    if (*type == kStreamItem) {
      const auto item = record.find("item");
      chunk.items.push_back(item == record.end() ? Json(nullptr) : *item);
    } else if (*type == kCompletion && i + 1 == records->size()) {
      chunk.is_complete = true;
      const auto error = record.find("error");
      if (error != record.end() && error->is_string()) chunk.error = error->get<std::string>();
    } else {
      return "each record must be a StreamItem, and only the last one a Completion";
    }
  }
  context.upload = std::move(chunk);
  return {};
}

std::string read_close(const Json& body, Context& context) {
  if (message_type(body) != kCloseConnection) return "the body must be {\"type\":11}";
  const auto error = body.find("error");
  if (error != body.end() && !error->is_null()) {
    if (!error->is_string()) return "error: expected a string";
    context.error = error->get<std::string>();
  }
  return {};
}

std::string read_refresh(const Json& body) {
  return message_type(body) == kRefresh ? std::string{} : "the body must be {\"type\":12,...}";
}

std::string read_open(const Json& body) {
  return message_type(body) == kOpenConnection ? std::string{} : "the body must be {\"type\":10}";
}

}  // namespace

UpstreamDispatcher::UpstreamDispatcher(AppOptions options)
    : options_(std::move(options)), idempotency_(std::make_shared<IdempotencyCache>()) {}

void UpstreamDispatcher::add(UpstreamEvent event, std::string hub, std::string target, Handler handler) {
  const bool has_target = event == UpstreamEvent::message || event == UpstreamEvent::stream || event == UpstreamEvent::upload;
  Route route{event, to_ascii_lower(hub), has_target ? to_ascii_lower(target) : "*",
              std::move(handler)};
  for (Route& existing : routes_) {
    if (existing.event == route.event && existing.hub == route.hub && existing.target == route.target) {
      existing = std::move(route);
      return;
    }
  }
  routes_.push_back(std::move(route));
}

const Handler* UpstreamDispatcher::find_handler(UpstreamEvent event, std::string_view hub,
                                                std::string_view target) const {
  // Most specific wins: exact hub beats "*" hub, then exact target beats "*" target.
  const Handler* best = nullptr;
  int best_score = -1;
  for (const Route& route : routes_) {
    if (route.event != event) continue;
    const bool is_exact_hub = route.hub != "*";
    const bool is_exact_target = route.target != "*";
    if (is_exact_hub && !equals_ignoring_ascii_case(route.hub, hub)) continue;
    if (is_exact_target && !equals_ignoring_ascii_case(route.target, target)) continue;
    const int score = (is_exact_hub ? 2 : 0) + (is_exact_target ? 1 : 0);
    if (score > best_score) {
      best = &route.handler;
      best_score = score;
    }
  }
  return best;
}

UpstreamResponse UpstreamDispatcher::dispatch(const UpstreamRequest& request) const {
  try {
    // 1. Media type (parameters such as charset don't matter, as in the Functions extension).
    const std::string* content_type = find_header(request.headers, "Content-Type");
    const std::string media = content_type ? media_type(*content_type) : std::string{};
    const bool is_messagepack = media == "application/x-msgpack";
    if (media != "application/json" && !is_messagepack) {
      return error_answer(415, "UnsupportedMediaType", "Content-Type must be application/json or application/x-msgpack");
    }

    // 2. The headers every event carries.
    Context context;
    context.headers = request.headers;
    const std::pair<std::string_view, std::string*> required[] = {{"X-ASRS-Hub", &context.hub},
                                                                   {"X-ASRS-Category", &context.category},
                                                                   {"X-ASRS-Event", &context.event},
                                                                   {"X-ASRS-Connection-Id", &context.connection_id}};
    for (const auto& [name, field] : required) {
      const std::string* value = find_header(request.headers, name);
      if (value == nullptr || value->empty()) {
        return error_answer(400, "MissingHeader", "the " + std::string(name) + " header is required");
      }
      *field = *value;
    }

    // 3. Who sent it.
    std::string served_signature;  // X-Switchboard-Signature's matching entry: a replay carries it again
    long long served_until = 0;
    if (options_.validate_signature) {
      bool is_signed = false;
      if (options_.signature_mode == SignatureMode::azure) {
        for (const auto& [name, value] : request.headers) {
          if (equals_ignoring_ascii_case(name, "X-ASRS-Signature") &&
              is_upstream_signature_valid(value, context.connection_id, options_.access_keys)) {
            is_signed = true;
          }
        }
        if (!is_signed) return error_answer(401, "InvalidSignature", "X-ASRS-Signature does not match any access key");
      } else {
        const std::string* signature = find_header(request.headers, "X-Switchboard-Signature");
        const std::string* timestamp = find_header(request.headers, "X-Switchboard-Timestamp");
        if (signature != nullptr && timestamp != nullptr) {
          const std::vector<std::pair<std::string, std::string>> headers(request.headers.begin(), request.headers.end());
          served_signature = matching_request_signature(*signature, *timestamp, request.method, request.target,
                                                        canonical_signed_headers(headers), request.body,
                                                        options_.access_keys, request.now_seconds,
                                                        options_.signature_tolerance.count());
          served_until = std::stoll(*timestamp) + options_.signature_tolerance.count();
        }
        if (served_signature.empty()) {
          return error_answer(401, "InvalidSignature",
                              "X-Switchboard-Signature is missing, does not match any access key (over the request, "
                              "its identity headers and body), or its timestamp is outside the tolerance window");
        }
        if (replays_->was_served(served_signature, request.now_seconds))
          return error_answer(409, "Replayed", "this signed request was already served");
      }
    }

    // 4. Which handler.
    std::optional<UpstreamEvent> event;
    if (equals_ignoring_ascii_case(context.category, "connections")) {
      if (equals_ignoring_ascii_case(context.event, "connected")) event = UpstreamEvent::connected;
      if (equals_ignoring_ascii_case(context.event, "disconnected")) event = UpstreamEvent::disconnected;
      if (equals_ignoring_ascii_case(context.event, "refresh")) event = UpstreamEvent::refresh;
    } else if (equals_ignoring_ascii_case(context.category, "messages")) {
      event = UpstreamEvent::message;
    }
    if (!event) {
      return error_answer(404, "NoHandler",
                          "no handler for category '" + context.category + "' event '" + context.event + "'");
    }
    const Handler* handler = find_handler(*event, context.hub, context.event);
    // A stream or upload handler alone makes the target known; which one runs is decided by the body below.
    const bool is_message = *event == UpstreamEvent::message;
    const Handler* stream_handler = is_message ? find_handler(UpstreamEvent::stream, context.hub, context.event) : nullptr;
    const Handler* upload_handler = is_message ? find_handler(UpstreamEvent::upload, context.hub, context.event) : nullptr;
    const std::string* upload_stream = is_message ? find_header(request.headers, "X-Switchboard-Stream-Id") : nullptr;
    if (handler == nullptr && stream_handler == nullptr && upload_handler == nullptr) {
      // Nothing to do when a connection comes or goes is a fine answer; an unknown method is not.
      if (*event != UpstreamEvent::message) return UpstreamResponse{};
      // The envelope's error is what the caller's invoke() rejects with (docs/upstream.md, Failures);
      // a 404 would reach it as "Invocation failed, status code 404", which names neither.
      UpstreamResponse answer =
          json_answer(200, Json{{"error", "Unknown method '" + context.event + "' on hub '" + context.hub + "'."}});
      answer.log_line = "info functions unknown_method hub=" + log_value(context.hub) +
                        " target=" + log_value(context.event) + " conn=" + log_value(context.connection_id);
      return answer;
    }

    // 5. The body.
    // A part of an upload: its records, for the upload handler.
    if (upload_stream != nullptr) {
      context.target = context.event;
      std::string problem = read_upload(request.body, is_messagepack, *upload_stream,
                                        find_header(request.headers, "X-Switchboard-Stream-Sequence"), context);
      if (!problem.empty()) return error_answer(400, "InvalidBody", problem);
      if (upload_handler == nullptr)
        return json_answer(200, Json{{"error", "Client sent 1 stream(s), Hub method expects 0."}});
      handler = upload_handler;
      *event = UpstreamEvent::upload;
    }
    // A MessagePack client's invocation arrives as its own MessagePack record; handlers see the same
    // JSON Context either way.
    const Json body = upload_stream != nullptr ? Json::object()
                      : is_messagepack         ? invocation_from_messagepack(request.body)
                                               : Json::parse(request.body, nullptr, false);
    if (body.is_discarded()) {
      return error_answer(400, "InvalidBody", is_messagepack ? "the body is not a MessagePack Invocation" : "the body is not JSON");
    }
    std::string problem;
    switch (*event) {
      case UpstreamEvent::connected: problem = read_open(body); break;
      case UpstreamEvent::disconnected: problem = read_close(body, context); break;
      case UpstreamEvent::refresh: problem = read_refresh(body); break;
      case UpstreamEvent::message:
        problem = read_invocation(body, context);
        if (problem.empty() && !equals_ignoring_ascii_case(context.target, context.event)) {
          problem = "the X-ASRS-Event header does not match the invocation's target";
        }
        break;
      case UpstreamEvent::stream:  // never routed by category
      case UpstreamEvent::upload: break;  // read above
    }
    if (!problem.empty()) return error_answer(400, "InvalidBody", problem);
    // An invocation with upload streams runs the upload handler, and one without them never does; each
    // mismatch answers as ASP.NET does when the client sends another number of streams than the method takes.
    if (*event == UpstreamEvent::message && (!context.stream_ids.empty() || (upload_handler != nullptr &&
                                                                              handler == nullptr && stream_handler == nullptr))) {
      if (context.stream_ids.empty() || upload_handler == nullptr)
        return json_answer(200, Json{{"error", "Client sent " + std::to_string(context.stream_ids.size()) +
                                                   " stream(s), Hub method expects " +
                                                   (upload_handler == nullptr ? "0" : "at least 1") + "."}});
      handler = upload_handler;
      *event = UpstreamEvent::upload;
    }
    // A stream call runs the stream handler; a target that does not stream answers as ASP.NET does, and
    // so does a plain invoke() of a target that only streams.
    if (*event == UpstreamEvent::message) {
      handler = context.is_stream ? stream_handler : handler;
      if (handler == nullptr) {
        return json_answer(200, Json{{"error", context.is_stream
            ? "The client attempted to invoke the non-streaming '" + context.target + "' method with a streaming invocation."
            : "The client attempted to invoke the streaming '" + context.target + "' method with a non-streaming invocation."}});
      }
    }

    if (const std::string* user_id = find_header(request.headers, "X-ASRS-User-Id")) context.user_id = *user_id;
    if (const std::string* trace = find_header(request.headers, "traceparent")) context.trace_parent = *trace;
    if (const std::string* state = find_header(request.headers, "tracestate")) context.trace_state = *state;
    if (const std::string* claims = find_header(request.headers, "X-ASRS-User-Claims")) {
      context.claims = parse_user_claims(*claims);
    }
    if (const std::string* query = find_header(request.headers, "X-ASRS-Client-Query")) {
      context.query = parse_client_query(*query);
    }

    // A stateful client's message re-sent after its gateway crashed: the handler ran for it already
    // (or runs now), so the first reply is the answer (idempotency_cache.hpp). The key must name
    // this request's connection: one connection can't reach another's replies.
    const std::string* key = find_header(request.headers, "X-Switchboard-Idempotency-Key");
    const bool is_keyed = key != nullptr && (*event == UpstreamEvent::message || *event == UpstreamEvent::upload) &&
                          key->size() > context.connection_id.size() + 1 &&
                          key->compare(0, context.connection_id.size(), context.connection_id) == 0 &&
                          (*key)[context.connection_id.size()] == ':';
    bool is_repeat = false;
    UpstreamResponse answer =
        is_keyed ? idempotency_->run_once(*key, [&] { return run_handler(*handler, context, *event); }, &is_repeat)
                 : run_handler(*handler, context, *event);
    if (is_repeat)
      answer.log_line = "info functions repeated_message hub=" + log_value(context.hub) +
                        " target=" + log_value(context.event) + " key=" + log_value(*key);
    if (!served_signature.empty() && answer.status >= 200 && answer.status < 300)
      replays_->remember(served_signature, served_until);
    return answer;
  } catch (const std::exception& failure) {
    // Only allocation can fail above; answer rather than let it reach cpp-httplib.
    UpstreamResponse answer{500, "application/json",
                            R"({"code":"InternalError","message":"the functions runtime failed"})", {}};
    answer.log_line = "error functions dispatch_failed error=" + log_value(failure.what());
    return answer;
  }
}

UpstreamResponse UpstreamDispatcher::run_handler(const Handler& handler, const Context& context,
                                                 UpstreamEvent event) const {
  Reply reply;
  std::optional<std::string> failure;
  try {
    handler(context, reply);
  } catch (const std::exception& exception) {
    failure = exception.what();
  } catch (...) {
    failure = "the handler threw an exception that is not a std::exception";
  }

  if (failure) {
    // what() may name internals (a file, a query, another user's data), so by default the client gets
    // a fixed text and an id that finds the full line in this function's log (never show what() to a client).
    const std::string error_id = to_lower_hex(random_bytes(8));
    const std::string generic = event == UpstreamEvent::message || event == UpstreamEvent::upload
                                    ? "An unexpected error occurred invoking '" + context.target + "' on the server."
                                    : "An unexpected error occurred connecting to hub '" + context.hub + "'.";
    const std::string client_error = options_.detailed_errors ? *failure : generic + " (error id " + error_id + ")";
    UpstreamResponse answer;
    switch (event) {
      // Azure Functions' answers: the caller of invoke() gets the error as
      // its completion, a failed `connected` refuses the connection, `disconnected` can't be refused.
      case UpstreamEvent::message:
      case UpstreamEvent::stream:
      case UpstreamEvent::upload: answer = json_answer(200, Json{{"error", client_error}}); break;
      case UpstreamEvent::connected: answer = json_answer(403, Json{{"error", client_error}}); break;
      case UpstreamEvent::disconnected:
      case UpstreamEvent::refresh: break;
    }
    answer.log_line = "warn functions handler_failed hub=" + log_value(context.hub) +
                      " event=" + log_value(context.event) + " conn=" + log_value(context.connection_id) +
                      " error_id=" + error_id + " error=" + log_value(*failure);
    return answer;
  }

  int status = reply.http_status();
  std::string log_line;
  if (status < 200 || status > 599) {
    log_line = "warn functions invalid_reply_status hub=" + log_value(context.hub) +
               " event=" + log_value(context.event) + " status=" + std::to_string(status);
    status = 500;
  }
  UpstreamResponse answer = reply.empty() ? UpstreamResponse{status, {}, {}, {}}
                                          : json_answer(status, reply.to_json());
  answer.log_line = std::move(log_line);
  return answer;
}

}  // namespace switchboard::detail
