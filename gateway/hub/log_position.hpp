#pragma once
// A place in the fleet's fan-out log (a Redis Stream entry id, "<ms>-<seq>"): every gateway runs the
// log's entries in this order, so a position says exactly which actions a connection's state reflects
// (docs/scaling.md "Crashes"). The zero position is "before everything" (no log: one gateway, or
// pub/sub). Pure.
#include <charconv>
#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sb::hub {

struct LogPosition {
  std::uint64_t ms = 0;
  std::uint64_t seq = 0;

  bool is_zero() const { return ms == 0 && seq == 0; }
  std::string to_string() const { return std::to_string(ms) + "-" + std::to_string(seq); }
  friend auto operator<=>(const LogPosition&, const LogPosition&) = default;

  // "<ms>-<seq>" with both parts decimal; nullopt for anything else.
  static std::optional<LogPosition> parse(std::string_view text) {
    auto dash = text.find('-');
    if (dash == std::string_view::npos || dash == 0 || dash + 1 == text.size()) return std::nullopt;
    LogPosition p;
    auto ms_end = text.data() + dash;
    auto [a, ea] = std::from_chars(text.data(), ms_end, p.ms);
    if (ea != std::errc() || a != ms_end) return std::nullopt;
    auto end = text.data() + text.size();
    auto [b, eb] = std::from_chars(ms_end + 1, end, p.seq);
    if (eb != std::errc() || b != end) return std::nullopt;
    return p;
  }
};

}  // namespace sb::hub
