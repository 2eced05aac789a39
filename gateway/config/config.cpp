#include "config/config.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstring>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "common/url.hpp"
#include "config/connection_string.hpp"
#include "tls_client/client_tls_context.hpp"

namespace sb::config {
namespace {

using Apply = std::function<std::optional<std::string>(Config&, std::string_view)>;

struct Option {
  std::string name;          // flag name without "--"
  std::string value_name;    // for --help
  std::string default_text;  // for --help
  std::string help;
  bool repeatable = false;
  char env_separator = ',';  // how a repeatable option's values share one environment variable
  Apply apply;
};

// nullopt when `origin` is a valid --cors-origins entry: "null" or http(s)://host[:port]; else why not.
std::optional<std::string> origin_entry_problem(std::string_view origin) {
  if (origin == "null") return std::nullopt;
  auto scheme_end = origin.find("://");
  if (scheme_end == std::string_view::npos || scheme_end == 0) return "expected scheme://host[:port] or null";
  std::string scheme(origin.substr(0, scheme_end));
  for (auto& ch : scheme) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  if (scheme != "http" && scheme != "https") return "the scheme must be http or https";
  auto host = origin.substr(scheme_end + 3);
  if (host.empty()) return "the host is missing";
  if (host.find_first_of("/?#@ \t\r\n") != std::string_view::npos) return "an origin has no path, query, user or spaces";
  return std::nullopt;
}

std::string env_name(std::string_view flag) {
  std::string out = "SWITCHBOARD_";
  for (char c : flag) out += c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

std::optional<std::string> parse_duration(std::string_view text, milliseconds& out) {
  std::int64_t number = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), number);
  if (ec != std::errc() || number < 0) return "expected a duration such as 15s, 500ms or 2m";
  std::string_view unit(end, static_cast<std::size_t>(text.data() + text.size() - end));
  std::int64_t ms_per_unit;
  if (unit.empty() || unit == "s") ms_per_unit = 1000;
  else if (unit == "ms") ms_per_unit = 1;
  else if (unit == "m") ms_per_unit = 60'000;
  else if (unit == "h") ms_per_unit = 3'600'000;
  else return "unknown unit '" + std::string(unit) + "' (ms, s, m, h)";
  constexpr std::int64_t max_ms = 365LL * 24 * 3600 * 1000;  // a year: anything longer is a typo
  if (number > max_ms / ms_per_unit) return "longer than a year";
  out = milliseconds(number * ms_per_unit);
  return std::nullopt;
}

std::optional<std::string> parse_bytes(std::string_view text, std::size_t& out) {
  std::uint64_t number = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), number);
  if (ec != std::errc()) return "expected a size such as 32768, 64KiB or 1MiB";
  std::string_view unit(end, static_cast<std::size_t>(text.data() + text.size() - end));
  std::uint64_t multiplier = 1;
  if (unit == "KiB" || unit == "K" || unit == "k") multiplier = 1024;
  else if (unit == "MiB" || unit == "M") multiplier = 1024 * 1024;
  else if (unit == "GiB" || unit == "G") multiplier = 1024 * 1024 * 1024;
  else if (!unit.empty() && unit != "B") return "unknown unit '" + std::string(unit) + "' (B, KiB, MiB, GiB)";
  constexpr std::uint64_t max_bytes = 1ULL << 40;  // 1 TiB: anything larger is a typo
  if (number > max_bytes / multiplier) return "larger than 1 TiB";
  out = static_cast<std::size_t>(number * multiplier);
  return std::nullopt;
}

std::optional<std::string> parse_unsigned(std::string_view text, std::uint64_t max, std::uint64_t& out) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  if (ec != std::errc() || end != text.data() + text.size() || out > max)
    return "expected a whole number up to " + std::to_string(max);
  return std::nullopt;
}

std::string format_ms(milliseconds ms) {
  if (ms.count() >= 3'600'000 && ms.count() % 3'600'000 == 0) return std::to_string(ms.count() / 3'600'000) + "h";
  if (ms.count() % 1000 == 0) return std::to_string(ms.count() / 1000) + "s";
  return std::to_string(ms.count()) + "ms";
}

template <typename Field>
Apply duration_into(Field field) {
  return [field](Config& c, std::string_view v) { return parse_duration(v, field(c)); };
}

template <typename Field>
Apply bytes_into(Field field) {
  return [field](Config& c, std::string_view v) { return parse_bytes(v, field(c)); };
}

// on|off (true|false too) into a bool.
template <typename Field>
Apply switch_into(Field field) {
  return [field](Config& c, std::string_view v) -> std::optional<std::string> {
    if (v == "on" || v == "true") field(c) = true;
    else if (v == "off" || v == "false") field(c) = false;
    else return "expected on or off";
    return std::nullopt;
  };
}

