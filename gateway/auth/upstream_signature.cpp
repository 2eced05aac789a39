#include "auth/upstream_signature.hpp"

#include <algorithm>
#include <cctype>

#include "auth/crypto.hpp"

namespace sb::auth {

std::string upstream_signature(const KeyRing& keys, std::string_view connection_id) {
  std::string out;
  for (const auto& key : keys.keys) {
    if (!out.empty()) out += ',';
    out += "sha256=";
    out += to_hex(hmac(HashAlgorithm::sha256, key, connection_id));
  }
  return out;
}

std::string canonical_signed_headers(const HeaderList& headers) {
  auto trimmed = [](std::string_view v) {
    while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
    while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
    return v;
  };
  std::vector<std::pair<std::string, std::string_view>> lines;
  for (const auto& [name, value] : headers) {
    std::string lower(name);
    for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    bool is_signed = (lower.rfind("x-asrs-", 0) == 0 && lower != "x-asrs-signature") ||
                     lower == "x-switchboard-event-id" || lower == "content-type";
    if (is_signed) lines.emplace_back(std::move(lower), trimmed(value));
  }
  std::stable_sort(lines.begin(), lines.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::string out;
  for (const auto& [name, value] : lines) out.append(name).append(":").append(value).append("\n");
  return out;
}

std::string request_signature(const KeyRing& keys, std::string_view unix_seconds, std::string_view method,
                              std::string_view path_and_query, std::string_view signed_headers, std::string_view body) {
  std::string v1;
  v1.append(unix_seconds).append("\n").append(method).append("\n").append(path_and_query).append("\n").append(body);
  std::string v2 = "v2\n";
  v2.append(unix_seconds).append("\n").append(method).append("\n").append(path_and_query).append("\n");
  v2.append(signed_headers).append("\n").append(body);
  std::string out;
  for (const auto& key : keys.keys) {
    if (!out.empty()) out += ',';
    out += "v2=";
    out += to_hex(hmac(HashAlgorithm::sha256, key, v2));
  }
  for (const auto& key : keys.keys) {
    out += ",v1=";
    out += to_hex(hmac(HashAlgorithm::sha256, key, v1));
  }
  return out;
}

}  // namespace sb::auth
