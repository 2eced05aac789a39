#include "tls_client/client_tls_context.hpp"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/error.hpp>
#include <fstream>

namespace sb::tls_client {
namespace {

namespace ssl = boost::asio::ssl;

Error file_error(std::string_view option, const std::string& path, std::string_view why) {
  return make_error("invalid_tls_file", "--" + std::string(option) + " '" + path + "': " + std::string(why));
}

bool is_readable(const std::string& path) {
  return std::ifstream(path).good();
}

// OpenSSL's reason for the last failure, without the error queue's other entries (which would
// otherwise be reported by the next unrelated call).
std::string last_openssl_reason() {
  unsigned long code = ERR_peek_last_error();
  const char* reason = code ? ERR_reason_error_string(code) : nullptr;
  ERR_clear_error();
  return reason ? reason : "unknown reason";
}

}  // namespace

ClientTlsContext::ClientTlsContext(std::unique_ptr<ssl::context> context, bool has_client_certificate)
    : context_(std::move(context)), has_client_certificate_(has_client_certificate) {}

ClientTlsContext::~ClientTlsContext() = default;

Result<std::shared_ptr<const ClientTlsContext>> ClientTlsContext::create(const ClientTlsOptions& options) {
  auto context = std::make_unique<ssl::context>(ssl::context::tls_client);
  SSL_CTX* native = context->native_handle();
  // TLS 1.2 and 1.3 only, as the listener (http/tls_certificates.cpp): older versions are broken.
  SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION);
  SSL_CTX_set_verify(native, SSL_VERIFY_PEER, nullptr);
  // An encrypted key would make OpenSSL ask for its passphrase on the terminal; refuse it instead.
  SSL_CTX_set_default_passwd_cb(native, [](char*, int, int, void*) { return 0; });

  if (options.ca_file.empty()) {
    if (SSL_CTX_set_default_verify_paths(native) != 1)
      return make_error("invalid_tls_file", "the system's trust store could not be loaded: " + last_openssl_reason());
  } else {
    if (!is_readable(options.ca_file)) return file_error(options.option_prefix + "-ca", options.ca_file, "cannot read it");
    if (SSL_CTX_load_verify_locations(native, options.ca_file.c_str(), nullptr) != 1)
      return file_error(options.option_prefix + "-ca", options.ca_file, "no PEM certificate in it (" + last_openssl_reason() + ")");
  }

  bool has_cert = !options.cert_file.empty(), has_key = !options.key_file.empty();
  if (has_cert != has_key)
    return make_error("invalid_tls_file", "--" + options.option_prefix + "-cert and --" + options.option_prefix +
                                               "-key go together: give both or neither");
  if (has_cert) {
    if (!is_readable(options.cert_file)) return file_error(options.option_prefix + "-cert", options.cert_file, "cannot read it");
    if (!is_readable(options.key_file)) return file_error(options.option_prefix + "-key", options.key_file, "cannot read it");
    if (SSL_CTX_use_certificate_chain_file(native, options.cert_file.c_str()) != 1)
      return file_error(options.option_prefix + "-cert", options.cert_file,
                        "not a PEM certificate chain (" + last_openssl_reason() + ")");
    if (SSL_CTX_use_PrivateKey_file(native, options.key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
      // OpenSSL checks the key against the certificate as it loads it.
      if (ERR_GET_REASON(ERR_peek_last_error()) == X509_R_KEY_VALUES_MISMATCH) {
        ERR_clear_error();
        return file_error(options.option_prefix + "-key", options.key_file,
                          "does not belong to the certificate in '" + options.cert_file + "'");
      }
      return file_error(options.option_prefix + "-key", options.key_file,
                        "not an unencrypted PEM private key (" + last_openssl_reason() + ")");
    }
    if (SSL_CTX_check_private_key(native) != 1) {
      ERR_clear_error();
      return file_error(options.option_prefix + "-key", options.key_file,
                        "does not belong to the certificate in '" + options.cert_file + "'");
    }
  }
  return std::shared_ptr<const ClientTlsContext>(new ClientTlsContext(std::move(context), has_cert));
}

bool is_ip_literal(std::string_view host) {
  std::string text(host);
  unsigned char address[16];
  return inet_pton(AF_INET, text.c_str(), address) == 1 || inet_pton(AF_INET6, text.c_str(), address) == 1;
}

std::optional<std::string> prepare_connection(SSL* ssl, const std::string& host) {
  if (is_ip_literal(host)) {
    // RFC 6066 §3: "Literal IPv4 and IPv6 addresses are not permitted" in SNI.
    if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host.c_str()) != 1) return "cannot verify address " + host;
    return std::nullopt;
  }
  if (SSL_set_tlsext_host_name(ssl, host.c_str()) != 1) return "cannot send server name " + host;
  SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
  if (SSL_set1_host(ssl, host.c_str()) != 1) return "cannot verify host name " + host;
  return std::nullopt;
}

std::string describe_failure(const SSL* ssl, const boost::system::error_code& ec, std::string_view host_port) {
  std::string why;
  long verify = ssl ? SSL_get_verify_result(ssl) : X509_V_OK;
  const char* reason = is_tls_error(ec) ? ERR_reason_error_string(static_cast<unsigned long>(ec.value())) : nullptr;
  if (verify != X509_V_OK)
    why = std::string("certificate verify failed: ") + X509_verify_cert_error_string(verify);
  else if (reason)
    why = reason;  // ec.message() would add " (SSL routines)"
  else
    why = ec.message();
  ERR_clear_error();
  return why + " (host " + std::string(host_port) + ")";
}

void watch_certificate_request(SSL* ssl, bool* is_requested) {
  SSL_set_msg_callback_arg(ssl, is_requested);
  SSL_set_msg_callback(
      ssl, [](int is_write, int, int content_type, const void* bytes, std::size_t length, SSL*, void* flag) {
        if (!is_write && content_type == SSL3_RT_HANDSHAKE && length > 0 &&
            static_cast<const unsigned char*>(bytes)[0] == SSL3_MT_CERTIFICATE_REQUEST)
          *static_cast<bool*>(flag) = true;
      });
}

bool is_tls_error(const boost::system::error_code& ec) {
  return ec.category() == boost::asio::error::get_ssl_category();
}

}  // namespace sb::tls_client
