#include "server/connection_directory.hpp"

#include <algorithm>
#include <chrono>

namespace sb::server {
namespace {

bool is_gone(const DirectoryEntry& entry) { return entry.transport.expired() && entry.connection.expired(); }

// A tombstone whose token can no longer open a connection has nothing left to refuse.
bool is_forgettable(const DirectoryEntry& entry, std::int64_t now_ms) {
  return is_gone(entry) && now_ms > entry.keep_until_ms;
}

}  // namespace

std::int64_t unix_now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

bool ConnectionDirectory::release(const std::string& connection_id) {
  std::lock_guard lock(mutex_);
  auto it = entries_.find(connection_id);
  if (it == entries_.end() || !is_gone(it->second)) return false;
  entries_.erase(it);
  return true;
}

void ConnectionDirectory::forget(const std::string& connection_id) {
  std::lock_guard lock(mutex_);
  entries_.erase(connection_id);
}

void ConnectionDirectory::sweep_if_due(std::int64_t now_ms) {
  // Amortised sweep: once the additions since the last sweep reach the number of entries it kept (at
  // least 1024), drop the forgettable entries. The table then holds at most the kept entries plus that
  // many additions, and each sweep is paid for by as many additions as it walks. (Comparing with the
  // current size instead never fires again once a sweep keeps two entries, since the additions are part
  // of that size.)
  if (++adds_since_sweep_ < std::max<std::size_t>(min_adds_between_sweeps, kept_by_last_sweep_)) return;
  adds_since_sweep_ = 0;
  std::erase_if(entries_, [now_ms](const auto& e) { return is_forgettable(e.second, now_ms); });
  kept_by_last_sweep_ = entries_.size();
}

bool ConnectionDirectory::reserve(const std::string& connection_id, std::int64_t keep_until_ms, std::int64_t now_ms) {
  std::lock_guard lock(mutex_);
  if (auto it = entries_.find(connection_id); it != entries_.end()) {
    if (!is_forgettable(it->second, now_ms)) return false;
    entries_.erase(it);
  }
  sweep_if_due(now_ms);
  DirectoryEntry claim;
  claim.keep_until_ms = keep_until_ms;
  entries_.emplace(connection_id, std::move(claim));
  return true;
}

void ConnectionDirectory::add(const std::string& connection_id, DirectoryEntry entry, std::int64_t now_ms) {
  std::lock_guard lock(mutex_);
  sweep_if_due(now_ms);
  auto& slot = entries_[connection_id];
  entry.keep_until_ms = std::max(entry.keep_until_ms, slot.keep_until_ms);
  slot = std::move(entry);
}

Lookup ConnectionDirectory::find(const std::string& connection_id, std::int64_t now_ms) {
  std::lock_guard lock(mutex_);
  auto it = entries_.find(connection_id);
  if (it == entries_.end()) return {};
  if (is_gone(it->second)) {
    if (now_ms <= it->second.keep_until_ms) return {Presence::ended, {}};
    entries_.erase(it);
    return {};
  }
  return {Presence::live, it->second};
}

std::size_t ConnectionDirectory::size() {
  std::lock_guard lock(mutex_);
  return entries_.size();
}

}  // namespace sb::server
