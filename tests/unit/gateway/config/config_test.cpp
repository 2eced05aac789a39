#include "config/config.hpp"

#include <doctest/doctest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "load_config_support.hpp"

using namespace sb::config;
using namespace sb::config::test;
using std::chrono::milliseconds;
using std::chrono::seconds;

namespace {

// A JSON config file in the temp directory, removed at the end of the test.
class TempFile {
 public:
  explicit TempFile(const std::string& text) {
    static int counter = 0;
    path_ = std::filesystem::temp_directory_path() /
            ("switchboard_config_test_" + std::to_string(::getpid()) + "_" + std::to_string(++counter) + ".json");
    std::ofstream(path_) << text;
  }
  ~TempFile() { std::filesystem::remove(path_); }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  std::string path() const { return path_.string(); }

 private:
  std::filesystem::path path_;
};

}  // namespace

TEST_CASE("starts from the documented defaults") {
  auto r = load({"--access-key", "k"});
  REQUIRE_MESSAGE(r.errors.empty(), all_errors(r));
  CHECK(r.status == LoadStatus::run);
  const auto& c = r.config;
  CHECK(c.server.listen_host == "0.0.0.0");
  CHECK(c.server.listen_port == 8080);
  CHECK(c.server.threads >= 1);  // 0 means one per core, resolved at load
  CHECK(c.access_keys == std::vector<std::string>{"k"});
  CHECK(c.connection.keepalive_interval == seconds(15));
  CHECK(c.connection.client_timeout == seconds(30));
  CHECK(c.connection.handshake_timeout == seconds(15));
  CHECK(c.connection.max_message_bytes == 32 * 1024);
  CHECK(c.rest.max_body_bytes == 1024 * 1024);
  CHECK(c.upstream.rules.empty());
  CHECK(c.upstream.timeout == seconds(30));
  CHECK(c.upstream.max_response_bytes == 16 * 1024 * 1024);
  CHECK(c.redis.url.empty());
  CHECK(c.shutdown.timeout == seconds(30));
  CHECK(c.shutdown.mode == ShutdownMode::reconnect);
  CHECK(c.shutdown.spread == seconds(5));
  CHECK(c.shutdown.message_target.empty());
  CHECK(c.limits.max_connections_per_user == 0);
  CHECK(c.limits.negotiate_rate == 0);
  CHECK(c.log_level == "info");
}

TEST_CASE("takes flags over environment over file") {
  TempFile file(R"({"keepalive-interval":"5s","client-timeout":"60s","log-level":"debug","listen":"127.0.0.1:7000",
                   "access-key":["file-key"]})");
  auto r = load({"--config", file.path(), "--keepalive-interval", "9s"},
                {"SWITCHBOARD_KEEPALIVE_INTERVAL=7s", "SWITCHBOARD_LOG_LEVEL=warn", "PATH=/usr/bin"});
  REQUIRE_MESSAGE(r.errors.empty(), all_errors(r));
  CHECK(r.config.connection.keepalive_interval == seconds(9));  // flag
  CHECK(r.config.log_level == "warn");                          // environment
  CHECK(r.config.connection.client_timeout == seconds(60));     // file
  CHECK(r.config.server.listen_host == "127.0.0.1");            // file
  CHECK(r.config.server.listen_port == 7000);
  CHECK(r.config.access_keys == std::vector<std::string>{"file-key"});

  SUBCASE("the file can be named by SWITCHBOARD_CONFIG") {
    auto from_env = load({}, {"SWITCHBOARD_CONFIG=" + file.path()});
    REQUIRE_MESSAGE(from_env.errors.empty(), all_errors(from_env));
    CHECK(from_env.config.log_level == "debug");
    CHECK(from_env.config.connection.keepalive_interval == seconds(5));
  }
}

TEST_CASE("accepts --name=value as well as --name value") {
  auto r = load({"--access-key=k=", "--listen=[::1]:0", "--handshake-timeout=500ms", "--max-message-bytes=64KiB"});
  REQUIRE_MESSAGE(r.errors.empty(), all_errors(r));
  CHECK(r.config.access_keys == std::vector<std::string>{"k="});
  CHECK(r.config.server.listen_host == "::1");
  CHECK(r.config.server.listen_port == 0);
  CHECK(r.config.connection.handshake_timeout == milliseconds(500));
  CHECK(r.config.connection.max_message_bytes == 64 * 1024);
}

