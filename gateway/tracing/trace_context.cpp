#include "tracing/trace_context.hpp"

#include <random>

namespace sb::tracing {
namespace {

bool is_lower_hex(std::string_view text) {
  for (char c : text)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

bool is_all_zero(std::string_view text) { return text.find_first_not_of('0') == std::string_view::npos; }

// Trace and span ids need to be unique, not secret: a per-thread generator seeded once.
std::string random_hex(std::size_t digits) {
  thread_local std::mt19937_64 generator{std::random_device{}()};
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  out.reserve(digits);
  while (out.size() < digits) {
    auto bits = generator();
    for (int i = 0; i < 16 && out.size() < digits; ++i, bits >>= 4) out.push_back(hex[bits & 0xf]);
  }
  if (is_all_zero(out)) out.back() = '1';
  return out;
}

}  // namespace

std::string TraceContext::header() const {
  static constexpr char hex[] = "0123456789abcdef";
  std::string out = "00-" + trace_id + "-" + span_id + "-";
  out.push_back(hex[flags >> 4]);
  out.push_back(hex[flags & 0xf]);
  return out;
}

std::optional<TraceContext> parse_traceparent(std::string_view header) {
  // Surrounding blanks are allowed in a header value.
  while (!header.empty() && (header.front() == ' ' || header.front() == '\t')) header.remove_prefix(1);
  while (!header.empty() && (header.back() == ' ' || header.back() == '\t')) header.remove_suffix(1);
  if (header.size() < 55) return std::nullopt;
  auto version = header.substr(0, 2);
  if (!is_lower_hex(version) || version == "ff") return std::nullopt;
  if (version == "00" && header.size() != 55) return std::nullopt;
  if (header.size() > 55 && header[55] != '-') return std::nullopt;  // a later version's extra fields
  if (header[2] != '-' || header[35] != '-' || header[52] != '-') return std::nullopt;
  TraceContext context;
  context.trace_id = std::string(header.substr(3, 32));
  context.span_id = std::string(header.substr(36, 16));
  auto flags = header.substr(53, 2);
  if (!is_lower_hex(context.trace_id) || !is_lower_hex(context.span_id) || !is_lower_hex(flags)) return std::nullopt;
  if (is_all_zero(context.trace_id) || is_all_zero(context.span_id)) return std::nullopt;
  auto nibble = [](char c) { return static_cast<std::uint8_t>(c <= '9' ? c - '0' : c - 'a' + 10); };
  context.flags = static_cast<std::uint8_t>(nibble(flags[0]) << 4 | nibble(flags[1]));
  return context;
}

TraceContext new_trace() { return {random_hex(32), random_hex(16), 1}; }

TraceContext child_of(const TraceContext& parent) { return {parent.trace_id, random_hex(16), parent.flags}; }

TraceContext continue_or_start(std::string_view parent_header) {
  auto parent = parse_traceparent(parent_header);
  return parent ? child_of(*parent) : new_trace();
}

std::string accepted_tracestate(std::string_view header) {
  if (header.size() > 512) return {};
  std::string out;
  std::size_t members = 0;
  while (!header.empty()) {
    auto comma = header.find(',');
    auto member = header.substr(0, comma);
    header = comma == std::string_view::npos ? std::string_view() : header.substr(comma + 1);
    while (!member.empty() && (member.front() == ' ' || member.front() == '\t')) member.remove_prefix(1);
    while (!member.empty() && (member.back() == ' ' || member.back() == '\t')) member.remove_suffix(1);
    if (member.empty()) continue;  // empty members are allowed and dropped
    auto eq = member.find('=');
    if (eq == 0 || eq == std::string_view::npos || eq + 1 == member.size() || ++members > 32) return {};
    for (char c : member)
      if (c < 0x20 || c > 0x7e) return {};
    if (member.find('=', eq + 1) != std::string_view::npos) return {};
    if (!out.empty()) out += ',';
    out += member;
  }
  return out;
}

}  // namespace sb::tracing
