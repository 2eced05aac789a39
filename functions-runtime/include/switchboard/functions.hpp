// switchboard/functions.hpp: write the functions behind a Switchboard (or Azure SignalR Serverless) hub.
//
// The gateway POSTs every event of a hub (a client connected, invoked a method, disconnected) to one
// URL, its --upstream. An App is the HTTP service behind that URL: it checks the request's signature,
// turns it into a Context and calls your handler, whose Reply becomes the gateway's instructions.
//
//   #include <switchboard/functions.hpp>
//
//   int main() {
//     auto endpoint = switchboard::ServiceEndpoint::parse(std::getenv("SWITCHBOARD_CONNECTION_STRING"));
//     switchboard::App app({.access_keys = {endpoint.access_key}});
//     app.on_message("chat", "say", [](const switchboard::Context& ctx, switchboard::Reply& reply) {
//       reply.send_to_all("message", {ctx.user_id, ctx.arguments.at(0)}).result(true);
//     });
//     switchboard::SessionCookie session(std::getenv("SESSION_SECRET"));  // your sign-in sets it
//     app.server().Post("/api/negotiate", [&](const httplib::Request& req, httplib::Response& res) {
//       auto user = session.user(req);  // never a name the request merely states
//       if (!user) { res.status = 401; return; }
//       auto info = switchboard::negotiate(endpoint, "chat", *user);
//       res.set_content(info.to_json().dump(), "application/json");
//     });
//     app.listen("127.0.0.1", 7071);   // gateway: switchboard --upstream http://127.0.0.1:7071/upstream
//   }
//
// Outside handlers, RestClient calls the gateway's REST API (send, groups, close, presence) directly.
// The whole API with examples, traps and clients: docs/functions.md. Wire details: docs/upstream.md.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "switchboard/session_cookie.hpp"  // SessionCookie: who signed in to your page

namespace switchboard {

// ordered_json: objects keep their keys in the order written, so a payload reaches clients as your
// code (or the client) wrote it. A nlohmann::json value converts to it implicitly.
using Json = nlohmann::ordered_json;

// A part of a client upload stream (App::on_upload; docs/upstream.md "Upload streams"): the items the
// client sent on one stream since the last part, in order, and whether it ended the stream after them.
struct UploadChunk {
  std::string stream_id;             // one of the invocation's ctx.stream_ids
  std::uint64_t first_sequence = 0;  // the number of items[0]: a stream's first item is 0, then 1, 2, ...
  std::vector<Json> items;           // may be empty (a part that only ends the stream)
  bool is_complete = false;          // the client ended the stream after these items
  std::optional<std::string> error;  // ...with this error (the client's upload failed)
};

// One upstream event, read from the request's X-ASRS-* headers and body.
struct Context {
  std::string hub, category, event;                // X-ASRS-Hub / -Category ("connections" | "messages") / -Event
  std::string connection_id;                       // X-ASRS-Connection-Id
  std::string user_id;                             // X-ASRS-User-Id, empty when anonymous
  std::multimap<std::string, std::string> claims;  // X-ASRS-User-Claims ("type: value, type: value")
  std::multimap<std::string, std::string> query;   // X-ASRS-Client-Query, percent-decoded
  std::optional<std::string> invocation_id;        // messages: set for invoke(), absent for send(); streams: the stream's id
  bool is_stream = false;                          // a client's connection.stream(...) (App::on_stream)
  std::string target;                              // messages: the method the client called
  Json arguments = Json::array();                  // messages: its arguments
  std::vector<std::string> stream_ids;             // messages: the upload streams it opened (App::on_upload)
  std::optional<UploadChunk> upload;               // App::on_upload: a part of one of them; absent for the invocation
  std::string error;                               // disconnected: why, empty on a clean close
  // The W3C traceparent of this request (docs/operations.md "Tracing"): the gateway's span for it, in
  // the trace of the client's or REST caller's own context when it sent one. Pass it on to what the
  // handler calls. Empty when the request carried none (an older gateway, Azure).
  std::string trace_parent;
  std::string trace_state;  // the W3C tracestate that came with it (vendors' key=value list), or empty
  std::multimap<std::string, std::string> headers; // every request header, names as received

