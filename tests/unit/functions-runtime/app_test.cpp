// Unlike the other unit tests, these open a socket (STYLE.md: unit tests open none): whether
// cpp-httplib runs the App's pre- and post-routing handlers for a preflight, a user's route and a 404
// shows only in a response it actually served. 127.0.0.1, an ephemeral port, 5 s timeouts.
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>

#include <doctest/doctest.h>

#include "../gateway/tls_client/test_pki.hpp"
#include "switchboard/functions.hpp"

namespace {

constexpr const char* kPageOrigin = "http://localhost:5173";

// An App with a negotiate-like route, serving on its own thread until the test ends.
class ServedApp {
 public:
  explicit ServedApp(switchboard::AppOptions options) : app_(std::move(options)) {
    app_.server().Post("/api/negotiate", [](const httplib::Request&, httplib::Response& response) {
      response.set_content(R"({"url":"u","accessToken":"t"})", "application/json");
    });
    port_ = app_.bind_to_any_port("127.0.0.1");
    REQUIRE(port_ > 0);
    listener_ = std::thread([this] { app_.listen_after_bind(); });
  }
  ~ServedApp() {
    app_.stop();
    listener_.join();
  }

  int port() const { return port_; }

  httplib::Client client() const {
    httplib::Client client("127.0.0.1", port_);
    client.set_connection_timeout(5);
    client.set_read_timeout(5);
    return client;
  }

 private:
  switchboard::App app_;
  int port_ = -1;
  std::thread listener_;
};

}  // namespace

TEST_CASE("App with cors_origins lets a listed origin's page call its routes with credentials") {
  ServedApp served(switchboard::AppOptions{.validate_signature = false, .cors_origins = {kPageOrigin}});
  httplib::Client client = served.client();

  SUBCASE("the preflight gets a 204 naming the origin, method and headers") {
    const auto response = client.Options("/api/negotiate", {{"Origin", kPageOrigin},
                                                            {"Access-Control-Request-Method", "POST"},
                                                            {"Access-Control-Request-Headers", "content-type"}});
    REQUIRE(response);
    CHECK(response->status == 204);
    CHECK(response->get_header_value("Access-Control-Allow-Origin") == kPageOrigin);
    CHECK(response->get_header_value("Access-Control-Allow-Credentials") == "true");
    CHECK(response->get_header_value("Access-Control-Allow-Methods") == "POST");
    CHECK(response->get_header_value("Access-Control-Allow-Headers") == "content-type");
    CHECK(response->get_header_value("Access-Control-Max-Age") == "600");
    CHECK(response->get_header_value_count("Access-Control-Allow-Origin") == 1);
  }
  SUBCASE("the request itself, and a 404, carry the origin back") {
    for (const char* path : {"/api/negotiate", "/not-there"}) {
      CAPTURE(path);
      const auto response = client.Post(path, {{"Origin", kPageOrigin}}, std::string(), "text/plain");
      REQUIRE(response);
      CHECK(response->status == (std::string(path) == "/api/negotiate" ? 200 : 404));
      CHECK(response->get_header_value("Access-Control-Allow-Origin") == kPageOrigin);
      CHECK(response->get_header_value("Access-Control-Allow-Credentials") == "true");
      CHECK(response->get_header_value("Vary") == "Origin");
    }
  }
  SUBCASE("another origin gets no CORS grant, and its preflight is not answered") {
    const auto response =
        client.Post("/api/negotiate", {{"Origin", "https://evil.example"}}, std::string(), "text/plain");
    REQUIRE(response);
    CHECK(response->status == 200);
    CHECK_FALSE(response->has_header("Access-Control-Allow-Origin"));
    CHECK(response->get_header_value("Vary") == "Origin");
    const auto preflight = client.Options(
        "/api/negotiate", {{"Origin", "https://evil.example"}, {"Access-Control-Request-Method", "POST"}});
    REQUIRE(preflight);
    CHECK_FALSE(preflight->has_header("Access-Control-Allow-Origin"));
  }
}

TEST_CASE("App without cors_origins adds no CORS headers") {
  ServedApp served(switchboard::AppOptions{.validate_signature = false});
  const auto response = served.client().Post("/api/negotiate", {{"Origin", kPageOrigin}}, std::string(), "text/plain");
  REQUIRE(response);
  CHECK_FALSE(response->has_header("Access-Control-Allow-Origin"));
  CHECK_FALSE(response->has_header("Vary"));
}

