#include "tls_client/client_tls_context.hpp"

#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <doctest/doctest.h>
#include <boost/asio/error.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/error.hpp>

#include "test_pki.hpp"
#include "tls_client/session_cache.hpp"

using namespace sb::tls_client;

namespace {

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

std::string error_of(const ClientTlsOptions& options) {
  auto made = ClientTlsContext::create(options);
  REQUIRE_FALSE(made.ok());
  CHECK(made.error().code == "invalid_tls_file");
  return made.error().message;
}

// A connection object of the context, not connected to anything.
struct Connection {
  explicit Connection(const ClientTlsContext& context) : ssl(SSL_new(context.native().native_handle())) {}
  ~Connection() { SSL_free(ssl); }
  SSL* ssl;
};

}  // namespace

TEST_CASE("builds a context that verifies peers with the system's trust store by default") {
  auto made = ClientTlsContext::create({});
  REQUIRE(made.ok());
  SSL_CTX* native = (*made)->native().native_handle();
  CHECK(SSL_CTX_get_verify_mode(native) == SSL_VERIFY_PEER);
  CHECK(SSL_CTX_get_min_proto_version(native) == TLS1_2_VERSION);
  CHECK_FALSE((*made)->has_client_certificate());
}

TEST_CASE("--upstream-ca: only the CAs of the file are trusted") {
  sb::test::Pki pki;
  auto made = ClientTlsContext::create({.ca_file = pki.ca_file});
  REQUIRE(made.ok());
  X509_STORE* store = SSL_CTX_get_cert_store((*made)->native().native_handle());
  STACK_OF(X509_OBJECT)* objects = X509_STORE_get0_objects(store);
  CHECK(sk_X509_OBJECT_num(objects) == 1);  // the test CA, none of /etc/ssl/certs
}

TEST_CASE("a client certificate and its key make mutual TLS possible") {
  sb::test::Pki pki;
  auto made = ClientTlsContext::create({.ca_file = pki.ca_file, .cert_file = pki.cert_file, .key_file = pki.key_file});
  REQUIRE(made.ok());
  CHECK((*made)->has_client_certificate());
  CHECK(SSL_CTX_get0_certificate((*made)->native().native_handle()) != nullptr);
}

TEST_CASE("refuses TLS files it can't use, naming the option and the file") {
  sb::test::Pki pki;
  SUBCASE("an unreadable CA file") {
    auto message = error_of({.ca_file = pki.dir.path("missing.pem")});
    CHECK(contains(message, "--upstream-ca '" + pki.dir.path("missing.pem") + "': cannot read it"));
  }
  SUBCASE("a CA file without a certificate") {
    auto file = pki.dir.write("empty.pem", "not a certificate\n");
    CHECK(contains(error_of({.ca_file = file}), "--upstream-ca '" + file + "': no PEM certificate in it"));
  }
  SUBCASE("a certificate without its key, or a key without its certificate") {
    CHECK(contains(error_of({.cert_file = pki.cert_file}), "--upstream-cert and --upstream-key go together"));
    CHECK(contains(error_of({.key_file = pki.key_file}), "--upstream-cert and --upstream-key go together"));
  }
  SUBCASE("an unreadable key") {
    auto missing = pki.dir.path("missing.key");
    CHECK(contains(error_of({.cert_file = pki.cert_file, .key_file = missing}),
                   "--upstream-key '" + missing + "': cannot read it"));
  }
  SUBCASE("a key that belongs to another certificate") {
    auto other = pki.dir.write("other.key", sb::test::pem(sb::test::new_key().get()));
    auto message = error_of({.cert_file = pki.cert_file, .key_file = other});
    CHECK(contains(message, "--upstream-key '" + other + "': does not belong to the certificate in '" + pki.cert_file));
  }
  SUBCASE("an encrypted key: refused, never a passphrase prompt, and the passphrase isn't shown") {
    auto encrypted = pki.dir.write("encrypted.key", sb::test::pem(pki.client_key.get(), "s3cret-passphrase"));
    auto message = error_of({.cert_file = pki.cert_file, .key_file = encrypted});
    CHECK(contains(message, "--upstream-key '" + encrypted + "': not an unencrypted PEM private key"));
    CHECK_FALSE(contains(message, "s3cret"));
    CHECK_FALSE(contains(message, "BEGIN"));
  }
  SUBCASE("a certificate file holding a key") {
    CHECK(contains(error_of({.cert_file = pki.key_file, .key_file = pki.key_file}),
                   "--upstream-cert '" + pki.key_file + "': not a PEM certificate chain"));
  }
}