  std::string claim(std::string_view type) const;         // first value of a claim type, or ""
  std::string header(std::string_view name) const;        // first value, name compared case-insensitively, or ""
  std::string query_value(std::string_view key) const;    // first value of a client query key, or ""
};

// What a handler answers: a result or error for the caller's invoke(), and actions the gateway runs
// (in order, before the caller gets its result). Every call returns *this so calls chain.
// `arguments` is the argument array: {"alice", "hi"} or Json::array(); null (`{}`) means none, and
// any other value is sent as the single argument.
class Reply {
 public:
  Reply& result(Json value);        // the invocation's result; replaces an earlier error()
  Reply& error(std::string message);  // the invocation fails with this text; replaces an earlier result()

  Reply& send_to_all(std::string target, Json arguments, std::vector<std::string> excluded_connection_ids = {});
  Reply& send_to_connection(std::string connection_id, std::string target, Json arguments);
  Reply& send_to_user(std::string user_id, std::string target, Json arguments);
  Reply& send_to_group(std::string group, std::string target, Json arguments,
                       std::vector<std::string> excluded_connection_ids = {});

  Reply& add_to_group(std::string group, std::string connection_id);
  Reply& remove_from_group(std::string group, std::string connection_id);
  Reply& add_user_to_group(std::string group, std::string user_id);
  Reply& remove_user_from_group(std::string group, std::string user_id);
  Reply& remove_user_from_all_groups(std::string user_id);
  Reply& close_connection(std::string connection_id, std::string reason = {}, bool allow_reconnect = false);
  // A client result from the reply (docs/upstream.md "Client results from a reply"): calls `target` on
  // the client; its answer comes back as a message event `result_target` with arguments
  // [correlation, result, error] (handle it with on_message).
  Reply& invoke_client(std::string connection_id, std::string target, Json arguments, std::string result_target,
                       Json correlation = nullptr);
  // Server-to-client streams from the reply (docs/upstream.md "Streams"): an item for a client's stream
  // (`completed` ends it after the item), or its end (with `error` when not empty).
  Reply& stream_item(std::string connection_id, std::string stream_id, Json item, bool completed = false);
  Reply& complete_stream(std::string connection_id, std::string stream_id, std::string error = {});

  Reply& status(int http_status);  // default 200; e.g. 403 refuses a `connected` event
  int http_status() const { return http_status_; }
  bool empty() const;              // no result, no error, no actions: answered with an empty body

  Json to_json() const;            // {"result"?, "error"?, "actions"?: [...]} (docs/upstream.md)

 private:
  std::optional<Json> result_;
  std::optional<std::string> error_;
  Json actions_ = Json::array();
  int http_status_ = 200;
};

using Handler = std::function<void(const Context&, Reply&)>;

// Which signature an event must carry. Switchboard signs the whole request (X-Switchboard-Signature v2:
// timestamp, path, identity headers and body), and a request served once is refused as a replay (409);
// Azure SignalR Service signs only the connection id (X-ASRS-Signature).
enum class SignatureMode { switchboard, azure };

struct AppOptions {
  std::vector<std::string> access_keys{};   // keys that may sign events (primary, secondary, ...)
  bool validate_signature = true;           // with no keys, every event is refused with 401
  SignatureMode signature_mode = SignatureMode::switchboard;  // azure: behind Azure SignalR Service
  std::chrono::seconds signature_tolerance{300};  // switchboard mode: how old (or new) a timestamp may be
  std::string upstream_path = "/upstream";  // the path the gateway's --upstream URL points at
  std::size_t max_body_bytes = 16 << 20;    // larger upstream bodies get 413; the gateway's own cap is lower
  std::size_t max_threads = 256;            // handler threads; cpp-httplib holds one per open connection
  // false: a client whose handler threw gets "An unexpected error occurred invoking 'add' on the server.
  // (error id 7f3a...)", and the log line with that id holds the exception's text. true (development,
  // like ASP.NET's EnableDetailedErrors): the client gets the text itself, which may name internals.
  bool detailed_errors = false;
  // Origins ("https://app.example.com", scheme://host[:port]) whose pages may call this App's routes,
  // your /api/negotiate included, with credentials (cookies). "*" lets every origin do so: development
  // only. "null" is allowed only when listed. Empty: no CORS headers at all. See App::server().
  std::vector<std::string> cors_origins{};
  // HTTPS: with both PEM files (the chain, server certificate first; an unencrypted key) the App serves
  // only HTTPS, TLS 1.2 or 1.3, and the gateway's --upstream is https://. Empty: plain HTTP.
  std::string tls_cert_file{};
  std::string tls_key_file{};
  // With tls_cert_file: only a client (the gateway, --upstream-cert) showing a certificate signed by a
  // CA in this PEM file gets through the handshake (mutual TLS). Empty: no client certificate asked.
  std::string tls_client_ca_file{};
};

// An HTTP service (cpp-httplib) that receives upstream events and runs your handlers.
// Register handlers before listening; cpp-httplib then calls them on its thread pool, concurrently
// for different connections, so state your handlers share needs a lock.
// A handler that throws answers an invoke() with an error and refuses a `connected` event (403);
// either way one line with the exception's text goes to stderr (AppOptions::detailed_errors). An
// invoke() of a method with no handler fails with "Unknown method 'x' on hub 'y'." and one line.
// Throws std::invalid_argument for a cors_origins entry that is not an origin, "*" or "null", and for
// TLS files that can't be used (unreadable, not PEM, a key not matching the certificate, one without
// the other), naming the file.
class App {
 public:
  explicit App(AppOptions options);
  ~App();
  App(const App&) = delete;
  App& operator=(const App&) = delete;

