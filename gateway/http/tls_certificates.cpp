#include "http/tls_certificates.hpp"

#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <boost/asio/ssl/context.hpp>
#include <cstdio>

namespace sb::http {
namespace {

namespace ssl = boost::asio::ssl;

std::string sha256_fingerprint(X509* certificate) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (!certificate || X509_digest(certificate, EVP_sha256(), digest, &length) != 1) return "";
  std::string out;
  for (unsigned int i = 0; i < length; ++i) {
    char hex[4];
    std::snprintf(hex, sizeof hex, i + 1 < length ? "%02X:" : "%02X", digest[i]);
    out += hex;
  }
  return out;
}

}  // namespace

TlsCertificates::TlsCertificates(std::string cert_file, std::string key_file, std::string ciphers)
    : cert_file_(std::move(cert_file)), key_file_(std::move(key_file)), ciphers_(std::move(ciphers)) {}

std::optional<std::string> TlsCertificates::reload() {
  auto context = std::make_shared<ssl::context>(ssl::context::tls_server);
  // TLS 1.2 and 1.3 only: what browsers and the SignalR clients speak; older versions are broken.
  context->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                       ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 | ssl::context::single_dh_use);
  // TLS 1.2: forward secrecy and AEAD only (OpenSSL's default list still has static RSA and CBC-SHA1).
  if (SSL_CTX_set_cipher_list(context->native_handle(), ciphers_.c_str()) != 1)
    return "--tls-ciphers '" + ciphers_ + "': no cipher suite OpenSSL knows";
  boost::system::error_code ec;
  context->use_certificate_chain_file(cert_file_, ec);
  if (ec) return "--tls-cert '" + cert_file_ + "': " + ec.message();
  context->use_private_key_file(key_file_, ssl::context::pem, ec);
  if (ec) return "--tls-key '" + key_file_ + "': " + ec.message();
  if (SSL_CTX_check_private_key(context->native_handle()) != 1)
    return "--tls-key '" + key_file_ + "' does not belong to the certificate in '" + cert_file_ + "'";
  fingerprint_ = sha256_fingerprint(SSL_CTX_get0_certificate(context->native_handle()));
  std::lock_guard lock(mutex_);
  current_ = std::move(context);
  return std::nullopt;
}

std::shared_ptr<ssl::context> TlsCertificates::current() const {
  std::lock_guard lock(mutex_);
  return current_;
}

}  // namespace sb::http
