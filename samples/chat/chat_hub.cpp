#include "chat_hub.hpp"

#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace chat {
namespace {

using switchboard::Context;
using switchboard::Json;
using switchboard::Reply;

constexpr std::size_t max_text_characters = 2000;
constexpr std::size_t max_name_characters = 64;  // rooms and user names

// Characters, not bytes: a limit in bytes would let an English message be four times longer than a
// message in emoji. Counts every byte that does not continue a UTF-8 sequence.
std::size_t count_characters(std::string_view utf8) {
  std::size_t characters = 0;
  for (const char c : utf8) {
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++characters;
  }
  return characters;
}

// The name others see. Tokens from /api/negotiate always carry a user; a token made elsewhere may not.
std::string display_name(const Context& context) {
  return context.user_id.empty() ? "guest-" + context.connection_id.substr(0, 8) : context.user_id;
}

// The invocation's arguments when there are exactly `names.size()` strings, each 1 to its limit
// characters long; otherwise nullopt, with the reason set as the reply's error.
std::optional<std::vector<std::string>> string_arguments(
    const Context& context, Reply& reply, std::initializer_list<std::pair<const char*, std::size_t>> names) {
  std::string signature = context.target + "(";
  for (const auto& [name, limit] : names) {
    if (signature.back() != '(') signature += ", ";
    signature += name;
  }
  signature += ")";

  if (context.arguments.size() != names.size()) {
    reply.error(signature + " takes " + std::to_string(names.size()) + " arguments");
    return std::nullopt;
  }
  std::vector<std::string> values;
  std::size_t index = 0;
  for (const auto& [name, limit] : names) {
    const Json& argument = context.arguments[index++];
    if (!argument.is_string()) {
      reply.error(signature + ": " + name + " must be a string");
      return std::nullopt;
    }
    std::string value = argument.get<std::string>();
    const std::size_t characters = count_characters(value);
    if (characters == 0 || characters > limit || value.find_first_not_of(" \t\r\n") == std::string::npos) {
      reply.error(signature + ": " + name + " must be 1 to " + std::to_string(limit) + " characters, not all blank");
      return std::nullopt;
    }
    values.push_back(std::move(value));
  }
  return values;
}

void on_connected(const Context& context, Reply& reply) {
  const std::string user = display_name(context);
  reply.send_to_connection(context.connection_id, "welcome", Json::array({user}))
      .send_to_all("system", Json::array({user + " joined"}), {context.connection_id});
}

void on_disconnected(const Context& context, Reply& reply) {
  reply.send_to_all("system", Json::array({display_name(context) + " left"}));
}

void on_join_room(const Context& context, Reply& reply) {
  const auto arguments = string_arguments(context, reply, {{"room", max_name_characters}});
  if (!arguments) return;
  reply.add_to_group((*arguments)[0], context.connection_id).result(true);
}

void on_leave_room(const Context& context, Reply& reply) {
  const auto arguments = string_arguments(context, reply, {{"room", max_name_characters}});
  if (!arguments) return;
  reply.remove_from_group((*arguments)[0], context.connection_id).result(true);
}

void on_say(const Context& context, Reply& reply) {
  const auto arguments =
      string_arguments(context, reply, {{"room", max_name_characters}, {"text", max_text_characters}});
  if (!arguments) return;
  const std::string& room = (*arguments)[0];
  const std::string& text = (*arguments)[1];
  reply.send_to_group(room, "message", Json::array({display_name(context), text, room})).result(true);
}

void on_whisper(const Context& context, Reply& reply) {
  const auto arguments =
      string_arguments(context, reply, {{"toUser", max_name_characters}, {"text", max_text_characters}});
  if (!arguments) return;
  const std::string& to_user = (*arguments)[0];
  const std::string& text = (*arguments)[1];
  const std::string from_user = display_name(context);
  reply.send_to_user(to_user, "private", Json::array({from_user, text}));
  // The sender sees what they whispered, once: whispering to yourself already reaches you.
  if (to_user != context.user_id) {
    reply.send_to_connection(context.connection_id, "private", Json::array({from_user, text}));
  }
  reply.result(true);
}

}  // namespace

void add_chat_hub(switchboard::App& app) {
  app.on_connected(kChatHub, on_connected)
      .on_disconnected(kChatHub, on_disconnected)
      .on_message(kChatHub, "joinRoom", on_join_room)
      .on_message(kChatHub, "leaveRoom", on_leave_room)
      .on_message(kChatHub, "say", on_say)
      .on_message(kChatHub, "whisper", on_whisper);
}

}  // namespace chat
