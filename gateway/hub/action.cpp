#include "hub/action.hpp"

#include <algorithm>
#include <iterator>

namespace sb::hub {

void merge_pages(std::vector<PresenceEntry>& into, const std::vector<PresenceEntry>& other, std::size_t limit) {
  std::vector<PresenceEntry> merged;
  merged.reserve(std::min(limit, into.size() + other.size()));
  auto a = into.begin();
  auto b = other.begin();
  while (merged.size() < limit && (a != into.end() || b != other.end())) {
    if (b == other.end() || (a != into.end() && a->id < b->id)) {
      merged.push_back(std::move(*a++));
    } else if (a == into.end() || b->id < a->id) {
      merged.push_back(*b++);
    } else {  // the same id from two shards: a user with connections on both
      merged.push_back(std::move(*a++));
      merged.back().connection_count += b->connection_count;
      ++b;
    }
  }
  into = std::move(merged);
}

void ActionOutcome::merge(const ActionOutcome& other) {
  matched += other.matched;
  distinct_user_count += other.distinct_user_count;
  page_limit = std::max(page_limit, other.page_limit);
  if (!other.page.empty() || !page.empty()) merge_pages(page, other.page, page_limit);
  if (!other.distinct_user_keys.empty()) {
    std::vector<std::uint64_t> keys;
    keys.reserve(distinct_user_keys.size() + other.distinct_user_keys.size());
    std::set_union(distinct_user_keys.begin(), distinct_user_keys.end(), other.distinct_user_keys.begin(),
                   other.distinct_user_keys.end(), std::back_inserter(keys));
    distinct_user_keys = std::move(keys);
  }
}

}  // namespace sb::hub