TEST_CASE("collects a repeatable --access-key in order") {
  SUBCASE("flags") {
    auto r = load({"--access-key", "first", "--access-key", "second"});
    REQUIRE_MESSAGE(r.errors.empty(), all_errors(r));
    CHECK(r.config.access_keys == std::vector<std::string>{"first", "second"});
  }
  SUBCASE("environment, comma separated") {
    auto r = load({}, {"SWITCHBOARD_ACCESS_KEY=a,b"});
    REQUIRE_MESSAGE(r.errors.empty(), all_errors(r));
    CHECK(r.config.access_keys == std::vector<std::string>{"a", "b"});
  }
  SUBCASE("flags replace the environment's list") {
    auto r = load({"--access-key", "flag"}, {"SWITCHBOARD_ACCESS_KEY=a,b"});
    REQUIRE_MESSAGE(r.errors.empty(), all_errors(r));
    CHECK(r.config.access_keys == std::vector<std::string>{"flag"});
  }
  SUBCASE("from a connection string") {
    auto r = load({"--connection-string", "Endpoint=http://localhost;AccessKey=cs-key;Version=1.0;"});
    REQUIRE_MESSAGE(r.errors.empty(), all_errors(r));
    CHECK(r.config.access_keys == std::vector<std::string>{"cs-key"});
  }
}

// config.cpp: "access-key and connection-string both feed access_keys: treat them as one list per source".
TEST_CASE("lets a flag connection string win over an environment access key") {
  auto r = load({"--connection-string", "Endpoint=http://localhost;AccessKey=flag-key;Version=1.0;"},
                {"SWITCHBOARD_ACCESS_KEY=env-key"});
  REQUIRE_MESSAGE(r.errors.empty(), all_errors(r));
  CHECK(r.config.access_keys == std::vector<std::string>{"flag-key"});
}

TEST_CASE("reads --upstream rules from the environment one per line") {
  auto r = load({"--access-key", "k"},
                {"SWITCHBOARD_UPSTREAM=http://a/{event}\nhub=chat;event=x,y;url=http://b/?code=1,2\n"});
  REQUIRE_MESSAGE(r.errors.empty(), all_errors(r));
  REQUIRE(r.config.upstream.rules.size() == 2);
  CHECK(r.config.upstream.rules[0].url_template == "http://a/{event}");
  CHECK(r.config.upstream.rules[1].url_template == "http://b/?code=1,2");
  CHECK(r.config.upstream.rules[1].events.names == std::vector<std::string>{"x", "y"});
}

TEST_CASE("keeps --upstream flags in order") {
  auto r = load({"--access-key", "k", "--upstream", "hub=chat;url=http://first/", "--upstream", "http://second/"});
  REQUIRE_MESSAGE(r.errors.empty(), all_errors(r));
  REQUIRE(r.config.upstream.rules.size() == 2);
  CHECK(r.config.upstream.rules[0].url_template == "http://first/");
  CHECK(r.config.upstream.rules[1].url_template == "http://second/");
}

TEST_CASE("accepts the emulator's UpstreamSettings.Templates in the config file") {
  TempFile file(R"({"access-key":"k","UpstreamSettings":{"Templates":[
      {"UrlTemplate":"http://localhost:7071/runtime/webhooks/signalr","HubPattern":"chat","EventPattern":"connected, broadcast","CategoryPattern":"*"},
      {"UrlTemplate":"http://localhost:7072/{hub}/{event}"}]}})");
  auto r = load({"--config", file.path()});
  REQUIRE_MESSAGE(r.errors.empty(), all_errors(r));
  REQUIRE(r.config.upstream.rules.size() == 2);
  const auto& first = r.config.upstream.rules[0];
  CHECK(first.url_template == "http://localhost:7071/runtime/webhooks/signalr");
  CHECK(first.hubs.names == std::vector<std::string>{"chat"});
  CHECK(first.categories.any);
  CHECK(first.events.names == std::vector<std::string>{"connected", "broadcast"});
  CHECK(r.config.upstream.rules[1].hubs.any);
  CHECK(r.config.upstream.rules[1].expand("chat", "messages", "send") == "http://localhost:7072/chat/send");

  SUBCASE("a template without UrlTemplate is an error") {
    TempFile bad(R"({"access-key":"k","UpstreamSettings":{"Templates":[{"HubPattern":"chat"}]}})");
    auto rb = load({"--config", bad.path()});
    CHECK(has_error_containing(rb, "UrlTemplate"));
  }
  SUBCASE("Templates not an array is an error") {
    TempFile bad(R"({"access-key":"k","UpstreamSettings":{"Templates":{}}})");
    auto rb = load({"--config", bad.path()});
    CHECK(has_error_containing(rb, "UpstreamSettings.Templates must be an array"));
  }
}

