#include "server/connection_directory.hpp"

#include <algorithm>

namespace sb::server {
namespace {

bool is_gone(const DirectoryEntry& entry) { return entry.transport.expired() && entry.connection.expired(); }

}  // namespace

void ConnectionDirectory::add(const std::string& token, DirectoryEntry entry) {
  std::lock_guard lock(mutex_);
  // Amortised sweep: once the additions since the last sweep reach the number of entries it kept (at
  // least 1024), drop the entries of finished connections. The table then holds at most the kept
  // entries plus that many additions, and each sweep is paid for by as many additions as it walks.
  // (Comparing with the current size instead never fires again once a sweep keeps two entries, since
  // the additions are part of that size: every connection that ever existed stayed, pinning the
  // memory of its Connection and transport through the weak pointers.)
  if (++adds_since_sweep_ >= std::max<std::size_t>(min_adds_between_sweeps, kept_by_last_sweep_)) {
    adds_since_sweep_ = 0;
    std::erase_if(entries_, [](const auto& e) { return is_gone(e.second); });
    kept_by_last_sweep_ = entries_.size();
  }
  entries_[token] = std::move(entry);
}

std::optional<DirectoryEntry> ConnectionDirectory::find(const std::string& token) {
  std::lock_guard lock(mutex_);
  auto it = entries_.find(token);
  if (it == entries_.end()) return std::nullopt;
  if (is_gone(it->second)) {
    entries_.erase(it);
    return std::nullopt;
  }
  return it->second;
}

std::size_t ConnectionDirectory::size() {
  std::lock_guard lock(mutex_);
  return entries_.size();
}

}  // namespace sb::server
