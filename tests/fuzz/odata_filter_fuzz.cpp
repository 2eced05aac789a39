// libFuzzer target for the OData filter of REST :execute and Web PubSub sends (gateway/filter/).
// Properties: parsing never crashes and never recurses past the nesting limit (ASan's stack check);
// errors are InvalidFilter with a position inside the text; a parsed filter keeps its text, stays
// within the term limit, and its canonical form parses back to itself and matches exactly the same
// subjects; wrapping it in not (…) negates every match; a match asks about groups at most once per
// term, and never when the filter has no group test.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "filter/odata_filter.hpp"

using namespace sb::filter;

namespace {

struct Connection {
  std::string_view id;
  bool has_user;
  std::string_view user;
  std::set<std::string, std::less<>> groups;
  bool in_every_group = false;
};

const std::vector<Connection>& connections() {
  static const std::vector<Connection> all = {
      {"c1", false, "", {}},         {"a", true, "a", {"a", "g", "group1"}},
      {"", true, "", {""}},          {"user1", true, "user1", {"user1"}},
      {"'", true, "'", {"'", "''"}}, {"z", true, "\xc3\xa9", {}, true},
  };
  return all;
}

// Every connection's match, and the number of group lookups each made.
std::vector<bool> match_all(const ODataFilter& filter, std::vector<std::size_t>* lookups = nullptr) {
  std::vector<bool> results;
  for (const auto& connection : connections()) {
    std::size_t count = 0;
    FilterSubject subject;
    subject.connection_id = connection.id;
    subject.has_user = connection.has_user;
    subject.user_id = connection.user;
    subject.in_group = [&](std::string_view group) {
      ++count;
      return connection.in_every_group || connection.groups.count(group) > 0;
    };
    results.push_back(filter.matches(subject));
    if (lookups) lookups->push_back(count);
  }
  return results;
}

void check_error(const sb::Error& error, std::string_view input) {
  if (error.code != "InvalidFilter") std::abort();
  std::string_view message = error.message;
  if (message.substr(0, 8) != "filter: ") std::abort();
  // "… at N" or "… at N (hint)": N is inside the text or just past its end.
  auto at = message.rfind(" at ");
  auto hint = message.find(" (", at == std::string_view::npos ? 0 : at);
  if (at == std::string_view::npos) {
    if (message != "filter: empty" && message.find("longer than") == std::string_view::npos) std::abort();
    return;
  }
  auto digits = message.substr(at + 4, hint == std::string_view::npos ? std::string_view::npos : hint - at - 4);
  if (digits.empty() || digits.size() > 5 || digits.find_first_not_of("0123456789") != std::string_view::npos)
    std::abort();
  if (std::stoul(std::string(digits)) > input.size()) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  auto parsed = ODataFilter::parse(input);
  if (!parsed) {
    check_error(parsed.error(), input);
    return 0;
  }
  const ODataFilter& filter = *parsed;
  if (filter.text() != input || filter.term_count() == 0 || filter.term_count() > max_filter_terms) std::abort();

  std::vector<std::size_t> lookups;
  const auto results = match_all(filter, &lookups);
  for (auto count : lookups)
    if (count > filter.term_count() || (!filter.uses_groups() && count != 0)) std::abort();

  // A copy is the same filter.
  const ODataFilter copy = filter;
  if (match_all(copy) != results) std::abort();

  // The canonical form may be longer than the input (it adds spaces); it never nests deeper.
  const auto& canonical = filter.canonical();
  if (canonical.size() <= max_filter_bytes) {
    auto again = ODataFilter::parse(canonical);
    if (!again) std::abort();
    if (again->canonical() != canonical || again->term_count() != filter.term_count() ||
        again->uses_groups() != filter.uses_groups() || match_all(*again) != results)
      std::abort();

    auto negated = ODataFilter::parse("not (" + canonical + ")");
    if (negated) {
      auto opposite = match_all(*negated);
      for (std::size_t i = 0; i < results.size(); ++i)
        if (opposite[i] == results[i]) std::abort();
    }
  }
  return 0;
}