TEST_CASE("reports an unknown flag") {
  auto r = load({"--access-key", "k", "--colour", "red"});
  CHECK(has_error_containing(r, "unknown option --colour"));
  SUBCASE("and a positional argument") {
    auto p = load({"--access-key", "k", "stray"});
    CHECK(has_error_containing(p, "unexpected argument 'stray'"));
  }
  SUBCASE("and a flag without its value") {
    auto m = load({"--access-key", "k", "--listen"});
    CHECK(has_error_containing(m, "--listen: missing value"));
  }
}

TEST_CASE("Redis credentials and TLS options: read, checked together, never repeated in an error") {
  auto ok = load({"--access-key", "k", "--redis", "rediss://gw:s3cret@cache:6380/2", "--redis-ca", "/ca.pem",
                  "--redis-sentinel", "10.0.0.1:26379,10.0.0.2:26379", "--redis-sentinel-master", "prod",
                  "--redis-sentinel-password", "sentinel-pw"});
  REQUIRE(all_errors(ok).empty());
  CHECK(ok.config.redis.endpoint.tls);
  CHECK(ok.config.redis.endpoint.username == "gw");
  CHECK(ok.config.redis.endpoint.password == "s3cret");
  CHECK(ok.config.redis.tls_ca == "/ca.pem");
  CHECK(ok.config.redis.sentinels.size() == 2);
  CHECK(ok.config.redis.sentinel_master == "prod");
  CHECK(ok.config.redis.sentinel_password == "sentinel-pw");
  CHECK(ok.config.redis.fleet_signing);

  auto bad = load({"--access-key", "k", "--redis", "redis://:s3cret@cache:0"});
  CHECK(has_error_containing(bad, "--redis: port"));
  CHECK(all_errors(bad).find("s3cret") == std::string::npos);
  auto half = load({"--access-key", "k", "--redis", "rediss://x", "--redis-cert", "/c.pem"});
  CHECK(has_error_containing(half, "--redis-cert and --redis-key go together"));
  auto lone = load({"--access-key", "k", "--redis-sentinel", "127.0.0.1:26379"});
  CHECK(has_error_containing(lone, "need --redis"));
  auto off = load({"--access-key", "k", "--redis", "redis://x", "--fleet-signing", "off"});
  CHECK_FALSE(off.config.redis.fleet_signing);
}

TEST_CASE("reports a missing access key") {
  auto r = load({});
  CHECK(has_error_containing(r, "no access key"));
  SUBCASE("an empty key does not count") {
    auto e = load({"--access-key", ""});
    CHECK(has_error_containing(e, "--access-key: must not be empty"));
  }
}

TEST_CASE("lists every bad duration and size") {
  auto r =
      load({"--access-key", "k", "--keepalive-interval", "5x", "--handshake-timeout", "soon", "--max-message-bytes",
            "12QB", "--rest-max-body-bytes", "lots", "--upstream-timeout", "-1s", "--threads", "many"});
  CHECK(has_error_containing(r, "--keepalive-interval '5x': unknown unit 'x'"));
  CHECK(has_error_containing(r, "--handshake-timeout 'soon'"));
  CHECK(has_error_containing(r, "--max-message-bytes '12QB': unknown unit 'QB'"));
  CHECK(has_error_containing(r, "--rest-max-body-bytes 'lots'"));
  CHECK(has_error_containing(r, "--upstream-timeout '-1s'"));
  CHECK(has_error_containing(r, "--threads 'many'"));
  CHECK(r.errors.size() >= 6);
}

