#include "protocol/json_hub_protocol.hpp"

#include <nlohmann/json.hpp>

#include "protocol/nesting.hpp"
#include "protocol/raw_json.hpp"

namespace sb::protocol {
namespace {

using nlohmann::json;

constexpr char record_separator = '\x1e';

Error bad(std::string message) { return make_error("invalid_message", std::move(message)); }

// Reads an optional string field; a null counts as absent (non-blocking invocation).
Result<bool> read_optional_string(const json& object, const char* key, std::optional<std::string>& out) {
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) return false;
  if (!it->is_string()) return bad(std::string(key) + ": expected a string");
  out = it->get<std::string>();
  return true;
}

Result<InboundMessage> parse_record(std::string_view record) {
  // nlohmann stops at a NUL as if the input ended there; JSON allows none outside escapes, so refuse it
  // rather than forward the bytes after it upstream.
  if (record.find('\0') != std::string_view::npos) return bad("Error reading JSON: a NUL byte.");
  // Checked before parsing: a record of 10,000 '[' fits in 32 KiB, and the tree it builds is walked
  // recursively (dump, destruction) further on, which a hostile depth turns into a stack overflow.
  if (!json_depth_within(record))
    return bad("Error reading JSON: nested deeper than " + std::to_string(max_document_depth) + " levels.");
  json object = json::parse(record, nullptr, /*allow_exceptions=*/false);
  if (object.is_discarded()) return bad("Error reading JSON.");
  if (!object.is_object()) return bad("Expected a JSON object.");
  auto type = object.find("type");
  if (type == object.end()) return bad("Missing required property 'type'.");
  if (!type->is_number_integer()) return bad("type: expected an integer");

  InboundMessage message;
  message.type = static_cast<MessageType>(type->get<std::int64_t>() > 100 ? 0 : type->get<int>());
  message.raw.assign(record);
  switch (message.type) {
    case MessageType::invocation:
    case MessageType::stream_invocation: {
      auto id = read_optional_string(object, "invocationId", message.invocation_id);
      if (!id) return id.error();
      if (message.type == MessageType::stream_invocation && !message.invocation_id)
        return bad("Missing required property 'invocationId'.");
      auto target = object.find("target");
      if (target == object.end()) return bad("Missing required property 'target'.");
      if (!target->is_string() || target->get_ref<const std::string&>().empty())
        return bad("target: expected a non-empty string");
      message.target = target->get<std::string>();
      auto arguments = object.find("arguments");
      if (arguments == object.end()) return bad("Missing required property 'arguments'.");
      if (!arguments->is_array()) return bad("arguments: expected an array");
      // The .NET client (9 and later) sends its trace context in the invocation's headers.
      if (auto headers = object.find("headers"); headers != object.end() && headers->is_object()) {
        if (auto trace = headers->find("traceparent"); trace != headers->end() && trace->is_string())
          message.trace_parent = trace->get<std::string>();
        if (auto state = headers->find("tracestate"); state != headers->end() && state->is_string())
          message.trace_state = state->get<std::string>();
      }
      auto stream_ids = object.find("streamIds");
      if (stream_ids != object.end() && !stream_ids->is_null()) {
        if (!stream_ids->is_array()) return bad("streamIds: expected an array");
        for (const auto& stream_id : *stream_ids) {
          if (!stream_id.is_string()) return bad("streamIds: expected strings");
          message.stream_ids.push_back(stream_id.get<std::string>());
        }
      }
      break;
    }
    case MessageType::stream_item:
    case MessageType::completion:
    case MessageType::cancel_invocation: {
      auto id = read_optional_string(object, "invocationId", message.invocation_id);
      if (!id) return id.error();
      if (!message.invocation_id) return bad("Missing required property 'invocationId'.");
      break;
    }
    case MessageType::close: {
      auto error = read_optional_string(object, "error", message.error);
      if (!error) return error.error();
      break;
    }
    case MessageType::ack:
    case MessageType::sequence: {
      auto id = object.find("sequenceId");
      if (id == object.end() || !id->is_number_unsigned()) return bad("sequenceId: expected a non-negative integer");
      message.sequence_id = id->get<std::uint64_t>();
      break;
    }
    case MessageType::ping:
      break;
    default:
      // Unknown types are ignored, as clients ignore ours: leaves room for later protocol versions.
      break;
  }
  return message;
}

}  // namespace