TEST_CASE("tells IP literals from host names") {
  CHECK(is_ip_literal("127.0.0.1"));
  CHECK(is_ip_literal("::1"));
  CHECK(is_ip_literal("2001:db8::7"));
  CHECK_FALSE(is_ip_literal("localhost"));
  CHECK_FALSE(is_ip_literal("fn.example.com"));
  CHECK_FALSE(is_ip_literal("127.0.0.1.nip.io"));
  CHECK_FALSE(is_ip_literal(""));
}

TEST_CASE("a connection to a host name sends SNI and checks that name, without partial wildcards") {
  auto context = ClientTlsContext::create({});
  REQUIRE(context.ok());
  Connection connection(**context);
  CHECK_FALSE(prepare_connection(connection.ssl, "fn.example.com").has_value());
  CHECK(std::string(SSL_get_servername(connection.ssl, TLSEXT_NAMETYPE_host_name)) == "fn.example.com");
  X509_VERIFY_PARAM* param = SSL_get0_param(connection.ssl);
  CHECK(std::string(X509_VERIFY_PARAM_get0_host(param, 0)) == "fn.example.com");
  CHECK(X509_VERIFY_PARAM_get_hostflags(param) == X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
}

TEST_CASE("a connection to an IP address sends no SNI and checks the certificate's IP addresses") {
  auto context = ClientTlsContext::create({});
  REQUIRE(context.ok());
  for (std::string address : {"127.0.0.1", "::1"}) {
    CAPTURE(address);
    Connection connection(**context);
    CHECK_FALSE(prepare_connection(connection.ssl, address).has_value());
    CHECK(SSL_get_servername(connection.ssl, TLSEXT_NAMETYPE_host_name) == nullptr);
    X509_VERIFY_PARAM* param = SSL_get0_param(connection.ssl);
    CHECK(X509_VERIFY_PARAM_get0_host(param, 0) == nullptr);
    char* ip = X509_VERIFY_PARAM_get1_ip_asc(param);
    REQUIRE(ip != nullptr);
    CHECK(std::string(ip) == (address == "::1" ? "0:0:0:0:0:0:0:1" : address));
    OPENSSL_free(ip);
  }
}

TEST_CASE("describes a refused certificate by OpenSSL's verification error and the host") {
  auto context = ClientTlsContext::create({});
  REQUIRE(context.ok());
  Connection connection(**context);
  SSL_set_verify_result(connection.ssl, X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY);
  boost::system::error_code ec(static_cast<int>(ERR_PACK(ERR_LIB_SSL, 0, SSL_R_CERTIFICATE_VERIFY_FAILED)),
                               boost::asio::error::get_ssl_category());
  CHECK(is_tls_error(ec));
  CHECK(describe_failure(connection.ssl, ec, "127.0.0.1:8443") ==
        "certificate verify failed: unable to get local issuer certificate (host 127.0.0.1:8443)");
  SSL_set_verify_result(connection.ssl, X509_V_ERR_HOSTNAME_MISMATCH);
  CHECK(describe_failure(connection.ssl, ec, "fn.example.com:443") ==
        "certificate verify failed: hostname mismatch (host fn.example.com:443)");
}

TEST_CASE("socket errors and a close without close_notify are not TLS errors") {
  CHECK_FALSE(is_tls_error(make_error_code(boost::asio::error::connection_reset)));
  CHECK_FALSE(is_tls_error(make_error_code(boost::asio::error::eof)));
  CHECK_FALSE(is_tls_error(make_error_code(boost::asio::ssl::error::stream_truncated)));
}

TEST_CASE("the session cache offers nothing for a function it has not talked to") {
  auto context = ClientTlsContext::create({});
  REQUIRE(context.ok());
  Connection connection(**context);
  SessionCache cache;
  CHECK_FALSE(cache.offer("https://fn.example.com:443", connection.ssl));
  cache.remember("https://fn.example.com:443", connection.ssl);  // no handshake: nothing resumable
  CHECK(cache.size() == 0);
}