// 17592186044416 MiB is 2^64 bytes: the multiplication wraps to 0 instead of being refused.
TEST_CASE("rejects a size too large to represent") {
  auto r = load({"--access-key", "k", "--rest-max-body-bytes", "17592186044416MiB"});
  CHECK(has_error_containing(r, "--rest-max-body-bytes '17592186044416MiB'"));
}

TEST_CASE("validates the configuration as a whole") {
  SUBCASE("client timeout not above keep-alive") {
    auto r = load({"--access-key", "k", "--keepalive-interval", "30s"});
    CHECK(has_error_containing(r, "--client-timeout must be longer than --keepalive-interval"));
  }
  SUBCASE("a tiny message limit") {
    auto r = load({"--access-key", "k", "--max-message-bytes", "10"});
    CHECK(has_error_containing(r, "--max-message-bytes must be at least 64"));
  }
  SUBCASE("a non-repeatable option given twice") {
    auto r = load({"--access-key", "k", "--log-level", "info", "--log-level", "debug"});
    CHECK(has_error_containing(r, "--log-level: given more than once"));
  }
  SUBCASE("a bad log level") {
    auto r = load({"--access-key", "k", "--log-level", "loud"});
    CHECK(has_error_containing(r, "--log-level 'loud'"));
  }
  SUBCASE("a bad upstream rule") {
    auto r = load({"--access-key", "k", "--upstream", "ws://x/"});
    CHECK(has_error_containing(r, "--upstream 'ws://x/'"));
  }
  SUBCASE("a port out of range") {
    auto r = load({"--access-key", "k", "--listen", "0.0.0.0:70000"});
    CHECK(has_error_containing(r, "--listen"));
  }
}

TEST_CASE("reports config file problems") {
  SUBCASE("missing file") {
    auto r = load({"--access-key", "k", "--config", "/nonexistent/switchboard.json"});
    CHECK(has_error_containing(r, "cannot read '/nonexistent/switchboard.json'"));
  }
  SUBCASE("not an object") {
    TempFile file("[1,2]");
    auto r = load({"--access-key", "k", "--config", file.path()});
    CHECK(has_error_containing(r, "is not a JSON object"));
  }
  SUBCASE("unknown key") {
    TempFile file(R"({"colour":"red"})");
    auto r = load({"--access-key", "k", "--config", file.path()});
    CHECK(has_error_containing(r, "--config: unknown key 'colour'"));
  }
  SUBCASE("numbers are read as their text") {
    TempFile file(R"({"max-message-bytes":65536,"threads":2})");
    auto r = load({"--access-key", "k", "--config", file.path()});
    REQUIRE_MESSAGE(r.errors.empty(), all_errors(r));
    CHECK(r.config.connection.max_message_bytes == 65536);
    CHECK(r.config.server.threads == 2);
  }
}

TEST_CASE("stops at --help and --version") {
  CHECK(load({"--help"}).status == LoadStatus::help_shown);
  CHECK(load({"-h"}).status == LoadStatus::help_shown);
  CHECK(load({"--version"}).status == LoadStatus::version_shown);
  auto r = load({"--colour", "x", "--help"});
  CHECK(r.status == LoadStatus::help_shown);
}

TEST_CASE("help text lists every option with its environment variable") {
  auto help = help_text();
  for (const char* option : {"--config",
                             "--listen",
                             "--access-key",
                             "--connection-string",
                             "--upstream",
                             "--threads",
                             "--request-timeout",
                             "--max-url-bytes",
                             "--max-query-parameters",
                             "--tls-cert",
                             "--tls-key",
                             "--keepalive-interval",
                             "--client-timeout",
                             "--handshake-timeout",
                             "--negotiate-timeout",
                             "--max-message-bytes",
                             "--max-send-queue-bytes",
                             "--max-pending-invocations",
                             "--rest-max-body-bytes",
                             "--upstream-timeout",
                             "--upstream-concurrency",
                             "--upstream-max-response-bytes",
                             "--redis",
                             "--shutdown-timeout",
                             "--shutdown-mode",
                             "--shutdown-spread",
                             "--shutdown-target",
                             "--shutdown-arguments",
                             "--max-connections-per-user",
                             "--negotiate-rate",
                             "--negotiate-burst",
                             "--log-level",
                             "--help",
                             "--version"}) {
    CAPTURE(option);
    CHECK(help.find(option) != std::string::npos);
  }
  CHECK(help.find("SWITCHBOARD_ACCESS_KEY") != std::string::npos);
  CHECK(help.find("SWITCHBOARD_KEEPALIVE_INTERVAL") != std::string::npos);
  CHECK(help.find("default: 15s") != std::string::npos);
  CHECK(help.find("default: 0.0.0.0:8080") != std::string::npos);
}

