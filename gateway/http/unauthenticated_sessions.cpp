#include "http/unauthenticated_sessions.hpp"

namespace sb::http {

void UnauthenticatedSessions::enlist(EvictableSession& session) {
  session.unlink();
  sessions_.push_back(session);
}

bool UnauthenticatedSessions::evict_oldest() {
  if (sessions_.empty()) return false;
  auto& oldest = sessions_.front();
  oldest.unlink();
  oldest.evict();
  return true;
}

}  // namespace sb::http
