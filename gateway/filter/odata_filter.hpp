#pragma once
// The OData `filter` of Azure SignalR's REST 2024-12-01 `POST /api/hubs/{hub}/:execute?filter=…` and of
// Azure Web PubSub's send operations: a boolean expression over a connection's userId, connectionId and
// groups (Web PubSub's reference-odata-filter.md; the grammar we accept is in odata_filter.cpp's header
// comment). Pure: parse once per request, then match once per connection on each shard thread.
//
// Supported: 'string' literals ('' is a quote), null, true, false; userId and connectionId (names are
// case-insensitive, as Azure documents); eq ne gt ge lt le between strings or null (ordinal, byte-wise);
// `x in ('a', 'b', …)`; `'g' in groups`; not, and, or; parentheses. Operators are ASCII
// case-insensitive (OData 4.01 ABNF); `null` is lowercase only (its %s"null" rule). Functions
// (startswith, length, …) and numbers are rejected with an error naming them.
//
// Limits, so hostile input costs little: 4096 bytes of text, 32 levels of '(' and 'not', 1000 terms
// (comparisons, `in` tests, boolean literals and list items together). Parsing recursion is bounded by
// the nesting limit; matching is a loop over a flat program with no recursion and no allocation.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"

namespace sb::filter {

inline constexpr std::size_t max_filter_bytes = 4096;
inline constexpr std::size_t max_filter_depth = 32;  // '(' and 'not' on one path
inline constexpr std::size_t max_filter_terms = 1000;

// What a filter looks at. The views must outlive the matches() call only.
struct FilterSubject {
  std::string_view connection_id;
  std::string_view user_id;  // read only when has_user
  bool has_user = false;     // false: userId is null
  // Whether the connection is in a group: called only for the `in groups` terms a match reaches, so
  // never when !uses_groups(). Empty: in no group.
  std::function<bool(std::string_view group)> in_group;
};

// A parsed filter: immutable, copyable, safe to share between threads (matches() is const and keeps no
// state).
class ODataFilter {
 public:
  // `text` is the query value after percent-decoding (so OData's %27 and %20 are a quote and a space).
  // Errors have code "InvalidFilter" and a message naming the rule and the byte offset (0-based) in
  // `text`: "filter: unexpected 'xyz' at 14". Samples of the input in messages are escaped and short.
  // An empty filter is an error: a caller treating `filter=` as absent checks for that first.
  static Result<ODataFilter> parse(std::string_view text);

  // Evaluates with short-circuiting: each term is tested at most once, groups only when reached.
  bool matches(const FilterSubject& subject) const;

  const std::string& text() const { return text_; }
  // The same filter written one way: lowercase operators, `userId`/`connectionId` spelling, single
  // spaces, parentheses only where precedence needs them. parse(canonical()) gives the same filter.
  const std::string& canonical() const { return canonical_; }
  bool uses_groups() const { return uses_groups_; }
  std::size_t term_count() const { return term_count_; }

 private:
  friend class FilterCompiler;  // odata_filter.cpp: parses text into the fields below
  ODataFilter() = default;

  // One operand of a comparison or `in` list.
  struct Operand {
    enum class Kind : std::uint8_t { literal, null, user_id, connection_id };
    Kind kind = Kind::null;
    std::uint32_t offset = 0;  // literal: unescaped bytes in literals_
    std::uint32_t size = 0;
  };
  enum class Compare : std::uint8_t { eq, ne, gt, ge, lt, le };
  // One test of the program; the result picks the next step. Targets only point forward, so a match
  // takes at most steps_.size() iterations.
  struct Step {
    enum class Test : std::uint8_t { constant, compare, in_list, in_groups };
    Test test = Test::constant;
    Compare compare = Compare::eq;
    bool constant = false;
    Operand left;
    Operand right;                 // compare
    std::uint32_t list_begin = 0;  // in_list: [list_begin, list_end) of list_
    std::uint32_t list_end = 0;
    std::uint32_t on_true = 0;  // next step, or accept / reject
    std::uint32_t on_false = 0;
  };
  static constexpr std::uint32_t accept = 0xFFFFFFFEu;
  static constexpr std::uint32_t reject = 0xFFFFFFFFu;

  std::string text_;
  std::string canonical_;
  std::string literals_;       // every string literal, unescaped, back to back
  std::vector<Operand> list_;  // items of every `in (…)` list
  std::vector<Step> steps_;
  bool uses_groups_ = false;
  std::size_t term_count_ = 0;
};

}  // namespace sb::filter