TEST_CASE("reads the shutdown options") {
  auto r = load({"--access-key", "k", "--shutdown-mode", "wait", "--shutdown-timeout", "10s", "--shutdown-target",
                 "serverLeaving", "--shutdown-arguments", R"(["maintenance", 30])"});
  REQUIRE_MESSAGE(r.errors.empty(), all_errors(r));
  CHECK(r.config.shutdown.mode == ShutdownMode::wait);
  CHECK(r.config.shutdown.timeout == seconds(10));
  CHECK(r.config.shutdown.message_target == "serverLeaving");
  CHECK(r.config.shutdown.message_arguments_json == R"(["maintenance",30])");

  SUBCASE("the spread never outlasts the timeout") {
    auto capped = load({"--access-key", "k", "--shutdown-timeout", "2s", "--shutdown-spread", "9s"});
    REQUIRE_MESSAGE(capped.errors.empty(), all_errors(capped));
    CHECK(capped.config.shutdown.spread == seconds(2));
  }
  SUBCASE("arguments must be a JSON array") {
    auto bad = load({"--access-key", "k", "--shutdown-arguments", R"({"a":1})"});
    REQUIRE(bad.errors.size() == 1);
    CHECK(bad.errors[0].find("expected a JSON array") != std::string::npos);
  }
  SUBCASE("an unknown mode is named") {
    auto bad = load({"--access-key", "k", "--shutdown-mode", "drain"});
    REQUIRE(bad.errors.size() == 1);
    CHECK(bad.errors[0].find("expected reconnect or wait") != std::string::npos);
  }
}

TEST_CASE("reads the admission limits") {
  auto r = load({"--access-key", "k", "--max-connections-per-user", "3", "--negotiate-rate", "50"});
  REQUIRE_MESSAGE(r.errors.empty(), all_errors(r));
  CHECK(r.config.limits.max_connections_per_user == 3);
  CHECK(r.config.limits.negotiate_rate == 50);
  CHECK(r.config.limits.negotiate_burst == 50);  // defaults to the rate

  SUBCASE("a burst needs a rate") {
    auto bad = load({"--access-key", "k", "--negotiate-burst", "10"});
    REQUIRE(bad.errors.size() == 1);
    CHECK(bad.errors[0].find("--negotiate-rate") != std::string::npos);
  }
}

TEST_CASE("reads the request deadline and the request limits") {
  auto defaults = load({"--access-key", "k"});
  REQUIRE_MESSAGE(defaults.errors.empty(), all_errors(defaults));
  CHECK(defaults.config.server.request_timeout == seconds(30));
  CHECK(defaults.config.server.max_url_bytes == 8 * 1024);
  CHECK(defaults.config.server.max_query_parameters == 64);

  auto r = load({"--access-key", "k", "--request-timeout", "5s", "--max-url-bytes", "4KiB"},
                {"SWITCHBOARD_MAX_QUERY_PARAMETERS=10"});
  REQUIRE_MESSAGE(r.errors.empty(), all_errors(r));
  CHECK(r.config.server.request_timeout == seconds(5));
  CHECK(r.config.server.max_url_bytes == 4096);
  CHECK(r.config.server.max_query_parameters == 10);

  SUBCASE("from the config file") {
    TempFile file(R"({"access-key": "k", "request-timeout": "250ms"})");
    auto from_file = load({"--config", file.path()});
    REQUIRE_MESSAGE(from_file.errors.empty(), all_errors(from_file));
    CHECK(from_file.config.server.request_timeout == milliseconds(250));
  }
  SUBCASE("zero and nonsense are refused") {
    auto bad = load({"--access-key", "k", "--request-timeout", "0", "--max-url-bytes", "10"});
    REQUIRE(bad.errors.size() == 2);
    CHECK(bad.errors[0].find("--request-timeout") != std::string::npos);
    CHECK(bad.errors[1].find("--max-url-bytes") != std::string::npos);
    CHECK(load({"--access-key", "k", "--request-timeout", "soon"}).errors.size() == 1);
  }
}

