#include "http/connection_directory.hpp"

namespace sb::http {

void ConnectionDirectory::add(const std::string& token, DirectoryEntry entry) {
  std::lock_guard lock(mutex_);
  // Amortised sweep: every so many additions, drop the entries of finished connections.
  if (++adds_since_sweep_ >= 1024 && adds_since_sweep_ >= entries_.size()) {
    adds_since_sweep_ = 0;
    std::erase_if(entries_, [](const auto& e) { return e.second.transport.expired(); });
  }
  entries_[token] = std::move(entry);
}

std::optional<DirectoryEntry> ConnectionDirectory::find(const std::string& token) {
  std::lock_guard lock(mutex_);
  auto it = entries_.find(token);
  if (it == entries_.end()) return std::nullopt;
  if (it->second.transport.expired()) {
    entries_.erase(it);
    return std::nullopt;
  }
  return it->second;
}

}  // namespace sb::http