  // hub "*" = any hub; hubs and targets compare case-insensitively. The most specific handler wins.
  App& on_connected(std::string hub, Handler handler);
  App& on_disconnected(std::string hub, Handler handler);
  // A client refreshed its connection's access token (docs/upstream.md "Token refresh"; only when the
  // gateway runs with --refresh-event on): ctx.claims are the new token's. Actions run; it can't be refused.
  App& on_refresh(std::string hub, Handler handler);
  App& on_message(std::string hub, std::string target, Handler handler);  // target "*" = any method
  // A client's connection.stream(target, ...) (docs/upstream.md "Streams"). The handler starts the
  // stream; its items go to the client through RestClient::send_stream_item under ctx.invocation_id,
  // and RestClient::complete_stream ends it. reply.error() ends it at once with that error. A stream
  // call to a target that only on_message knows gets ASP.NET's "non-streaming method" error.
  App& on_stream(std::string hub, std::string target, Handler handler);
  // A client's invoke(target, ..., subject) or send(...) with upload streams (docs/upstream.md "Upload
  // streams"). The handler runs for the invocation itself (ctx.stream_ids names its streams, ctx.upload
  // is empty), then for each part of each stream in the order the client sent them (ctx.upload). The
  // reply to the part that ends the last open stream answers the caller: result(), error() or nothing
  // (a void result). An earlier result() or error() answers it at once, and the rest is not sent.
  // Uploads to a target without this handler, and plain calls to one with only this, get ASP.NET's
  // "Client sent N stream(s), Hub method expects M." error.
  App& on_upload(std::string hub, std::string target, Handler handler);

  // Add your own routes (pages, /api/negotiate) before listening. With cors_origins the App owns the
  // server's pre- and post-routing handlers (preflights, then CORS headers on every response): don't
  // replace them. A route that sets Access-Control-Allow-Origin itself is left as it is.
  httplib::Server& server();

  bool listen(const std::string& host, int port);        // blocks until stop()
  bool bind_to_port(const std::string& host, int port);  // then listen_after_bind()
  int bind_to_any_port(const std::string& host);         // a free port, or -1; then listen_after_bind()
  bool listen_after_bind();                              // blocks until stop()
  void stop();  // from any thread (not a signal handler), also before listening has begun; final

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// A connection string "Endpoint=http://host[:port];[Port=p;]AccessKey=k;Version=1.0;"
// (keys case-insensitive, unknown keys ignored, as Azure's SDKs read it).
struct ServiceEndpoint {
  std::string endpoint;    // scheme://host[:port], Port= folded in, no trailing slash
  std::string access_key;

  // Throws std::invalid_argument naming the problem. A null (std::getenv of an unset variable) or
  // empty string is refused with a message saying so and showing the expected form.
  static ServiceEndpoint parse(std::string_view connection_string);
  static ServiceEndpoint parse(const char* connection_string);
};

// What your /api/negotiate returns to a SignalR client: where to connect and the token to show there.
struct Negotiation {
  std::string url;           // endpoint + "/client/?hub=" + hub
  std::string access_token;  // HS256 JWT signed with the access key
  Json to_json() const;      // {"url", "accessToken"}
};

// Issues a client token (docs/functions.md, Negotiate): aud = url, exp = now + lifetime, iat, nbf,
// "asrs.s.uid" = user_id unless empty, plus `claims`. A claim named like a reserved JWT claim
// (aud, exp, iat, nbf, ...) is sent as "asrs.u.<name>", as the Azure SDKs do, so it cannot override them.
Negotiation negotiate(const ServiceEndpoint& endpoint, std::string_view hub, std::string_view user_id = {},
                      const std::map<std::string, std::string>& claims = {},
                      std::chrono::seconds lifetime = std::chrono::hours(1));

// Presence (a Switchboard extension; docs/rest-api.md "Presence").
struct ConnectionInfo {
  std::string connection_id;
  std::string user_id;  // empty when anonymous
};
struct UserInfo {
  std::string user_id;
  std::size_t connection_count = 0;  // the user's connections in the listed scope (hub or group)
};

// The gateway's data-plane REST API (docs/rest-api.md, 2022-06-01 paths), for code that runs
// outside a handler: a timer, a queue consumer, another service. Each request carries its own token.
// Errors: every call throws std::runtime_error (naming the status and body, or the network error)
// unless the gateway answers 2xx; a closed connection that is already gone counts as closed, and the
// `*_exists`/`user_in_group` questions answer false on 404. Safe to share between threads.
class RestClient {
 public:
  explicit RestClient(ServiceEndpoint endpoint);
  ~RestClient();
  RestClient(const RestClient&) = delete;
  RestClient& operator=(const RestClient&) = delete;