TEST_CASE("reads the TLS certificate and key, which go together") {
  auto r = load({"--access-key", "k", "--tls-cert", "/etc/sb/cert.pem"}, {"SWITCHBOARD_TLS_KEY=/etc/sb/key.pem"});
  REQUIRE_MESSAGE(r.errors.empty(), all_errors(r));
  CHECK(r.config.server.tls_cert_file == "/etc/sb/cert.pem");
  CHECK(r.config.server.tls_key_file == "/etc/sb/key.pem");
  CHECK(load({"--access-key", "k"}).config.server.tls_cert_file.empty());

  SUBCASE("one without the other is an error") {
    auto bad = load({"--access-key", "k", "--tls-key", "/etc/sb/key.pem"});
    REQUIRE(bad.errors.size() == 1);
    CHECK(bad.errors[0].find("give both or neither") != std::string::npos);
  }
}

TEST_CASE("masks the access key in the ready block unless --ready-access-key shown") {
  auto defaults = load({"--access-key", "k"});
  REQUIRE(defaults.errors.empty());
  CHECK_FALSE(defaults.config.shows_access_key);
  auto shown = load({"--access-key", "k", "--ready-access-key", "shown"});
  REQUIRE(shown.errors.empty());
  CHECK(shown.config.shows_access_key);
  auto from_env = load({"--access-key", "k"}, {"SWITCHBOARD_READY_ACCESS_KEY=shown"});
  CHECK(from_env.config.shows_access_key);
  CHECK(has_error_containing(load({"--access-key", "k", "--ready-access-key", "yes"}), "expected masked or shown"));
}

TEST_CASE("--cors-origins takes origins, repeated or as a comma list, and refuses anything else") {
  auto defaults = load({"--access-key", "k"});
  REQUIRE(defaults.errors.empty());
  CHECK(defaults.config.server.cors_origins.empty());
  auto listed = load({"--access-key", "k", "--cors-origins", "https://app.example.com, http://localhost:3000/",
                      "--cors-origins", "null"});
  REQUIRE(listed.errors.empty());
  CHECK(listed.config.server.cors_origins ==
        std::vector<std::string>{"https://app.example.com", "http://localhost:3000", "null"});
  auto from_env = load({"--access-key", "k"}, {"SWITCHBOARD_CORS_ORIGINS=https://a.test,https://b.test:8443"});
  CHECK(from_env.config.server.cors_origins == std::vector<std::string>{"https://a.test", "https://b.test:8443"});
  CHECK(has_error_containing(load({"--access-key", "k", "--cors-origins", "*"}), "expected scheme://host[:port] or null"));
  CHECK(has_error_containing(load({"--access-key", "k", "--cors-origins", "ftp://x"}), "the scheme must be http or https"));
  CHECK(has_error_containing(load({"--access-key", "k", "--cors-origins", "https://x/path"}), "no path"));
  CHECK(has_error_containing(load({"--access-key", "k", "--cors-origins", "https://"}), "expected scheme://host[:port] or null"));
}

TEST_CASE("--max-token-lifetime defaults to a day; --public-endpoint pins the audience host") {
  auto defaults = load({"--access-key", "k"});
  REQUIRE(defaults.errors.empty());
  CHECK(defaults.config.limits.max_token_lifetime == std::chrono::hours(24));
  CHECK(defaults.config.server.public_host.empty());
  auto set = load({"--access-key", "k", "--max-token-lifetime", "2h", "--public-endpoint", "https://rt.example.com"});
  REQUIRE(set.errors.empty());
  CHECK(set.config.limits.max_token_lifetime == std::chrono::hours(2));
  CHECK(set.config.server.public_host == "rt.example.com");
  auto none = load({"--access-key", "k", "--max-token-lifetime", "0"});
  REQUIRE(none.errors.empty());
  CHECK(none.config.limits.max_token_lifetime.count() == 0);
  auto v6 = load({"--access-key", "k", "--public-endpoint", "http://[::1]:8080"});
  REQUIRE(v6.errors.empty());
  CHECK(v6.config.server.public_host == "[::1]");
  CHECK(has_error_containing(load({"--access-key", "k", "--public-endpoint", "rt.example.com"}), "expected http(s)://host[:port]"));
  CHECK(has_error_containing(load({"--access-key", "k", "--public-endpoint", "https://rt.example.com/api"}), "expected no path"));
}

