// libFuzzer target for the Redis reply parser (gateway/redis_client/reply_parser), which reads
// whatever arrives from Redis. The first byte picks the read size; the rest is what Redis sent.
// Properties: never crashes; the replies and the error are the same whether the bytes come at once or
// in pieces; no bulk string over the limit.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "redis_client/reply_parser.hpp"

using sb::redis::Reply;
using sb::redis::ReplyParser;

namespace {

constexpr std::size_t max_bulk_bytes = 256;

bool same(const Reply& a, const Reply& b) {
  if (a.type != b.type || a.text != b.text || a.integer != b.integer || a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (!same(*a.element(i), *b.element(i))) return false;
  return true;
}

bool within_limit(const Reply& r) {
  if (r.text.size() > max_bulk_bytes && r.type == Reply::Type::string) return false;
  for (const auto& e : r.elements)
    if (!within_limit(e)) return false;
  return true;
}

std::vector<Reply> run(ReplyParser& parser, std::string_view bytes, std::size_t step) {
  std::vector<Reply> out;
  for (std::size_t at = 0; at < bytes.size(); at += step)
    if (!parser.feed(bytes.substr(at, step), [&](Reply&& r) { out.push_back(std::move(r)); })) break;
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  std::size_t step = data[0] % 16 + 1;
  std::string_view bytes(reinterpret_cast<const char*>(data + 1), size - 1);

  ReplyParser whole(max_bulk_bytes);
  auto a = run(whole, bytes, bytes.size() + 1);
  ReplyParser pieces(max_bulk_bytes);
  auto b = run(pieces, bytes, step);

  // A line over the limit is found once it is over the limit: a piecewise read may stop earlier
  // with the same error, so only the replies before a shared error must match.
  if (whole.error() != pieces.error()) std::abort();
  if (a.size() != b.size()) std::abort();
  for (std::size_t i = 0; i < a.size(); ++i)
    if (!same(a[i], b[i]) || !within_limit(a[i])) std::abort();
  return 0;
}
