#pragma once
// The token of an `Authorization: Bearer <token>` header (RFC 6750 §2.1; the scheme is
// case-insensitive). Empty when the header is missing, another scheme, or carries no token.
#include <string_view>

#include "common/ascii.hpp"

namespace sb::auth {

constexpr std::string_view bearer_token(std::string_view authorization) {
  constexpr std::string_view scheme = "Bearer ";
  if (authorization.size() <= scheme.size() || !istarts_with(authorization, scheme)) return {};
  return authorization.substr(scheme.size());
}

}  // namespace sb::auth
