#include "connection/client_invocations.hpp"

#include <vector>

namespace sb::connection {

std::string ClientInvocations::add(Clock::time_point deadline, ClientResultHandler done) {
  auto id = std::to_string(++last_id_);
  waiting_.emplace(id, Waiting{deadline, std::move(done)});
  return id;
}

bool ClientInvocations::complete(const std::string& invocation_id, ClientResult result) {
  auto it = waiting_.find(invocation_id);
  if (it == waiting_.end()) return false;
  auto done = std::move(it->second.done);
  waiting_.erase(it);
  done(std::move(result));
  return true;
}

void ClientInvocations::expire(Clock::time_point now) {
  // Collected first: a handler may add or complete others.
  std::vector<ClientResultHandler> expired;
  for (auto it = waiting_.begin(); it != waiting_.end();) {
    if (it->second.deadline <= now) {
      expired.push_back(std::move(it->second.done));
      it = waiting_.erase(it);
    } else {
      ++it;
    }
  }
  for (auto& done : expired) done({ClientResultKind::timeout, {}});
}

void ClientInvocations::fail_all(ClientResultKind kind) {
  auto waiting = std::move(waiting_);
  waiting_.clear();
  for (auto& [id, entry] : waiting) entry.done({kind, {}});
}

}  // namespace sb::connection
