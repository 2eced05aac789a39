// The functions of hub "chat": what happens when someone connects, leaves, joins a room, speaks or
// whispers. Each handler answers with actions for the gateway; nothing is stored here, because
// rooms are the gateway's groups.
#pragma once

#include <switchboard/functions.hpp>

namespace chat {

inline constexpr const char* kChatHub = "chat";

// Client methods (all return true so the page can invoke() them):
//   joinRoom(room), leaveRoom(room), say(room, text), whisper(toUser, text)
// Server-to-client targets: welcome(user), system(text), message(user, text, room), private(fromUser, text)
void add_chat_hub(switchboard::App& app);

}  // namespace chat
