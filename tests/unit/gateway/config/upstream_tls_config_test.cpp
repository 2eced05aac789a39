// https:// upstreams in the configuration (config.cpp attach_upstream_tls): the TLS options, where
// they come from, the context every https rule gets, and the start-up errors.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "../tls_client/test_pki.hpp"
#include "config/config.hpp"
#include "load_config_support.hpp"
#include "tls_client/client_tls_context.hpp"

using namespace sb::config;
using namespace sb::config::test;

TEST_CASE("an https:// rule gets the TLS context; an http:// rule none") {
  auto r = load({"--access-key", "k", "--upstream", "hub=chat;url=https://fn.example.com/api/{event}", "--upstream",
                 "http://127.0.0.1:7071/upstream"});
  REQUIRE_MESSAGE(r.errors.empty(), all_errors(r));
  REQUIRE(r.config.upstream.rules.size() == 2);
  REQUIRE(r.config.upstream.rules[0].tls != nullptr);
  CHECK_FALSE(r.config.upstream.rules[0].tls->has_client_certificate());
  CHECK(r.config.upstream.rules[0].expand("chat", "messages", "say") == "https://fn.example.com/api/say");
  CHECK(r.config.upstream.rules[1].tls == nullptr);
  CHECK(r.config.upstream.ca_file.empty());  // the system's trust store
}

TEST_CASE("every https:// rule shares the one context of the process") {
  auto r = load({"--access-key", "k", "--upstream", "hub=a;url=https://a.example.com/", "--upstream",
                 "HTTPS://b.example.com:8443/{hub}"});
  REQUIRE_MESSAGE(r.errors.empty(), all_errors(r));
  REQUIRE(r.config.upstream.rules[0].tls != nullptr);
  CHECK(r.config.upstream.rules[0].tls == r.config.upstream.rules[1].tls);
}

TEST_CASE("https:// templates in the emulator's UpstreamSettings get the context too") {
  sb::test::TempDir dir;
  auto file = dir.write("settings.json", R"({"access-key":"k","UpstreamSettings":{"Templates":[
      {"UrlTemplate":"https://localhost:7071/runtime/webhooks/signalr","HubPattern":"chat"}]}})");
  auto r = load({"--config", file});
  REQUIRE_MESSAGE(r.errors.empty(), all_errors(r));
  REQUIRE(r.config.upstream.rules.size() == 1);
  CHECK(r.config.upstream.rules[0].tls != nullptr);
}

TEST_CASE("--upstream-ca, --upstream-cert and --upstream-key from flags, environment or file") {
  sb::test::Pki pki;
  SUBCASE("flags") {
    auto r = load({"--access-key", "k", "--upstream", "https://127.0.0.1:8443/upstream", "--upstream-ca", pki.ca_file,
                   "--upstream-cert", pki.cert_file, "--upstream-key", pki.key_file});
    REQUIRE_MESSAGE(r.errors.empty(), all_errors(r));
    CHECK(r.config.upstream.ca_file == pki.ca_file);
    CHECK(r.config.upstream.cert_file == pki.cert_file);
    CHECK(r.config.upstream.key_file == pki.key_file);
    REQUIRE(r.config.upstream.rules[0].tls != nullptr);
    CHECK(r.config.upstream.rules[0].tls->has_client_certificate());
  }
  SUBCASE("environment") {
    auto r = load({"--access-key", "k", "--upstream", "https://127.0.0.1:8443/upstream"},
                  {"SWITCHBOARD_UPSTREAM_CA=" + pki.ca_file, "SWITCHBOARD_UPSTREAM_CERT=" + pki.cert_file,
                   "SWITCHBOARD_UPSTREAM_KEY=" + pki.key_file});
    REQUIRE_MESSAGE(r.errors.empty(), all_errors(r));
    CHECK(r.config.upstream.ca_file == pki.ca_file);
    CHECK(r.config.upstream.rules[0].tls->has_client_certificate());
  }
  SUBCASE("config file") {
    auto file =
        pki.dir.write("config.json", R"({"access-key":"k","upstream":"https://127.0.0.1:8443/u","upstream-ca":")" +
                                         pki.ca_file + R"("})");
    auto r = load({"--config", file});
    REQUIRE_MESSAGE(r.errors.empty(), all_errors(r));
    CHECK(r.config.upstream.ca_file == pki.ca_file);
    CHECK(r.config.upstream.rules[0].tls != nullptr);
  }
}

TEST_CASE("TLS files that can't be used are start-up errors, even before any https rule needs them") {
  sb::test::Pki pki;
  SUBCASE("an unreadable CA file") {
    auto r = load({"--access-key", "k", "--upstream-ca", pki.dir.path("nope.pem")});
    CHECK(has_error_containing(r, "--upstream-ca '" + pki.dir.path("nope.pem") + "': cannot read it"));
  }
  SUBCASE("a certificate without its key") {
    auto r = load({"--access-key", "k", "--upstream", "https://x.example.com/", "--upstream-cert", pki.cert_file});
    CHECK(has_error_containing(r, "--upstream-cert and --upstream-key go together: give both or neither"));
  }
  SUBCASE("a key of another certificate") {
    auto other = pki.dir.write("other.key", sb::test::pem(sb::test::new_key().get()));
    auto r = load({"--access-key", "k", "--upstream-cert", pki.cert_file, "--upstream-key", other});
    CHECK(has_error_containing(r, "does not belong to the certificate"));
  }
  SUBCASE("an empty value") {
    auto r = load({"--access-key", "k", "--upstream-ca", ""});
    CHECK(has_error_containing(r, "--upstream-ca '': must not be empty"));
  }
  SUBCASE("every other error is still listed") {
    auto r = load({"--upstream-ca", pki.dir.path("nope.pem")});
    CHECK(has_error_containing(r, "cannot read it"));
    CHECK(has_error_containing(r, "no access key"));
  }
}

TEST_CASE("without https:// rules or TLS options no TLS context is built") {
  auto r = load({"--access-key", "k", "--upstream", "http://127.0.0.1:7071/upstream"});
  REQUIRE(r.errors.empty());
  CHECK(r.config.upstream.rules[0].tls == nullptr);
}
