#pragma once
// The gateway's whole configuration: built once at start-up from defaults, then the config file, then
// SWITCHBOARD_* environment variables, then flags (PROTOCOL.md part 3 §3.1). Validated as a whole and
// const afterwards; each module receives its sub-struct by const&.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "config/redis_url.hpp"
#include "config/upstream_rule.hpp"

namespace sb::config {

using std::chrono::milliseconds;

struct ServerConfig {
  std::string listen_host = "0.0.0.0";  // every interface, as a container expects
  std::uint16_t listen_port = 8080;     // 0 picks a free port, printed in the ready line
  unsigned threads = 0;                 // event-loop threads; 0 = one per core
  milliseconds request_timeout{30'000};  // reading one HTTP request, and writing its answer: against slowloris
  milliseconds header_timeout{10'000};   // a request header from a socket that has not authenticated yet
  std::size_t min_body_rate = 240;       // bytes/s after 5 s of grace (Kestrel's MinRequestBodyDataRate); 0: none
  std::size_t max_connections = 0;       // open sockets; 0: the descriptor limit less a tenth
  std::size_t max_unauthenticated_per_address = 1024;  // sockets not yet authenticated, per IPv4 address or IPv6 /64
  std::size_t max_unauthenticated_bytes = 64 * 1024 * 1024;  // their partial request headers, whole gateway
  std::size_t max_url_bytes = 8 * 1024;  // request target; nginx's default buffer, and tokens stay under 8 KiB
  std::size_t max_query_parameters = 64;  // SignalR sends at most ~5; a client's own additions fit easily
  std::string tls_cert_file;  // PEM chain; with tls_key_file, --listen speaks TLS only (empty: plain HTTP)
  std::string tls_key_file;   // PEM private key of the first certificate in tls_cert_file
  // TLS 1.2 cipher suites (OpenSSL's list syntax; TLS 1.3 keeps its own, all AEAD with forward secrecy).
  // Mozilla's "intermediate": ECDHE key exchange and AEAD only, no static RSA, no CBC.
  std::string tls_ciphers =
      "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
      "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";
  std::vector<std::string> cors_origins;  // browser origins allowed; empty: any but `null` (http/cors_policy.hpp)
  // The URL clients and backends use (--public-endpoint): tokens' `aud` host is checked against its
  // host instead of the request's Host header, which a client chooses. Empty: the Host header.
  std::string public_host;
  std::string public_scheme;      // with public_host: "http" or "https", for the printed connection string
  std::uint16_t public_port = 0;  // with public_host: as written, else the scheme's default
  std::string otlp_endpoint;      // http://collector:4318: spans go there (OTLP/HTTP JSON); empty: none
  std::string admin_key;          // the operator console's key (--admin-key); empty: no console
  std::string admin_read_key;     // --admin-read-key: looks but doesn't act; empty: none
  bool has_admin_listen = false;  // --admin-listen: the console on its own address, not on listen_host
  std::string admin_listen_host;
  std::uint16_t admin_listen_port = 0;
};

struct ConnectionConfig {
  milliseconds keepalive_interval{15'000};   // ASP.NET KeepAliveInterval; the client times out at 30 s
  milliseconds client_timeout{30'000};       // ASP.NET ClientTimeoutInterval, armed at the first Ping
  milliseconds handshake_timeout{15'000};    // ASP.NET HandshakeTimeout
  milliseconds negotiate_timeout{15'000};    // a connection token opens a connection this long (DisconnectTimeout)
  std::size_t max_message_bytes = 32 * 1024;       // ASP.NET MaximumReceiveMessageSize, handshake included
  std::size_t max_send_queue_bytes = 1024 * 1024;  // a reader this far behind is closed, not buffered forever
  std::size_t max_pending_invocations = 1024;      // messages waiting for the upstream, per connection
  milliseconds client_invoke_timeout{30'000};      // REST :invoke waits this long for the client's Completion
  std::size_t max_client_invocations = 100;        // server-to-client invocations awaiting a result, per connection
  std::size_t max_upload_streams = 100;            // client upload streams open at once, per connection
  bool close_on_token_expiry = false;              // ASP.NET CloseOnAuthenticationExpiration
  bool send_refresh_event = false;                 // tell the function of a token refresh (`refresh` event)
  bool allow_stateful_reconnect = true;            // grant useStatefulReconnect to clients that ask
  std::size_t stateful_reconnect_buffer_bytes = 100'000;  // ASP.NET StatefulReconnectBufferSize
  milliseconds stateful_reconnect_window{30'000};  // how long a dropped stateful connection waits to resume
};

struct RestConfig {
  std::size_t max_body_bytes = 1024 * 1024;  // Azure's REST limit: 1 MB
};

struct UpstreamConfig {
  std::vector<UpstreamRule> rules;        // first match wins; none = the event is not sent
  milliseconds timeout{30'000};           // per request; Azure documents none, the emulator uses 100 s
  std::size_t max_concurrency = 1024;     // requests in flight, whole process
  std::size_t max_response_bytes = 16 * 1024 * 1024;  // Azure: "Invocation failed, response too large."
  std::size_t retries = 3;                    // connected/disconnected: a short outage shouldn't lose them
  std::size_t circuit_failures = 5;           // failures in a row that open a function's circuit
  milliseconds circuit_open{5'000};           // how long invocations are refused before a probe
  std::string down_target;                    // clients are invoked with "down"/"up" when a circuit opens/closes
  // https functions (docs/upstream.md "HTTPS functions"). Built into one TLS context at load time,
  // which every https rule then holds (UpstreamRule::tls).
  std::string ca_file;    // PEM CAs trusted for functions, and only they; empty: the system's store
  std::string cert_file;  // PEM client certificate chain for mutual TLS; with key_file
  std::string key_file;   // its unencrypted PEM private key
};

enum class ShutdownMode {
  reconnect,  // close every connection with allowReconnect:true, spread over `spread`
  wait,       // let clients leave on their own until the timeout
};

// Graceful shutdown on SIGTERM/SIGINT (PROTOCOL.md part 3 §3.6).
struct ShutdownConfig {
  ShutdownMode mode = ShutdownMode::reconnect;  // a rolling restart shouldn't wait for clients to leave
  milliseconds timeout{30'000};  // at this point every connection still open is closed (Kubernetes' default grace)
  milliseconds spread{5'000};    // reconnect mode: closes spread over this, so clients don't return as one herd
  std::string message_target;    // sent to every connection before anything closes; empty: no message
  std::string message_arguments_json = "[]";  // the message's arguments, a JSON array
};

// Many gateways over Redis (PROTOCOL.md part 3 §3.8, docs/scaling.md). Off unless --redis is given.
struct RedisConfig {
  std::string url;                     // as given; empty: one gateway, in-process backplane
  RedisEndpoint endpoint;              // parsed from `url` (credentials and TLS included)
  std::string tls_ca;                  // rediss:// and TLS sentinels: trust only this CA file; empty: the system's
  std::string tls_cert;                // with tls_key: a client certificate (mutual TLS)
  std::string tls_key;
  std::vector<HostPort> sentinels;     // non-empty: the master is whatever these Redis Sentinels name
  std::string sentinel_master = "mymaster";
  std::string sentinel_password;       // the sentinels' own password; never logged
  milliseconds lease{5'000};           // a gateway silent this long is dead: its connections are reaped
  std::size_t max_queue_bytes = 8 * 1024 * 1024;  // actions held while Redis is down; past it they drop (a gap)
  milliseconds connect_timeout{2'000};  // one connect attempt; then back off and retry
  milliseconds max_backoff{2'000};      // reconnect delays double from 100 ms up to this
  std::string key_prefix = "switchboard";  // every key and channel starts with this (several fleets, one Redis)
  // The fan-out as an ordered log kept for a while (a Redis Stream): connections outlive a crashed
  // gateway. Off: Redis pub/sub, which keeps nothing (docs/scaling.md "Crashes").
  bool fleet_log = true;
  // Sign what gateways write to Redis for each other (backplane/fleet_signature.hpp). Off only for
  // a Redis nobody else can write to, to measure what signing costs.
  bool fleet_signing = true;
  milliseconds log_retention{0};          // 0: the stateful reconnect window + 10 s
  std::size_t log_max_entries = 1'000'000;
  milliseconds checkpoint_interval{1'000};  // how often changed stateful connections are checkpointed
};

// Admission limits: what the gateway refuses before a connection exists.
struct LimitsConfig {
  std::size_t max_connections_per_user = 0;  // 0: no limit (Azure has none); anonymous users never counted
  std::size_t negotiate_rate = 0;            // negotiates per second, whole process; 0: no limit
  std::size_t negotiate_burst = 0;           // bucket size; 0: the same as the rate
  milliseconds max_token_lifetime{24 * 3600 * 1000};  // a token expiring later than this from now is refused; 0: none
};

struct Config {
  ServerConfig server;
  std::vector<std::string> access_keys;  // the first signs, every one verifies
  ConnectionConfig connection;
  RestConfig rest;
  UpstreamConfig upstream;
  RedisConfig redis;
  ShutdownConfig shutdown;
  LimitsConfig limits;
  std::string log_level = "info";
  bool shows_access_key = false;  // the ready block masks the key: stdout ends up in log pipelines
};

enum class LoadStatus { run, help_shown, help_markdown_shown, version_shown, log_events_shown };

struct LoadResult {
  LoadStatus status = LoadStatus::run;
  Config config;
  std::vector<std::string> errors;  // every problem found; non-empty means exit 2
};

// argv as given to main, environ as the environment. Reads the --config file if named.
LoadResult load_config(int argc, const char* const* argv, const char* const* environment);

// The text --help prints: every option with its environment variable and default.
std::string help_text();

// The same options as one Markdown table (flag, environment, default, meaning): what
// `--help --format markdown` prints, and what docs/configuration.md carries verbatim (a unit test
// keeps the two equal).
std::string options_markdown();

}  // namespace sb::config