TEST_CASE("App refuses a cors_origins entry that is not an origin") {
  CHECK_THROWS_AS(switchboard::App(switchboard::AppOptions{.cors_origins = {"localhost:5173"}}), std::invalid_argument);
}

namespace {

// The function's certificate for 127.0.0.1, signed by the Pki's CA: {cert, key} file paths.
std::pair<std::string, std::string> server_certificate(const sb::test::Pki& pki) {
  auto key = sb::test::new_key();
  auto cert = sb::test::new_cert(key.get(), "127.0.0.1", pki.ca.get(), pki.ca_key.get(), false, "IP:127.0.0.1");
  return {pki.dir.write("function.pem", sb::test::pem(cert.get())), pki.dir.write("function.key", sb::test::pem(key.get()))};
}

// An HTTPS client trusting the Pki's CA; `shows_certificate`: with the Pki's client certificate.
std::unique_ptr<httplib::SSLClient> tls_client(int port, const sb::test::Pki& pki, bool shows_certificate) {
  auto client = shows_certificate ? std::make_unique<httplib::SSLClient>("127.0.0.1", port, pki.cert_file, pki.key_file)
                                  : std::make_unique<httplib::SSLClient>("127.0.0.1", port);
  client->set_ca_cert_path(pki.ca_file.c_str());
  client->enable_server_certificate_verification(true);
  client->set_connection_timeout(5);
  client->set_read_timeout(5);
  return client;
}

}  // namespace

TEST_CASE("App with tls_cert_file serves HTTPS only") {
  sb::test::Pki pki;
  auto [cert, key] = server_certificate(pki);
  ServedApp served(switchboard::AppOptions{.validate_signature = false, .tls_cert_file = cert, .tls_key_file = key});
  auto client = tls_client(served.port(), pki, false);
  const auto response = client->Post("/api/negotiate", std::string(), "text/plain");
  REQUIRE(response);
  CHECK(response->status == 200);
  CHECK(response->body == R"({"url":"u","accessToken":"t"})");
  CHECK_FALSE(served.client().Post("/api/negotiate", std::string(), "text/plain"));  // plain HTTP isn't answered
}

TEST_CASE("App with tls_client_ca_file lets in only clients with a certificate that CA signed") {
  sb::test::Pki pki;
  auto [cert, key] = server_certificate(pki);
  ServedApp served(switchboard::AppOptions{
      .validate_signature = false, .tls_cert_file = cert, .tls_key_file = key, .tls_client_ca_file = pki.ca_file});
  auto with_certificate = tls_client(served.port(), pki, true);
  const auto response = with_certificate->Post("/api/negotiate", std::string(), "text/plain");
  REQUIRE(response);
  CHECK(response->status == 200);
  auto without = tls_client(served.port(), pki, false);
  CHECK_FALSE(without->Post("/api/negotiate", std::string(), "text/plain"));
}

TEST_CASE("App refuses TLS files it can't use, naming the field and the file") {
  sb::test::Pki pki;
  auto [cert, key] = server_certificate(pki);
  auto message_of = [](switchboard::AppOptions options) {
    try {
      switchboard::App app(std::move(options));
    } catch (const std::invalid_argument& error) {
      return std::string(error.what());
    }
    return std::string("(no exception)");
  };
  auto contains = [](const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; };
  CHECK(contains(message_of({.tls_cert_file = cert}), "tls_cert_file and tls_key_file go together"));
  CHECK(contains(message_of({.tls_client_ca_file = pki.ca_file}), "tls_client_ca_file needs tls_cert_file"));
  CHECK(contains(message_of({.tls_cert_file = pki.dir.path("nope.pem"), .tls_key_file = key}),
                 "AppOptions::tls_cert_file '" + pki.dir.path("nope.pem") + "': cannot read it"));
  CHECK(contains(message_of({.tls_cert_file = cert, .tls_key_file = pki.key_file}),
                 "AppOptions::tls_key_file '" + pki.key_file + "': does not belong to the certificate"));
  auto encrypted = pki.dir.write("encrypted.key", sb::test::pem(pki.client_key.get(), "passphrase"));
  CHECK(contains(message_of({.tls_cert_file = pki.cert_file, .tls_key_file = encrypted}),
                 "not an unencrypted PEM private key"));
  CHECK(contains(message_of({.tls_cert_file = cert, .tls_key_file = key, .tls_client_ca_file = key}),
                 "AppOptions::tls_client_ca_file '" + key + "': no PEM certificate in it"));
}
