#pragma once
// Reading hiredis replies without tripping on their type: a reply of another type, or none at all (the
// link went down), reads as empty. For the backplane's .cpp files; hiredis stays out of other modules.
#include <hiredis/hiredis.h>

#include <optional>
#include <string_view>

namespace sb::backplane {

// A string, status or error reply's text; empty for anything else.
inline std::string_view reply_text(const redisReply* reply) {
  if (!reply ||
      (reply->type != REDIS_REPLY_STRING && reply->type != REDIS_REPLY_STATUS && reply->type != REDIS_REPLY_ERROR))
    return {};
  return {reply->str, reply->len};
}

inline std::optional<long long> reply_integer(const redisReply* reply) {
  if (!reply || reply->type != REDIS_REPLY_INTEGER) return std::nullopt;
  return reply->integer;
}

}  // namespace sb::backplane
