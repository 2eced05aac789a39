// Unlike the other unit tests, these open a socket (STYLE.md: unit tests open none): whether
// cpp-httplib runs the App's pre- and post-routing handlers for a preflight, a user's route and a 404
// shows only in a response it actually served. 127.0.0.1, an ephemeral port, 5 s timeouts.
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>

#include <doctest/doctest.h>

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
