#pragma once
// A ready-to-send frame: encoded once, shared by every recipient's send queue, never modified
// (DESIGN.md "Encode once"). Whether it goes out as a text or binary WebSocket message is
// decided by the connection's hub protocol.
#include <memory>
#include <string>

namespace sb {

using Frame = std::shared_ptr<const std::string>;

inline Frame make_frame(std::string bytes) { return std::make_shared<const std::string>(std::move(bytes)); }

}  // namespace sb