TEST_CASE("--help --format markdown asks for the Markdown table") {
  CHECK(load({"--help", "--format", "markdown"}).status == LoadStatus::help_markdown_shown);
  CHECK(load({"--format=markdown", "--help"}).status == LoadStatus::help_markdown_shown);
  CHECK(load({"--format", "markdown", "-h"}).status == LoadStatus::help_markdown_shown);
  CHECK(load({"--help", "--format", "text"}).status == LoadStatus::help_shown);
  auto unknown = load({"--help", "--format", "html"});
  CHECK(unknown.status == LoadStatus::run);
  CHECK(all_errors(unknown).find("expected text or markdown") != std::string::npos);
  auto alone = load({"--access-key", "k", "--format", "markdown"});
  CHECK(alone.status == LoadStatus::run);
  CHECK(all_errors(alone).find("--format goes with --help") != std::string::npos);
  CHECK(alone.errors.size() == 1);  // its value is not read as a stray argument
}

TEST_CASE("the Markdown option table has a row for every option --help lists") {
  auto table = options_markdown();
  CHECK(table.rfind("| flag | environment | default | meaning |\n|---|---|---|---|\n", 0) == 0);
  std::istringstream help(help_text());
  std::size_t options_seen = 0;
  for (std::string line; std::getline(help, line);) {
    if (line.rfind("  --", 0) != 0) continue;
    auto name = line.substr(2, line.find_first_of(" ,", 2) - 2);
    CAPTURE(name);
    CHECK(table.find("| `" + name) != std::string::npos);
    ++options_seen;
  }
  CHECK(options_seen > 40);
  // Repeatable options say how their values share one variable; '|' in a value name is escaped.
  CHECK(table.find("`SWITCHBOARD_UPSTREAM` (one per line)") != std::string::npos);
  CHECK(table.find("`SWITCHBOARD_ACCESS_KEY` (comma-separated)") != std::string::npos);
  CHECK(table.find("`--stateful-reconnect on\\|off`") != std::string::npos);
  CHECK(table.find("| `30s` |") != std::string::npos);
}

TEST_CASE("docs/configuration.md carries the option table that --help --format markdown prints") {
  std::ifstream file(SB_DOCS_DIR "/configuration.md");
  REQUIRE(file.good());
  std::stringstream text;
  text << file.rdbuf();
  // When an option changes, paste the "## Options" table of `build/bin/switchboard --help --format markdown`
  // over the one in docs/configuration.md.
  CHECK(text.str().find(options_markdown()) != std::string::npos);
}

TEST_CASE("--admin-read-key comes with --admin-key, differs from it, and stays out of errors") {
  const std::string admin = "admin-key-0123456789", reader = "read-key-0123456789";
  auto ok = load({"--access-key", "k", "--admin-key", admin, "--admin-read-key", reader});
  REQUIRE_MESSAGE(ok.errors.empty(), all_errors(ok));
  CHECK(ok.config.server.admin_read_key == reader);
  auto from_env = load({"--access-key", "k", "--admin-key", admin}, {"SWITCHBOARD_ADMIN_READ_KEY=" + reader});
  REQUIRE_MESSAGE(from_env.errors.empty(), all_errors(from_env));
  CHECK(from_env.config.server.admin_read_key == reader);
  CHECK(has_error_containing(load({"--access-key", "k", "--admin-read-key", reader}), "needs --admin-key"));
  CHECK(has_error_containing(load({"--access-key", "k", "--admin-key", admin, "--admin-read-key", admin}), "must differ"));
  auto short_key = load({"--access-key", "k", "--admin-key", admin, "--admin-read-key", "short-secret"});
  CHECK(has_error_containing(short_key, "at least 16 characters"));
  CHECK(all_errors(short_key).find("short-secret") == std::string::npos);
}