const std::vector<Option>& options() {
  static const std::vector<Option> table = [] {
    Config d;  // defaults, so --help always shows the real values
    std::vector<Option> t;
    t.push_back({"listen", "HOST:PORT", d.server.listen_host + ":" + std::to_string(d.server.listen_port),
                 "address to accept clients, REST calls and probes on; port 0 picks a free port", false, ',',
                 [](Config& c, std::string_view v) -> std::optional<std::string> {
                   auto colon = v.rfind(':');
                   if (colon == std::string_view::npos) return "expected HOST:PORT";
                   std::uint64_t port = 0;
                   if (auto e = parse_unsigned(v.substr(colon + 1), 65535, port)) return e;
                   auto host = v.substr(0, colon);
                   if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
                   c.server.listen_host = host.empty() ? "0.0.0.0" : std::string(host);
                   c.server.listen_port = static_cast<std::uint16_t>(port);
                   return std::nullopt;
                 }});
    t.push_back({"access-key", "KEY", "(none: required)",
                 "access key for client and REST tokens and upstream signatures; repeatable: the first signs, all verify",
                 true, ',', [](Config& c, std::string_view v) -> std::optional<std::string> {
                   if (v.empty()) return "must not be empty";
                   c.access_keys.emplace_back(v);
                   return std::nullopt;
                 }});
    t.push_back({"connection-string", "STRING", "(none)",
                 "an Azure SignalR connection string \"Endpoint=…;AccessKey=…;Version=1.0;\"; its AccessKey is added",
                 true, '\n', [](Config& c, std::string_view v) -> std::optional<std::string> {
                   auto parsed = parse_connection_string(v);
                   if (!parsed) return parsed.error().message;
                   c.access_keys.push_back(parsed->access_key);
                   return std::nullopt;
                 }});
    t.push_back({"upstream", "RULE", "(none: events are not sent)",
                 "where events go; repeatable, first match wins: a URL template with {hub} {category} {event}, or "
                 "\"hub=P;category=P;event=P;url=TEMPLATE\" (P: *, a comma list, a name); env: one per line",
                 true, '\n', [](Config& c, std::string_view v) -> std::optional<std::string> {
                   auto rule = UpstreamRule::parse(v);
                   if (!rule) return rule.error().message;
                   c.upstream.rules.push_back(std::move(rule).value());
                   return std::nullopt;
                 }});
    t.push_back({"threads", "N", "0 (one per core)", "event-loop threads", false, ',',
                 [](Config& c, std::string_view v) -> std::optional<std::string> {
                   std::uint64_t n = 0;
                   if (auto e = parse_unsigned(v, 256, n)) return e;
                   c.server.threads = static_cast<unsigned>(n);
                   return std::nullopt;
                 }});
    t.push_back({"request-timeout", "DURATION", format_ms(d.server.request_timeout),
                 "deadline for reading one HTTP request (headers and body) and for writing its response", false, ',',
                 duration_into([](Config& c) -> milliseconds& { return c.server.request_timeout; })});
    t.push_back({"header-timeout", "DURATION", format_ms(d.server.header_timeout),
                 "deadline for a socket that has not authenticated to send each request header (authenticated "
                 "sockets get --request-timeout)", false, ',',
                 duration_into([](Config& c) -> milliseconds& { return c.server.header_timeout; })});
    t.push_back({"min-body-rate", "SIZE", std::to_string(d.server.min_body_rate),
                 "bytes per second a request body must keep up after 5 s of grace, or the socket closes; 0: none",
                 false, ',', bytes_into([](Config& c) -> std::size_t& { return c.server.min_body_rate; })});
    t.push_back({"max-connections", "N", "0 (the descriptor limit less a tenth)",
                 "open sockets, HTTP and WebSocket; at the limit a new one replaces the oldest idle socket that has "
                 "not authenticated, or gets 503", false, ',',
                 [](Config& c, std::string_view v) -> std::optional<std::string> {
                   std::uint64_t n = 0;
                   if (auto e = parse_unsigned(v, 100'000'000, n)) return e;
                   c.server.max_connections = n;
                   return std::nullopt;
                 }});
    t.push_back({"max-unauthenticated-per-address", "N", std::to_string(d.server.max_unauthenticated_per_address),
                 "sockets from one IPv4 address (IPv6: one /64) that have not carried a valid token yet; more get "
                 "503; 0: no limit (behind a proxy every client has its address)", false, ',',
                 [](Config& c, std::string_view v) -> std::optional<std::string> {
                   std::uint64_t n = 0;
                   if (auto e = parse_unsigned(v, 100'000'000, n)) return e;
                   c.server.max_unauthenticated_per_address = n;
                   return std::nullopt;
                 }});
    t.push_back({"max-unauthenticated-bytes", "SIZE", std::to_string(d.server.max_unauthenticated_bytes),
                 "request-header bytes all sockets that have not authenticated may hold at once; past it 503; 0: no "
                 "limit", false, ',',
                 bytes_into([](Config& c) -> std::size_t& { return c.server.max_unauthenticated_bytes; })});
    t.push_back({"max-url-bytes", "SIZE", std::to_string(d.server.max_url_bytes),
                 "longest request target (path and query); longer gets 414", false, ',',
                 bytes_into([](Config& c) -> std::size_t& { return c.server.max_url_bytes; })});
    t.push_back({"max-query-parameters", "N", std::to_string(d.server.max_query_parameters),
                 "most query parameters in one request; more gets 400", false, ',',
                 [](Config& c, std::string_view v) -> std::optional<std::string> {
                   std::uint64_t n = 0;
                   if (auto e = parse_unsigned(v, 10'000, n)) return e;
                   c.server.max_query_parameters = n;
                   return std::nullopt;
                 }});
    t.push_back({"tls-cert", "FILE", "(none: plain HTTP)",
                 "PEM certificate chain; with --tls-key, --listen serves HTTPS/WSS only; reloaded on SIGHUP", false,
                 ',', [](Config& c, std::string_view v) -> std::optional<std::string> {
                   if (v.empty()) return "must not be empty";
                   c.server.tls_cert_file = std::string(v);
                   return std::nullopt;
                 }});
    t.push_back({"tls-key", "FILE", "(none)", "PEM private key for --tls-cert; reloaded on SIGHUP", false, ',',
                 [](Config& c, std::string_view v) -> std::optional<std::string> {
                   if (v.empty()) return "must not be empty";
                   c.server.tls_key_file = std::string(v);
                   return std::nullopt;
                 }});
    t.push_back({"tls-ciphers", "LIST", "ECDHE with AES-GCM or ChaCha20-Poly1305",
                 "TLS 1.2 cipher suites, in OpenSSL's syntax (TLS 1.3 suites are always on)", false, ',',
                 [](Config& c, std::string_view v) -> std::optional<std::string> {
                   if (v.empty()) return "must not be empty";
                   c.server.tls_ciphers = std::string(v);  // checked against OpenSSL when the context is built
                   return std::nullopt;
                 }});
    t.push_back({"keepalive-interval", "DURATION", format_ms(d.connection.keepalive_interval),
                 "send a Ping after this long without sending", false, ',',
                 duration_into([](Config& c) -> milliseconds& { return c.connection.keepalive_interval; })});
    t.push_back({"client-timeout", "DURATION", format_ms(d.connection.client_timeout),
                 "close a client silent this long (armed at its first Ping)", false, ',',
                 duration_into([](Config& c) -> milliseconds& { return c.connection.client_timeout; })});
    t.push_back({"handshake-timeout", "DURATION", format_ms(d.connection.handshake_timeout),
                 "close a connection that has not completed the handshake", false, ',',
                 duration_into([](Config& c) -> milliseconds& { return c.connection.handshake_timeout; })});
    t.push_back({"negotiate-timeout", "DURATION", format_ms(d.connection.negotiate_timeout),
                 "how long a connection token from negotiate can open a connection", false, ',',
                 duration_into([](Config& c) -> milliseconds& { return c.connection.negotiate_timeout; })});
    t.push_back({"max-message-bytes", "SIZE", std::to_string(d.connection.max_message_bytes),
                 "largest hub message a client may send (handshake included)", false, ',',
                 bytes_into([](Config& c) -> std::size_t& { return c.connection.max_message_bytes; })});
    t.push_back({"max-send-queue-bytes", "SIZE", std::to_string(d.connection.max_send_queue_bytes),
                 "a connection whose unsent output exceeds this is closed", false, ',',
                 bytes_into([](Config& c) -> std::size_t& { return c.connection.max_send_queue_bytes; })});
    t.push_back({"max-pending-invocations", "N", std::to_string(d.connection.max_pending_invocations),
                 "client messages waiting for the upstream, per connection, before it is closed", false, ',',
                 [](Config& c, std::string_view v) -> std::optional<std::string> {
                   std::uint64_t n = 0;
                   if (auto e = parse_unsigned(v, 1'000'000, n)) return e;
                   c.connection.max_pending_invocations = n;
                   return std::nullopt;
                 }});
    t.push_back({"client-invoke-timeout", "DURATION", format_ms(d.connection.client_invoke_timeout),
                 "how long a client result (REST :invoke) waits for the client's Completion", false, ',',
                 duration_into([](Config& c) -> milliseconds& { return c.connection.client_invoke_timeout; })});
    t.push_back({"max-client-invocations", "N", std::to_string(d.connection.max_client_invocations),
                 "client results awaited at once per connection; more are refused (429)", false, ',',
                 [](Config& c, std::string_view v) -> std::optional<std::string> {
                   std::uint64_t n = 0;
                   if (auto e = parse_unsigned(v, 100'000, n)) return e;
                   c.connection.max_client_invocations = n;
                   return std::nullopt;
                 }});
    t.push_back({"max-upload-streams", "N", std::to_string(d.connection.max_upload_streams),
                 "client upload streams open at once per connection; an invocation opening more gets an error", false, ',',
                 [](Config& c, std::string_view v) -> std::optional<std::string> {
                   std::uint64_t n = 0;
                   if (auto e = parse_unsigned(v, 100'000, n)) return e;
                   c.connection.max_upload_streams = n;
                   return std::nullopt;
                 }});
    t.push_back({"close-on-token-expiry", "on|off", d.connection.close_on_token_expiry ? "on" : "off",
                 "close a connection when its access token expires unless refreshed (POST /client/refresh)", false, ',',
                 switch_into([](Config& c) -> bool& { return c.connection.close_on_token_expiry; })});
    t.push_back({"refresh-event", "on|off", d.connection.send_refresh_event ? "on" : "off",
                 "send the function a `refresh` event when a client refreshes its access token", false, ',',
                 switch_into([](Config& c) -> bool& { return c.connection.send_refresh_event; })});
    t.push_back({"stateful-reconnect", "on|off", d.connection.allow_stateful_reconnect ? "on" : "off",
                 "grant stateful reconnect (withStatefulReconnect) to WebSocket clients that ask", false, ',',
                 switch_into([](Config& c) -> bool& { return c.connection.allow_stateful_reconnect; })});
    t.push_back({"stateful-reconnect-buffer-bytes", "SIZE", std::to_string(d.connection.stateful_reconnect_buffer_bytes),
                 "unacknowledged output kept per stateful connection; when full, sends wait for acks", false, ',',
                 bytes_into([](Config& c) -> std::size_t& { return c.connection.stateful_reconnect_buffer_bytes; })});
    t.push_back({"stateful-reconnect-window", "DURATION", format_ms(d.connection.stateful_reconnect_window),
                 "how long a stateful connection whose socket dropped waits for the client to resume it", false, ',',
                 duration_into([](Config& c) -> milliseconds& { return c.connection.stateful_reconnect_window; })});
    t.push_back({"rest-max-body-bytes", "SIZE", std::to_string(d.rest.max_body_bytes),
                 "largest request body on any endpoint (REST calls, long-polling sends); larger gets 413",
                 false, ',', bytes_into([](Config& c) -> std::size_t& { return c.rest.max_body_bytes; })});
    t.push_back({"upstream-timeout", "DURATION", format_ms(d.upstream.timeout), "deadline of one upstream request",
                 false, ',', duration_into([](Config& c) -> milliseconds& { return c.upstream.timeout; })});
    t.push_back({"upstream-concurrency", "N", std::to_string(d.upstream.max_concurrency),
                 "upstream requests in flight at once (whole process); more wait in line", false, ',',
                 [](Config& c, std::string_view v) -> std::optional<std::string> {
                   std::uint64_t n = 0;
                   if (auto e = parse_unsigned(v, 1'000'000, n)) return e;
                   if (n == 0) return "must be at least 1";
                   c.upstream.max_concurrency = n;
                   return std::nullopt;
                 }});
    t.push_back({"upstream-max-response-bytes", "SIZE", std::to_string(d.upstream.max_response_bytes),
                 "largest upstream reply accepted", false, ',',
                 bytes_into([](Config& c) -> std::size_t& { return c.upstream.max_response_bytes; })});
    t.push_back({"upstream-retries", "N", std::to_string(d.upstream.retries),
                 "retries of connected/disconnected on connection errors, timeouts and 5xx (messages: only when "
                 "the connection was refused)", false, ',',
                 [](Config& c, std::string_view v) -> std::optional<std::string> {
                   std::uint64_t n = 0;
                   if (auto e = parse_unsigned(v, 20, n)) return e;
                   c.upstream.retries = n;
                   return std::nullopt;
                 }});
    t.push_back({"upstream-circuit-failures", "N", std::to_string(d.upstream.circuit_failures),
                 "failures in a row after which a function's invocations fail at once (0: never)", false, ',',
                 [](Config& c, std::string_view v) -> std::optional<std::string> {
                   std::uint64_t n = 0;
                   if (auto e = parse_unsigned(v, 1'000'000, n)) return e;
                   c.upstream.circuit_failures = n;
                   return std::nullopt;
                 }});
    t.push_back({"upstream-circuit-open", "DURATION", format_ms(d.upstream.circuit_open),
                 "how long an open circuit refuses invocations before one probe goes through", false, ',',
                 duration_into([](Config& c) -> milliseconds& { return c.upstream.circuit_open; })});
    t.push_back({"upstream-down-target", "NAME", "(none)",
                 "when a function's circuit opens and when it closes again, invoke NAME(\"down\") / NAME(\"up\") "
                 "on the clients of the hubs it serves", false, ',',
                 [](Config& c, std::string_view v) -> std::optional<std::string> {
                   if (v.empty() || v.size() > 128) return "expected a method name of 1 to 128 characters";
                   c.upstream.down_target = std::string(v);
                   return std::nullopt;
                 }});
    t.push_back({"upstream-ca", "FILE", "(none: the system's trust store)",
                 "PEM CA certificates that https:// functions' certificates must chain to; when given, the only "
                 "ones trusted", false, ',',
                 [](Config& c, std::string_view v) -> std::optional<std::string> {
                   if (v.empty()) return "must not be empty";
                   c.upstream.ca_file = std::string(v);  // read when the TLS context is built (attach_upstream_tls)
                   return std::nullopt;
                 }});
    t.push_back({"upstream-cert", "FILE", "(none: no client certificate)",
                 "PEM certificate chain shown to https:// functions that ask for one (mutual TLS); with "
                 "--upstream-key", false, ',',
                 [](Config& c, std::string_view v) -> std::optional<std::string> {
                   if (v.empty()) return "must not be empty";
                   c.upstream.cert_file = std::string(v);
                   return std::nullopt;
                 }});
    t.push_back({"upstream-key", "FILE", "(none)", "unencrypted PEM private key for --upstream-cert", false, ',',
                 [](Config& c, std::string_view v) -> std::optional<std::string> {
                   if (v.empty()) return "must not be empty";
                   c.upstream.key_file = std::string(v);
                   return std::nullopt;
                 }});
    t.push_back({"redis", "redis[s]://[[USER]:PASSWORD@]HOST[:PORT][/DB]", "(none: one gateway, in-process)",
                 "scale out over Redis: every gateway given the same Redis is one fleet; rediss:// is TLS, "
                 "USER an ACL user (prefer the environment variable to the command line for a password)",
                 false, ',',
                 [](Config& c, std::string_view v) -> std::optional<std::string> {
                   auto endpoint = parse_redis_url(v);
                   if (!endpoint) return endpoint.error().message;
                   c.redis.url = std::string(v);
                   c.redis.endpoint = std::move(endpoint).value();
                   return std::nullopt;
                 }});
    t.push_back({"redis-ca", "FILE", "(none: the system's trust store)",
                 "with rediss:// or TLS sentinels: trust only the CA certificates in this PEM file", false, ',',
                 [](Config& c, std::string_view v) -> std::optional<std::string> {
                   c.redis.tls_ca = std::string(v);
                   return std::nullopt;
                 }});
    t.push_back({"redis-cert", "FILE", "(none)",
                 "with rediss://: a client certificate (PEM chain) for Redis servers that require one; needs --redis-key",
                 false, ',', [](Config& c, std::string_view v) -> std::optional<std::string> {
                   c.redis.tls_cert = std::string(v);
                   return std::nullopt;
                 }});
    t.push_back({"redis-key", "FILE", "(none)", "the private key (PEM) of --redis-cert", false, ',',
                 [](Config& c, std::string_view v) -> std::optional<std::string> {
                   c.redis.tls_key = std::string(v);
                   return std::nullopt;
                 }});
    t.push_back({"redis-sentinel", "HOST:PORT,...", "(none: --redis names the server)",
                 "find the Redis master through these Redis Sentinels, asked in turn at every connect; --redis "
                 "then gives only the scheme, credentials and database (its host is not used)",
                 false, ',', [](Config& c, std::string_view v) -> std::optional<std::string> {
                   auto list = parse_host_ports(v);
                   if (!list) return list.error().message;
                   c.redis.sentinels = std::move(list).value();
                   return std::nullopt;
                 }});
    t.push_back({"redis-sentinel-master", "NAME", d.redis.sentinel_master,
                 "with --redis-sentinel: the name the sentinels monitor the master under", false, ',',
                 [](Config& c, std::string_view v) -> std::optional<std::string> {
                   if (v.empty()) return std::string("expected a name");
                   c.redis.sentinel_master = std::string(v);
                   return std::nullopt;
                 }});
    t.push_back({"redis-sentinel-password", "TEXT", "(none)",
                 "with --redis-sentinel: the sentinels' own password (their requirepass), if they have one", false,
                 ',', [](Config& c, std::string_view v) -> std::optional<std::string> {
                   c.redis.sentinel_password = std::string(v);
                   return std::nullopt;
                 }});
    t.push_back({"redis-lease", "DURATION", format_ms(d.redis.lease),
                 "a gateway that has not renewed its lease for this long is dead: another one removes its "
                 "connections and sends their disconnected events",
                 false, ',', duration_into([](Config& c) -> milliseconds& { return c.redis.lease; })});
    t.push_back({"redis-queue-bytes", "SIZE", "8MiB",
                 "actions held for the fleet while Redis is unreachable; beyond this they are dropped and the "
                 "other gateways see a gap",
                 false, ',', bytes_into([](Config& c) -> std::size_t& { return c.redis.max_queue_bytes; })});
    t.push_back({"redis-prefix", "TEXT", d.redis.key_prefix,
                 "the start of every Redis key and channel, so several fleets can share one Redis", false, ',',
                 [](Config& c, std::string_view v) -> std::optional<std::string> {
                   if (v.empty() || v.size() > 64) return std::string("expected 1 to 64 characters");
                   c.redis.key_prefix = std::string(v);
                   return std::nullopt;
                 }});
    t.push_back({"fleet-log", "on|off", d.redis.fleet_log ? "on" : "off",
                 "with --redis: fan out through an ordered log kept in Redis (a Stream), so that stateful "
                 "connections resume on another gateway after a crash; off: Redis pub/sub, which keeps nothing",
                 false, ',', switch_into([](Config& c) -> bool& { return c.redis.fleet_log; })});
    t.push_back({"fleet-signing", "on|off", d.redis.fleet_signing ? "on" : "off",
                 "with --redis: sign what gateways leave in Redis for each other with a key derived from the "
                 "access keys, and drop what is not signed; off only where nothing else can write to Redis "
                 "(every gateway of a fleet must agree)",
                 false, ',', switch_into([](Config& c) -> bool& { return c.redis.fleet_signing; })});
    t.push_back({"fleet-log-retention", "DURATION", "the reconnect window + 10s",
                 "how long the fleet log keeps an entry: a crashed gateway's connection resumes only from a "
                 "checkpoint younger than this",
                 false, ',', duration_into([](Config& c) -> milliseconds& { return c.redis.log_retention; })});
    t.push_back({"fleet-log-max-entries", "N", std::to_string(d.redis.log_max_entries),
                 "the fleet log never holds many more entries than this, however young", false, ',',
                 [](Config& c, std::string_view v) -> std::optional<std::string> {
                   std::uint64_t n = 0;
                   if (auto e = parse_unsigned(v, 1'000'000'000, n)) return e;
                   if (n < 1000) return std::string("expected at least 1000");
                   c.redis.log_max_entries = n;
                   return std::nullopt;
                 }});
    t.push_back({"checkpoint-interval", "DURATION", format_ms(d.redis.checkpoint_interval),
                 "with --fleet-log: how often each stateful connection that changed is checkpointed in Redis",
                 false, ',', duration_into([](Config& c) -> milliseconds& { return c.redis.checkpoint_interval; })});
    t.push_back({"shutdown-mode", "MODE", "reconnect",
                 "on SIGTERM: reconnect (close every connection with allowReconnect, spread over --shutdown-spread) "
                 "or wait (let clients leave until --shutdown-timeout)",
                 false, ',', [](Config& c, std::string_view v) -> std::optional<std::string> {
                   if (v == "reconnect")
                     c.shutdown.mode = ShutdownMode::reconnect;
                   else if (v == "wait")
                     c.shutdown.mode = ShutdownMode::wait;
                   else
                     return "expected reconnect or wait";
                   return std::nullopt;
                 }});
    t.push_back({"shutdown-timeout", "DURATION", format_ms(d.shutdown.timeout),
                 "on SIGTERM, when every connection still open is closed; then at most 5s more for their "
                 "disconnected events",
                 false, ',', duration_into([](Config& c) -> milliseconds& { return c.shutdown.timeout; })});
    t.push_back({"shutdown-spread", "DURATION", format_ms(d.shutdown.spread),
                 "reconnect mode: the closes are spread evenly over this window (capped at --shutdown-timeout)", false,
                 ',', duration_into([](Config& c) -> milliseconds& { return c.shutdown.spread; })});
    t.push_back({"shutdown-target", "NAME", "(none: no message)",
                 "on SIGTERM, first send every connection an invocation of this client method", false, ',',
                 [](Config& c, std::string_view v) -> std::optional<std::string> {
                   c.shutdown.message_target = std::string(v);
                   return std::nullopt;
                 }});
    t.push_back({"shutdown-arguments", "JSON", d.shutdown.message_arguments_json,
                 "the arguments of the --shutdown-target message, a JSON array such as '[\"maintenance\", 30]'", false,
                 ',', [](Config& c, std::string_view v) -> std::optional<std::string> {
                   auto parsed = nlohmann::json::parse(v, nullptr, /*allow_exceptions=*/false);
                   if (!parsed.is_array()) return "expected a JSON array";
                   c.shutdown.message_arguments_json = parsed.dump();
                   return std::nullopt;
                 }});
    t.push_back({"max-connections-per-user", "N", "0 (no limit)",
                 "a user's negotiate (and connection) beyond this many live connections is refused with 429", false,
                 ',', [](Config& c, std::string_view v) -> std::optional<std::string> {
                   std::uint64_t n = 0;
                   if (auto e = parse_unsigned(v, 1'000'000, n)) return e;
                   c.limits.max_connections_per_user = n;
                   return std::nullopt;
                 }});
    t.push_back({"negotiate-rate", "N", "0 (no limit)",
                 "negotiates per second the whole gateway admits (a token bucket); more get 429 with Retry-After",
                 false, ',', [](Config& c, std::string_view v) -> std::optional<std::string> {
                   std::uint64_t n = 0;
                   if (auto e = parse_unsigned(v, 1'000'000, n)) return e;
                   c.limits.negotiate_rate = n;
                   return std::nullopt;
                 }});
    t.push_back({"negotiate-burst", "N", "0 (the same as --negotiate-rate)",
                 "negotiates admitted at once after a quiet period (the token bucket's size)", false, ',',
                 [](Config& c, std::string_view v) -> std::optional<std::string> {
                   std::uint64_t n = 0;
                   if (auto e = parse_unsigned(v, 10'000'000, n)) return e;
                   c.limits.negotiate_burst = n;
                   return std::nullopt;
                 }});
    t.push_back({"cors-origins", "ORIGIN", "(none: any origin but null)",
                 "browser origins (scheme://host[:port], or null) that get CORS answers and may open WebSockets; "
                 "repeatable, or a comma list",
                 true, ',', [](Config& c, std::string_view v) -> std::optional<std::string> {
                   std::size_t start = 0;
                   while (start <= v.size()) {
                     auto end = v.find(',', start);
                     if (end == std::string_view::npos) end = v.size();
                     auto origin = v.substr(start, end - start);
                     while (!origin.empty() && origin.front() == ' ') origin.remove_prefix(1);
                     while (!origin.empty() && origin.back() == ' ') origin.remove_suffix(1);
                     while (!origin.empty() && origin.back() == '/') origin.remove_suffix(1);  // "https://x/" is x
                     if (auto problem = origin_entry_problem(origin)) return std::string(origin) + ": " + *problem;
                     c.server.cors_origins.emplace_back(origin);
                     start = end + 1;
                   }
                   return std::nullopt;
                 }});
    t.push_back({"max-token-lifetime", "DURATION", format_ms(d.limits.max_token_lifetime),
                 "client and REST tokens whose expiry is further away than this are refused (0: no limit)", false, ',',
                 duration_into([](Config& c) -> milliseconds& { return c.limits.max_token_lifetime; })});
    t.push_back({"admin-key", "KEY", "(none: no console)",
                 "serves the operator console at /admin/ on the listen address, to those who sign in with this key "
                 "(at least 16 characters)", false, ',',
                 [](Config& c, std::string_view v) -> std::optional<std::string> {
                   if (v.size() < 16) return "must be at least 16 characters";
                   c.server.admin_key = std::string(v);
                   return std::nullopt;
                 }});
    t.push_back({"admin-read-key", "KEY", "(none)",
                 "a second console key that may look but not act: every page, figure and the live trace, but no "
                 "close, send or drain (at least 16 characters; with --admin-key, and not the same)", false, ',',
                 [](Config& c, std::string_view v) -> std::optional<std::string> {
                   if (v.size() < 16) return "must be at least 16 characters";
                   c.server.admin_read_key = std::string(v);
                   return std::nullopt;
                 }});
    t.push_back({"admin-listen", "HOST:PORT", "(none: /admin/ on --listen)",
                 "serve the operator console on this address instead (an internal interface or port), with "
                 "--admin-key; port 0 picks a free port", false, ',',
                 [](Config& c, std::string_view v) -> std::optional<std::string> {
                   auto colon = v.rfind(':');
                   if (colon == std::string_view::npos) return "expected HOST:PORT";
                   std::uint64_t port = 0;
                   if (auto e = parse_unsigned(v.substr(colon + 1), 65535, port)) return e;
                   auto host = v.substr(0, colon);
                   if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
                   c.server.admin_listen_host = host.empty() ? "0.0.0.0" : std::string(host);
                   c.server.admin_listen_port = static_cast<std::uint16_t>(port);
                   c.server.has_admin_listen = true;
                   return std::nullopt;
                 }});
    t.push_back({"otlp-endpoint", "URL", "(none)",
                 "export spans (REST calls, negotiates, upstream requests) in OTLP/HTTP JSON to this collector "
                 "(http://host:port; /v1/traces is appended)", false, ',',
                 [](Config& c, std::string_view v) -> std::optional<std::string> {
                   auto url = parse_url(v);
                   if (!url || url->host.empty()) return "expected http://host[:port][/path]";
                   if (url->scheme != "http") return "only http:// collectors (run one beside the gateway)";
                   c.server.otlp_endpoint = url->to_string();
                   return std::nullopt;
                 }});
    t.push_back({"public-endpoint", "URL", "(none: the request's Host header)",
                 "the gateway's URL as clients and backends use it (http(s)://host[:port]): tokens' audience must name "
                 "its host", false, ',',
                 [](Config& c, std::string_view v) -> std::optional<std::string> {
                   auto url = parse_url(v);
                   if (!url || (url->scheme != "http" && url->scheme != "https") || url->host.empty())
                     return "expected http(s)://host[:port]";
                   if (url->path != "/" || !url->query.empty()) return "expected no path or query";
                   // Bracketed like a Host header, so the audience check reads an IPv6 host alike.
                   c.server.public_host = url->host.find(':') != std::string::npos ? "[" + url->host + "]" : url->host;
                   c.server.public_scheme = url->scheme;
                   c.server.public_port = url->port;
                   return std::nullopt;
                 }});
    t.push_back({"ready-access-key", "masked|shown", d.shows_access_key ? "shown" : "masked",
                 "the access key in the ready block's connection string (stdout): masked as ***, or shown", false, ',',
                 [](Config& c, std::string_view v) -> std::optional<std::string> {
                   if (v == "masked") c.shows_access_key = false;
                   else if (v == "shown") c.shows_access_key = true;
                   else return "expected masked or shown";
                   return std::nullopt;
                 }});
    t.push_back({"log-level", "LEVEL", d.log_level, "trace, debug, info, warn, error or off", false, ',',
                 [](Config& c, std::string_view v) -> std::optional<std::string> {
                   static constexpr std::string_view levels[] = {"trace", "debug", "info", "warn", "error", "off"};
                   for (auto l : levels)
                     if (v == l) {
                       c.log_level = std::string(v);
                       return std::nullopt;
                     }
                   return "expected trace, debug, info, warn, error or off";
                 }});
    return t;
  }();
  return table;
}

const Option* find_option(std::string_view name) {
  for (const auto& o : options())
    if (o.name == name) return &o;
  return nullptr;
}

// Values collected per source; a higher source replaces a repeatable option's whole list.
using Collected = std::map<std::string, std::vector<std::string>>;

void collect_file(const std::string& path, Collected& out, std::vector<std::string>& errors) {
  std::ifstream in(path);
  if (!in) {
    errors.push_back("--config: cannot read '" + path + "'");
    return;
  }
  std::stringstream text;
  text << in.rdbuf();
  auto doc = nlohmann::json::parse(text.str(), nullptr, false);
  if (!doc.is_object()) {
    errors.push_back("--config: '" + path + "' is not a JSON object");
    return;
  }
  for (const auto& [key, value] : doc.items()) {
    if (key == "UpstreamSettings") {  // the Azure SignalR emulator's settings shape, unchanged
      const auto* templates = value.is_object() && value.contains("Templates") ? &value["Templates"] : nullptr;
      if (!templates || !templates->is_array()) {
        errors.push_back("--config: UpstreamSettings.Templates must be an array");
        continue;
      }
      for (const auto& item : *templates) {
        auto text_of = [&](const char* k) {
          return item.contains(k) && item[k].is_string() ? item[k].get<std::string>() : std::string("*");
        };
        if (!item.is_object() || !item.contains("UrlTemplate") || !item["UrlTemplate"].is_string()) {
          errors.push_back("--config: each UpstreamSettings.Templates item needs a UrlTemplate string");
          continue;
        }
        out["upstream"].push_back("hub=" + text_of("HubPattern") + ";category=" + text_of("CategoryPattern") +
                                  ";event=" + text_of("EventPattern") + ";url=" + item["UrlTemplate"].get<std::string>());
      }
      continue;
    }
    const Option* option = find_option(key);
    if (!option) {
      errors.push_back("--config: unknown key '" + key + "'");
      continue;
    }
    auto as_text = [](const nlohmann::json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); };
    if (value.is_array() && option->repeatable) {
      for (const auto& v : value) out[key].push_back(as_text(v));
    } else {
      out[key].push_back(as_text(value));
    }
  }
}

void collect_env(const char* const* environment, Collected& out) {
  if (!environment) return;
  for (const auto& option : options()) {
    auto name = env_name(option.name);
    for (auto e = environment; *e; ++e) {
      std::string_view entry(*e);
      if (entry.size() <= name.size() || entry.substr(0, name.size()) != name || entry[name.size()] != '=') continue;
      std::string_view value = entry.substr(name.size() + 1);
      if (!option.repeatable) {
        out[option.name] = {std::string(value)};
        continue;
      }
      while (!value.empty()) {
        auto sep = value.find(option.env_separator);
        auto item = value.substr(0, sep);
        if (!item.empty()) out[option.name].emplace_back(item);
        if (sep == std::string_view::npos) break;
        value.remove_prefix(sep + 1);
      }
    }
  }
}

// https functions: one TLS client context for the process, built when an https rule or a TLS option
// asks for it (so a file that can't be used is a start-up error even before any rule needs it), and
// handed to every https rule.
void attach_upstream_tls(Config& c, std::vector<std::string>& errors) {
  auto& upstream = c.upstream;
  auto is_https = [](const UpstreamRule& rule) {
    auto url = parse_url(rule.url_template);
    return url && url->scheme == "https";
  };
  bool has_https = std::any_of(upstream.rules.begin(), upstream.rules.end(), is_https);
  if (!has_https && upstream.ca_file.empty() && upstream.cert_file.empty() && upstream.key_file.empty()) return;
  auto tls = tls_client::ClientTlsContext::create({upstream.ca_file, upstream.cert_file, upstream.key_file});
  if (!tls) {
    errors.push_back(tls.error().message);
    return;
  }
  for (auto& rule : upstream.rules)
    if (is_https(rule)) rule.tls = *tls;
}

}  // namespace

std::string help_text() {
  std::string out =
      "Usage: switchboard [OPTIONS]\n"
      "A self-hosted real-time gateway for SignalR clients, compatible with Azure SignalR Service (Serverless).\n\n"
      "Each option can also be set by environment (SWITCHBOARD_<OPTION>) or in a JSON file (--config FILE);\n"
      "flag > environment > file > default.\n\n"
      "  --config FILE\n      JSON object of option names to values; also accepts the Azure emulator's UpstreamSettings\n"
      "  --help, --version\n"
      "  --help --format markdown\n      print the options and the metrics as Markdown tables\n"
      "  --log-events\n      print every log event (module, name, level, fields, meaning) as a Markdown table\n";
  for (const auto& o : options()) {
    out += "  --" + o.name + " " + o.value_name + (o.repeatable ? "  (repeatable)" : "") + "\n";
    out += "      " + o.help + "\n      default: " + o.default_text + "; env: " + env_name(o.name) + "\n";
  }
  return out;
}

namespace {

// A Markdown table cell: '|' would end it, even inside a code span.
std::string markdown_cell(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '|') out += '\\';
    out += c;
  }
  return out;
}

// "0 (no limit)" -> "`0` (no limit)"; prose ("(none)", "the reconnect window + 10s") stays prose.
std::string markdown_default(std::string_view text) {
  auto value = text.substr(0, text.find(" ("));
  if (value.empty() || value.front() == '(' || value.find(' ') != std::string_view::npos) return std::string(text);
  return "`" + std::string(value) + "`" + std::string(text.substr(value.size()));
}

}  // namespace

std::string options_markdown() {
  std::string out = "| flag | environment | default | meaning |\n|---|---|---|---|\n";
  auto row = [&out](std::string_view flag, std::string_view env, std::string_view default_text, std::string_view help) {
    out += "| " + markdown_cell(flag) + " | " + markdown_cell(env) + " | " + markdown_cell(default_text) + " | " +
           markdown_cell(help) + " |\n";
  };
  for (const auto& o : options()) {
    std::string env = "`" + env_name(o.name) + "`";
    if (o.repeatable) env += o.env_separator == '\n' ? " (one per line)" : " (comma-separated)";
    row("`--" + o.name + " " + o.value_name + "`" + (o.repeatable ? " (repeatable)" : ""), env,
        markdown_default(o.default_text), o.help);
  }
  row("`--config FILE`", "`SWITCHBOARD_CONFIG`", "(none)",
      "a JSON object of option names to values; also accepts the Azure emulator's UpstreamSettings");
  row("`--help`, `-h`", "", "",
      "print the options, then exit 0; with `--format markdown`, this table and the metrics table");
  row("`--version`", "", "", "print the version, then exit 0");
  row("`--log-events`", "", "", "print every log event as a Markdown table, then exit 0");
  return out;
}

LoadResult load_config(int argc, const char* const* argv, const char* const* environment) {
  LoadResult result;
  Collected from_flags, from_env, from_file;
  std::string config_path;

  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      result.status = LoadStatus::help_shown;
      result.errors.clear();  // what came before --help doesn't matter now
      // --help --format markdown, in either order.
      for (int j = 1; j < argc; ++j) {
        std::string_view format_arg = argv[j];
        std::string_view format;
        if (format_arg == "--format" && j + 1 < argc)
          format = argv[j + 1];
        else if (format_arg.substr(0, 9) == "--format=")
          format = format_arg.substr(9);
        else
          continue;
        if (format == "markdown") {
          result.status = LoadStatus::help_markdown_shown;
        } else if (format != "text") {
          result.status = LoadStatus::run;
          result.errors.push_back("--format '" + std::string(format) + "': expected text or markdown");
        }
      }
      return result;
    }
    if (arg == "--version") {
      result.status = LoadStatus::version_shown;
      return result;
    }
    if (arg == "--log-events") {
      result.status = LoadStatus::log_events_shown;
      return result;
    }
    if (arg.substr(0, 2) != "--") {
      result.errors.push_back("unexpected argument '" + std::string(arg) + "'");
      continue;
    }
    arg.remove_prefix(2);
    std::string name(arg.substr(0, arg.find('=')));
    std::string value;
    if (name == "format") {
      if (arg.find('=') == std::string_view::npos && i + 1 < argc) ++i;  // its value
      result.errors.push_back("--format goes with --help (--help --format markdown)");
      continue;
    }
    if (name != "config" && !find_option(name)) {
      result.errors.push_back("unknown option --" + name + " (see --help)");
      continue;
    }
    if (arg.find('=') != std::string_view::npos) {
      value = std::string(arg.substr(arg.find('=') + 1));
    } else if (i + 1 < argc) {
      value = argv[++i];
    } else {
      result.errors.push_back("--" + name + ": missing value");
      continue;
    }
    if (name == "config") {
      config_path = value;
      continue;
    }
    from_flags[name].push_back(value);
  }
  if (config_path.empty() && environment)
    for (auto e = environment; *e; ++e)
      if (std::strncmp(*e, "SWITCHBOARD_CONFIG=", 19) == 0) config_path = *e + 19;
  if (!config_path.empty()) collect_file(config_path, from_file, result.errors);
  collect_env(environment, from_env);

  // access-key and connection-string both feed access_keys, so they are one list: the highest source
  // that gives either of them supplies both.
  // Values that hold a secret are not repeated in errors.
  auto is_secret_option = [](const std::string& name) {
    return name == "access-key" || name == "connection-string" || name == "redis" || name == "redis-sentinel-password" ||
           name == "admin-key" || name == "admin-read-key";
  };
  auto is_key_option = [](const std::string& name) { return name == "access-key" || name == "connection-string"; };
  const Collected* key_source = nullptr;
  for (const Collected* source : {&from_flags, &from_env, &from_file})
    if (!key_source && (source->count("access-key") || source->count("connection-string"))) key_source = source;
  Config& c = result.config;
  for (const auto& option : options()) {
    const std::vector<std::string>* values = nullptr;
    for (const Collected* source : {&from_flags, &from_env, &from_file}) {
      if (is_key_option(option.name) && source != key_source) continue;
      auto it = source->find(option.name);
      if (it != source->end()) {
        values = &it->second;
        break;
      }
    }
    if (!values) continue;
    if (!option.repeatable && values->size() > 1) {
      result.errors.push_back("--" + option.name + ": given more than once");
      continue;
    }
    for (const auto& v : *values)
      if (auto error = option.apply(c, v))
        result.errors.push_back("--" + option.name + (is_secret_option(option.name) ? "" : " '" + v + "'") + ": " + *error);
  }

  if (c.access_keys.empty())
    result.errors.push_back("no access key: give --access-key KEY or --connection-string (or SWITCHBOARD_ACCESS_KEY)");
  if (c.redis.lease < milliseconds(300)) result.errors.push_back("--redis-lease must be at least 300ms");
  if (c.server.has_admin_listen && c.server.admin_key.empty())
    result.errors.push_back("--admin-listen serves the console, which needs --admin-key");
  if (!c.server.admin_read_key.empty() && c.server.admin_key.empty())
    result.errors.push_back("--admin-read-key opens the console to look only, which needs --admin-key");
  if (!c.server.admin_read_key.empty() && c.server.admin_read_key == c.server.admin_key)
    result.errors.push_back("--admin-read-key must differ from --admin-key");
  if (c.redis.tls_cert.empty() != c.redis.tls_key.empty())
    result.errors.push_back("--redis-cert and --redis-key go together: give both or neither");
  if (c.redis.url.empty() && (!c.redis.sentinels.empty() || !c.redis.tls_ca.empty() || !c.redis.tls_cert.empty()))
    result.errors.push_back("--redis-sentinel, --redis-ca and --redis-cert need --redis");
  if (c.redis.log_retention.count() == 0)
    c.redis.log_retention = c.connection.stateful_reconnect_window + milliseconds(10'000);
  if (c.redis.checkpoint_interval < milliseconds(100)) result.errors.push_back("--checkpoint-interval must be at least 100ms");
  if (c.redis.log_retention < c.connection.stateful_reconnect_window + c.redis.checkpoint_interval)
    result.errors.push_back(
        "--fleet-log-retention must be at least --stateful-reconnect-window + --checkpoint-interval: a connection "
        "must be able to resume from its last checkpoint until its window ends");
  if (c.connection.keepalive_interval.count() == 0) result.errors.push_back("--keepalive-interval must be above 0");
  if (c.connection.client_timeout <= c.connection.keepalive_interval)
    result.errors.push_back("--client-timeout must be longer than --keepalive-interval");
  attach_upstream_tls(c, result.errors);
  if (c.server.tls_cert_file.empty() != c.server.tls_key_file.empty())
    result.errors.push_back("--tls-cert and --tls-key go together: give both or neither");
  if (c.server.request_timeout.count() == 0) result.errors.push_back("--request-timeout must be above 0");
  if (c.server.header_timeout.count() == 0) result.errors.push_back("--header-timeout must be above 0");
  if (c.server.max_url_bytes < 256) result.errors.push_back("--max-url-bytes must be at least 256");
  if (c.connection.max_message_bytes < 64) result.errors.push_back("--max-message-bytes must be at least 64");
  if (c.shutdown.mode == ShutdownMode::reconnect && c.shutdown.spread > c.shutdown.timeout)
    c.shutdown.spread = c.shutdown.timeout;  // documented: the spread never outlasts the timeout
  if (c.limits.negotiate_burst != 0 && c.limits.negotiate_rate == 0)
    result.errors.push_back("--negotiate-burst needs --negotiate-rate");
  if (c.limits.negotiate_rate != 0 && c.limits.negotiate_burst == 0) c.limits.negotiate_burst = c.limits.negotiate_rate;
  if (c.server.threads == 0) c.server.threads = std::max(1u, std::thread::hardware_concurrency());
  return result;
}

}  // namespace sb::config
