#pragma once
// TLS sessions to resume, one per function (scheme://host:port): a new connection to a function we
// have talked to skips the certificate exchange and the asymmetric crypto (one round trip fewer in
// TLS 1.2, far less CPU on both ends in either version). The session kept is the newest one OpenSSL
// holds after a complete exchange: in TLS 1.3 the server's tickets arrive after the handshake, with
// or before the first reply, so "after the handshake" would be too early.
//
// One per HttpClient, so per event-loop thread: no lock. The number of entries is bounded by the
// configured functions (placeholders can't reach a URL's host). A resumed session proves the same
// server the session was made with, verified then; it is only offered to the same host and port.
#include <openssl/types.h>  // SSL

#include <memory>
#include <string>
#include <unordered_map>

struct ssl_session_st;

namespace sb::tls_client {

class SessionCache {
 public:
  // Before the handshake: offer `key`'s session, if there is one. Returns whether one was offered.
  bool offer(const std::string& key, SSL* ssl) const;
  // After a complete request and reply on a connection that did a handshake: keep its session for the
  // next connection to `key`, when it can be resumed.
  void remember(const std::string& key, SSL* ssl);
  // After a TLS failure: start the next connection afresh.
  void forget(const std::string& key) { sessions_.erase(key); }
  std::size_t size() const { return sessions_.size(); }

 private:
  struct Free {
    void operator()(ssl_session_st* session) const;  // SSL_SESSION, declared in <openssl/ssl.h>
  };
  std::unordered_map<std::string, std::unique_ptr<ssl_session_st, Free>> sessions_;
};

}  // namespace sb::tls_client
