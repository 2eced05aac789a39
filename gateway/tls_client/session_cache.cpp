#include "tls_client/session_cache.hpp"

#include <openssl/ssl.h>

namespace sb::tls_client {

void SessionCache::Free::operator()(ssl_session_st* session) const {
  SSL_SESSION_free(session);
}

bool SessionCache::offer(const std::string& key, SSL* ssl) const {
  auto it = sessions_.find(key);
  // SSL_set_session takes its own reference: the cache keeps one too, for the connections after.
  return it != sessions_.end() && SSL_set_session(ssl, it->second.get()) == 1;
}

void SessionCache::remember(const std::string& key, SSL* ssl) {
  std::unique_ptr<SSL_SESSION, Free> session(SSL_get1_session(ssl));
  if (!session || SSL_SESSION_is_resumable(session.get()) != 1) return;
  sessions_[key] = std::move(session);
}

}  // namespace sb::tls_client
