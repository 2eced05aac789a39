#include "http/connection_directory.hpp"

namespace sb::http {
namespace {

bool is_gone(const DirectoryEntry& entry) { return entry.transport.expired() && entry.connection.expired(); }

}  // namespace

void ConnectionDirectory::add(const std::string& token, DirectoryEntry entry) {
  std::lock_guard lock(mutex_);
  // Amortised sweep: every so many additions, drop the entries of finished connections.
  if (++adds_since_sweep_ >= 1024 && adds_since_sweep_ >= entries_.size()) {
    adds_since_sweep_ = 0;
    std::erase_if(entries_, [](const auto& e) { return is_gone(e.second); });
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

}  // namespace sb::http