Result<std::size_t> parse_json_messages(std::string_view input, std::vector<InboundMessage>& out,
                                        const JsonParseLimits& limits) {
  std::size_t consumed = 0;
  while (consumed < input.size()) {
    auto rest = input.substr(consumed);
    auto end = rest.find(record_separator);
    if (end == std::string_view::npos) {
      if (rest.size() > limits.max_message_bytes) break;  // reported below
      return consumed;
    }
    if (end > limits.max_message_bytes) break;
    auto message = parse_record(rest.substr(0, end));
    if (!message) return message.error();
    out.push_back(std::move(message).value());
    consumed += end + 1;
  }
  if (consumed == input.size()) return consumed;
  return make_error("message_too_large", "The maximum message size of " + std::to_string(limits.max_message_bytes) +
                                             "B was exceeded. The message size can be configured in AddHubOptions.");
}

std::string json_quote(std::string_view text) {
  // error_handler::replace: invalid UTF-8 (e.g. in a function's error text) becomes U+FFFD instead of throwing.
  return json(text).dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string encode_json_invocation(std::string_view target, std::string_view arguments_json) {
  return encode_json_invocation(target, arguments_json, {});
}

Result<CompletionContent> read_json_completion(std::string_view record) {
  auto members = raw_object_members(record);
  if (!members) return bad("Error reading JSON.");
  CompletionContent content;
  for (const auto& member : *members) {
    if (member.key == "result") {
      content.result_json.emplace(member.value);
    } else if (member.key == "error") {
      auto error = json::parse(member.value, nullptr, /*allow_exceptions=*/false);
      if (error.is_null()) continue;
      if (!error.is_string()) return bad("error: expected a string");
      content.error = error.get<std::string>();
    }
  }
  if (content.error && content.result_json) return bad("The completion message must not have both a result and an error.");
  return content;
}

std::string encode_json_invocation(std::string_view target, std::string_view arguments_json, std::string_view invocation_id) {
  std::string out;
  out.reserve(arguments_json.size() + target.size() + invocation_id.size() + 60);
  out += R"({"type":1,)";
  if (!invocation_id.empty()) {
    out += R"("invocationId":)";
    out += json_quote(invocation_id);
    out += ',';
  }
  out += R"("target":)";
  out += json_quote(target);
  out += R"(,"arguments":)";
  out += arguments_json;
  out += '}';
  out += record_separator;
  return out;
}

std::string encode_json_stream_item(std::string_view invocation_id, std::string_view item_json) {
  return R"({"type":2,"invocationId":)" + json_quote(invocation_id) + R"(,"item":)" + std::string(item_json) + "}" +
         record_separator;
}

std::string encode_json_completion_result(std::string_view invocation_id, std::string_view result_json) {
  return R"({"type":3,"invocationId":)" + json_quote(invocation_id) + R"(,"result":)" + std::string(result_json) +
         "}" + record_separator;
}

std::string encode_json_completion_void(std::string_view invocation_id) {
  return R"({"type":3,"invocationId":)" + json_quote(invocation_id) + "}" + record_separator;
}

std::string encode_json_completion_error(std::string_view invocation_id, std::string_view error) {
  return R"({"type":3,"invocationId":)" + json_quote(invocation_id) + R"(,"error":)" + json_quote(error) + "}" +
         record_separator;
}

std::string encode_json_close(std::string_view error, bool allow_reconnect) {
  std::string out = R"({"type":7)";
  if (!error.empty()) out += R"(,"error":)" + json_quote(error);
  if (allow_reconnect) out += R"(,"allowReconnect":true)";  // written only when true, as ASP.NET does
  out += '}';
  out += record_separator;
  return out;
}

std::string encode_json_sequence_message(MessageType type, std::uint64_t sequence_id) {
  return R"({"type":)" + std::to_string(static_cast<int>(type)) + R"(,"sequenceId":)" + std::to_string(sequence_id) + "}" +
         record_separator;
}

const std::string& json_ping_frame() {
  static const std::string frame = std::string(R"({"type":6})") + record_separator;
  return frame;
}

}  // namespace sb::protocol