  void send_to_all(std::string_view hub, std::string_view target, Json arguments,
                   const std::vector<std::string>& excluded_connection_ids = {});
  void send_to_connection(std::string_view hub, std::string_view connection_id, std::string_view target,
                          Json arguments);
  void send_to_user(std::string_view hub, std::string_view user_id, std::string_view target, Json arguments);
  void send_to_group(std::string_view hub, std::string_view group, std::string_view target, Json arguments,
                     const std::vector<std::string>& excluded_connection_ids = {});

  // Client results: calls `target` on one client and returns what its handler returned (null for
  // none). Blocks until the client answers; throws std::runtime_error when it fails, times out
  // (--client-invoke-timeout) or leaves, with the gateway's status and error code in the message.
  Json invoke(std::string_view hub, std::string_view connection_id, std::string_view target, Json arguments);

  // Server-to-client streams (App::on_stream): one item for the client's stream `stream_id` (the
  // stream's ctx.invocation_id), in order; `completed` ends the stream after it. complete_stream ends
  // it without an item, with `error` when not empty.
  void send_stream_item(std::string_view hub, std::string_view connection_id, std::string_view stream_id, Json item,
                        bool completed = false);
  void complete_stream(std::string_view hub, std::string_view connection_id, std::string_view stream_id,
                       std::string_view error = {});

  void add_to_group(std::string_view hub, std::string_view group, std::string_view connection_id);
  void remove_from_group(std::string_view hub, std::string_view group, std::string_view connection_id);
  void add_user_to_group(std::string_view hub, std::string_view group, std::string_view user_id,
                         std::optional<std::chrono::seconds> ttl = {});
  void remove_user_from_group(std::string_view hub, std::string_view group, std::string_view user_id);
  void remove_user_from_all_groups(std::string_view hub, std::string_view user_id);
  void remove_connection_from_all_groups(std::string_view hub, std::string_view connection_id);

  bool connection_exists(std::string_view hub, std::string_view connection_id);
  bool user_exists(std::string_view hub, std::string_view user_id);
  bool group_exists(std::string_view hub, std::string_view group);
  bool user_in_group(std::string_view hub, std::string_view group, std::string_view user_id);

  void close_connection(std::string_view hub, std::string_view connection_id, std::string_view reason = {});
  void close_all(std::string_view hub, std::string_view reason = {});
  void close_group(std::string_view hub, std::string_view group, std::string_view reason = {});
  void close_user(std::string_view hub, std::string_view user_id, std::string_view reason = {});

  // Presence (Switchboard only; Azure SignalR Service answers 404, which throws). Counts are one
  // request; lists follow nextLink until the end, sorted by id, each entry once.
  std::size_t count_connections(std::string_view hub);
  std::size_t count_users(std::string_view hub);
  std::size_t count_group_connections(std::string_view hub, std::string_view group);
  std::size_t count_group_users(std::string_view hub, std::string_view group);
  std::size_t count_user_connections(std::string_view hub, std::string_view user_id);
  std::vector<ConnectionInfo> list_connections(std::string_view hub);
  std::vector<UserInfo> list_users(std::string_view hub);
  std::vector<ConnectionInfo> list_group_connections(std::string_view hub, std::string_view group);
  std::vector<UserInfo> list_group_users(std::string_view hub, std::string_view group);
  std::vector<ConnectionInfo> list_user_connections(std::string_view hub, std::string_view user_id);

  bool healthy();  // anonymous HEAD /api/health; false on any failure, never throws

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace switchboard
