#pragma once
// The TLS client side of calls to https:// functions (docs/upstream.md "HTTPS functions") and of
// rediss:// (redis_client/): one OpenSSL context per use and process, built at start-up from --upstream-ca, --upstream-cert and --upstream-key, and
// the per-connection settings every handshake needs (SNI, the name or address the certificate must
// carry). Peer verification is always on; there is no way to turn it off.
//
// Trust: without --upstream-ca, OpenSSL's default store (on Debian /etc/ssl/certs, the ca-certificates
// package). With it, only the CAs in that file: a private CA then vouches for nothing on the public
// Internet and the public CAs for nothing here, as nginx's proxy_ssl_trusted_certificate does.
//
// Thread-safety: the context is immutable once create() returns, and OpenSSL lets any number of
// threads make connections (SSL objects) from one SSL_CTX at once.
#include <openssl/types.h>

#include <boost/system/error_code.hpp>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.hpp"

namespace boost::asio::ssl {
class context;
}

namespace sb::tls_client {

struct ClientTlsOptions {
  std::string ca_file{};    // PEM: the only CAs trusted; empty: the system's trust store
  std::string cert_file{};  // PEM chain, leaf first: mutual TLS; with key_file, or neither
  std::string key_file{};   // PEM private key of cert_file's leaf, unencrypted
  std::string option_prefix = "upstream";  // errors name --{prefix}-ca, -cert, -key ("redis" for Redis)
};

class ClientTlsContext {
 public:
  // Reads the files and builds the context: TLS 1.2 at least, verify_peer. Errors (code
  // "invalid_tls_file") name the option, the file and why: unreadable, not PEM, no certificate, a key
  // that doesn't match the certificate, an encrypted key. They never carry a file's contents.
  static Result<std::shared_ptr<const ClientTlsContext>> create(const ClientTlsOptions& options);

  ~ClientTlsContext();
  ClientTlsContext(const ClientTlsContext&) = delete;
  ClientTlsContext& operator=(const ClientTlsContext&) = delete;

  // Asio's ssl::stream takes a mutable context; nothing changes it after create().
  boost::asio::ssl::context& native() const { return *context_; }
  bool has_client_certificate() const { return has_client_certificate_; }

 private:
  explicit ClientTlsContext(std::unique_ptr<boost::asio::ssl::context> context, bool has_client_certificate);

  std::unique_ptr<boost::asio::ssl::context> context_;
  bool has_client_certificate_;
};

// True for an IPv4 or IPv6 literal (without brackets), which gets no SNI and is checked against the
// certificate's IP addresses rather than its DNS names.
bool is_ip_literal(std::string_view host);

// Before the handshake of a new connection to `host`: SNI for a name (RFC 6066 forbids it for
// addresses) and the identity the certificate must prove, a DNS name (no partial wildcards) or an IP
// address. An error (a host OpenSSL refuses) means: don't connect.
std::optional<std::string> prepare_connection(SSL* ssl, const std::string& host);

// One line for the log and error_detail when a handshake or a read fails at the TLS layer:
// "certificate verify failed: unable to get local issuer certificate (host 127.0.0.1:8443)" when the
// peer's certificate was refused, else OpenSSL's reason ("tlsv13 alert certificate required").
std::string describe_failure(const SSL* ssl, const boost::system::error_code& ec, std::string_view host_port);

// From now on sets `*is_requested` when the function asks this connection for a client certificate
// (TLS 1.3 sends that request encrypted: only OpenSSL's message callback sees it). `is_requested` must
// outlive the connection's handshake and reads. Used to name the cause when a function that asked
// drops the connection instead of sending its alert (the alert can be lost to a TCP reset).
void watch_certificate_request(SSL* ssl, bool* is_requested);

// True when `ec` comes from OpenSSL (a failed verification, an alert, a protocol error) rather than
// from the socket: such a failure repeats until someone changes a certificate or a setting.
bool is_tls_error(const boost::system::error_code& ec);

}  // namespace sb::tls_client
