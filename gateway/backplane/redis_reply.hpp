#pragma once
// Reading Redis replies without tripping on their type: a reply of another type, or none at all (the
// link went down), reads as empty.
#include <optional>
#include <string_view>

#include "redis_client/reply.hpp"

namespace sb::backplane {

// A string, status or error reply's text; empty for anything else.
inline std::string_view reply_text(const redis::Reply* reply) {
  if (!reply || (reply->type != redis::Reply::Type::string && reply->type != redis::Reply::Type::status &&
                 reply->type != redis::Reply::Type::error))
    return {};
  return reply->text;
}

inline std::optional<long long> reply_integer(const redis::Reply* reply) {
  if (!reply || reply->type != redis::Reply::Type::integer) return std::nullopt;
  return reply->integer;
}

}  // namespace sb::backplane
