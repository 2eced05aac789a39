#include "switchboard/functions.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <sys/socket.h>

#include <atomic>
#include <fstream>
#include <stdexcept>
#include <thread>

#include "switchboard/detail/cors_policy.hpp"
#include "switchboard/detail/growing_thread_pool.hpp"
#include "switchboard/detail/log_line.hpp"
#include "switchboard/detail/upstream_dispatcher.hpp"

namespace switchboard {
namespace {

// cpp-httplib route patterns are regular expressions; the upstream path is a literal.
std::string escape_regex(std::string_view literal) {
  std::string escaped;
  for (const char c : literal) {
    if (std::string_view(R"(\^$.|?*+()[]{})").find(c) != std::string_view::npos) escaped += '\\';
    escaped += c;
  }
  return escaped;
}

// cpp-httplib stores the peer's and our own address among the request headers; they are not headers
// the gateway sent.
bool is_pseudo_header(std::string_view name) {
  return name == "REMOTE_ADDR" || name == "REMOTE_PORT" || name == "LOCAL_ADDR" || name == "LOCAL_PORT";
}

// Debian's cpp-httplib 0.11.4 is a shared library built with a listen backlog of 5
// (CPPHTTPLIB_LISTEN_BACKLOG): a burst of new upstream connections overflows it, the kernel drops
// their SYNs and the gateway's connects stall for the 1 s SYN retry. listen() again on the bound
// socket sets a deeper backlog; the socket is protected in httplib::Server, hence the subclass, of
// httplib::Server or (HTTPS) httplib::SSLServer.
template <typename Base>
class UpstreamServer final : public Base {
 public:
  using Base::Base;

  static void deepen_listen_backlog(httplib::Server& server) {
    const socket_t socket = static_cast<UpstreamServer&>(server).svr_sock_;
    if (socket != INVALID_SOCKET) ::listen(socket, SOMAXCONN);
  }
};

bool is_readable(const std::string& path) { return std::ifstream(path).good(); }

// Fills the SSLServer's context from AppOptions; false with `error` naming the field and file.
bool set_up_tls(SSL_CTX& context, const AppOptions& options, std::string& error) {
  auto fail = [&error](std::string_view field, const std::string& path, std::string_view why) {
    error = "AppOptions::" + std::string(field) + " '" + path + "': " + std::string(why);
    ERR_clear_error();
    return false;
  };
  SSL_CTX_set_min_proto_version(&context, TLS1_2_VERSION);
  // An encrypted key would make OpenSSL ask for its passphrase on the terminal; refuse it instead.
  SSL_CTX_set_default_passwd_cb(&context, [](char*, int, int, void*) { return 0; });
  // Resumed sessions must belong to this server; OpenSSL refuses a TLS 1.2 resumption outright
  // when client certificates are verified and no context is set.
  static constexpr unsigned char session_context[] = "switchboard-functions";
  SSL_CTX_set_session_id_context(&context, session_context, sizeof session_context - 1);
  if (!is_readable(options.tls_cert_file)) return fail("tls_cert_file", options.tls_cert_file, "cannot read it");
  if (!is_readable(options.tls_key_file)) return fail("tls_key_file", options.tls_key_file, "cannot read it");
  if (SSL_CTX_use_certificate_chain_file(&context, options.tls_cert_file.c_str()) != 1)
    return fail("tls_cert_file", options.tls_cert_file, "not a PEM certificate chain");
  if (SSL_CTX_use_PrivateKey_file(&context, options.tls_key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
    // OpenSSL checks the key against the certificate as it loads it.
    if (ERR_GET_REASON(ERR_peek_last_error()) == X509_R_KEY_VALUES_MISMATCH)
      return fail("tls_key_file", options.tls_key_file, "does not belong to the certificate in tls_cert_file");
    return fail("tls_key_file", options.tls_key_file, "not an unencrypted PEM private key");
  }
  if (SSL_CTX_check_private_key(&context) != 1)
    return fail("tls_key_file", options.tls_key_file, "does not belong to the certificate in tls_cert_file");
  if (!options.tls_client_ca_file.empty()) {
    const std::string& ca = options.tls_client_ca_file;
    if (!is_readable(ca)) return fail("tls_client_ca_file", ca, "cannot read it");
    STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(ca.c_str());
    if (!names || SSL_CTX_load_verify_locations(&context, ca.c_str(), nullptr) != 1) {
      if (names) sk_X509_NAME_pop_free(names, X509_NAME_free);
      return fail("tls_client_ca_file", ca, "no PEM certificate in it");
    }
    SSL_CTX_set_client_CA_list(&context, names);  // takes `names`: the CAs the handshake asks for
    SSL_CTX_set_verify(&context, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
  }
  return true;
}

// The App's server: HTTPS when AppOptions names a certificate, else plain HTTP.
std::unique_ptr<httplib::Server> make_server(const AppOptions& options) {
  if (options.tls_cert_file.empty() && options.tls_key_file.empty()) {
    if (!options.tls_client_ca_file.empty())
      throw std::invalid_argument("AppOptions::tls_client_ca_file needs tls_cert_file and tls_key_file");
    return std::make_unique<UpstreamServer<httplib::Server>>();
  }
  if (options.tls_cert_file.empty() || options.tls_key_file.empty())
    throw std::invalid_argument("AppOptions::tls_cert_file and tls_key_file go together: give both or neither");
  std::string error;
  auto server = std::make_unique<UpstreamServer<httplib::SSLServer>>(
      [&](SSL_CTX& context) { return set_up_tls(context, options, error); });
  if (!server->is_valid()) throw std::invalid_argument(error.empty() ? "AppOptions: TLS set-up failed" : error);
  return server;
}

}  // namespace

struct App::Impl {
  explicit Impl(const AppOptions& options)
      : upstream_path(options.upstream_path),
        cors(options.cors_origins),
        dispatcher(options),
        server_owner(make_server(options)),
        server(*server_owner),
        deepen_listen_backlog(options.tls_cert_file.empty() ? &UpstreamServer<httplib::Server>::deepen_listen_backlog
                                                            : &UpstreamServer<httplib::SSLServer>::deepen_listen_backlog) {}

  std::string upstream_path;
  detail::CorsPolicy cors;
  detail::UpstreamDispatcher dispatcher;
  std::unique_ptr<httplib::Server> server_owner;  // declared after the dispatcher: destroyed before it
  httplib::Server& server;
  void (*deepen_listen_backlog)(httplib::Server&);
  // cpp-httplib's stop() does nothing until listen_after_bind() has marked the server running, so a
  // stop() racing the start would be lost; these two let stop() wait for that moment.
  std::atomic<bool> is_stop_requested{false};
  std::atomic<bool> is_listen_in_progress{false};
};

App::App(AppOptions options) : impl_(std::make_unique<Impl>(options)) {
  impl_->server.set_payload_max_length(options.max_body_bytes);
  // cpp-httplib owns and deletes what new_task_queue returns, hence the bare new.
  impl_->server.new_task_queue = [max_threads = options.max_threads] {
    return new detail::GrowingThreadPool(max_threads);
  };
  // The default of 5 requests per connection would undo the gateway's connection pooling.
  impl_->server.set_keep_alive_max_count(1000);
  // A reply is written in pieces (headers, body); with Nagle on, the second waits for the gateway's
  // delayed ACK, about 40 ms per upstream call (bench/echo.sh measured it).
  impl_->server.set_tcp_nodelay(true);

  // 0.11.4's default puts what() in an EXCEPTION_WHAT response header (never show what() to a client);
  // a route of the user's that throws gets a 500 with our JSON error instead, and one log line.
  impl_->server.set_exception_handler([](const httplib::Request& request, httplib::Response& response,
                                         std::exception_ptr exception) {
    std::string what = "not a std::exception";
    try {
      if (exception) std::rethrow_exception(exception);
    } catch (const std::exception& failure) {
      what = failure.what();
    } catch (...) {
    }
    detail::write_log_line("warn functions route_failed method=" + request.method +
                           " path=" + detail::log_value(request.path) + " error=" + detail::log_value(what));
    response.status = 500;
    response.set_content(R"({"code":"InternalError","message":"the request failed"})", "application/json");
  });

  Impl* impl = impl_.get();
  if (impl_->cors.is_enabled()) {
    // A preflight is answered before routing, so it needs no Options route of its own; every other
    // response (the user's routes, 404s, the exception handler's 500) gets its headers after routing.
    impl_->server.set_pre_routing_handler([impl](const httplib::Request& request, httplib::Response& response) {
      const auto headers = impl->cors.preflight_headers(request.method, request.get_header_value("Origin"),
                                                        request.get_header_value("Access-Control-Request-Method"),
                                                        request.get_header_value("Access-Control-Request-Headers"));
      if (!headers) return httplib::Server::HandlerResponse::Unhandled;
      for (const auto& [name, value] : *headers) response.set_header(name, value);
      response.status = 204;
      return httplib::Server::HandlerResponse::Handled;
    });
    impl_->server.set_post_routing_handler([impl](const httplib::Request& request, httplib::Response& response) {
      if (response.has_header("Access-Control-Allow-Origin")) return;  // a preflight, or the route's own
      for (const auto& [name, value] : impl->cors.response_headers(request.get_header_value("Origin"))) {
        response.set_header(name, value);
      }
    });
  }

  impl_->server.Post(escape_regex(impl_->upstream_path),
                     [impl](const httplib::Request& request, httplib::Response& response) {
                       detail::UpstreamRequest upstream;
                       for (const auto& [name, value] : request.headers) {
                         if (!is_pseudo_header(name)) upstream.headers.emplace(name, value);
                       }
                       upstream.body = request.body;
                       upstream.method = request.method;
                       upstream.target = request.target;
                       upstream.now_seconds = std::chrono::duration_cast<std::chrono::seconds>(
                                                  std::chrono::system_clock::now().time_since_epoch())
                                                  .count();
                       const detail::UpstreamResponse answer = impl->dispatcher.dispatch(upstream);
                       if (!answer.log_line.empty()) detail::write_log_line(answer.log_line);
                       response.status = answer.status;
                       if (!answer.body.empty()) response.set_content(answer.body, answer.content_type);
                     });
}

App::~App() = default;

App& App::on_connected(std::string hub, Handler handler) {
  impl_->dispatcher.add(detail::UpstreamEvent::connected, std::move(hub), "*", std::move(handler));
  return *this;
}

App& App::on_disconnected(std::string hub, Handler handler) {
  impl_->dispatcher.add(detail::UpstreamEvent::disconnected, std::move(hub), "*", std::move(handler));
  return *this;
}

App& App::on_refresh(std::string hub, Handler handler) {
  impl_->dispatcher.add(detail::UpstreamEvent::refresh, std::move(hub), "*", std::move(handler));
  return *this;
}

App& App::on_message(std::string hub, std::string target, Handler handler) {
  impl_->dispatcher.add(detail::UpstreamEvent::message, std::move(hub), std::move(target), std::move(handler));
  return *this;
}

App& App::on_stream(std::string hub, std::string target, Handler handler) {
  impl_->dispatcher.add(detail::UpstreamEvent::stream, std::move(hub), std::move(target), std::move(handler));
  return *this;
}

App& App::on_upload(std::string hub, std::string target, Handler handler) {
  impl_->dispatcher.add(detail::UpstreamEvent::upload, std::move(hub), std::move(target), std::move(handler));
  return *this;
}

httplib::Server& App::server() { return impl_->server; }

bool App::listen(const std::string& host, int port) {
  if (!bind_to_port(host, port)) return false;
  return listen_after_bind();
}

bool App::bind_to_port(const std::string& host, int port) {
  if (!impl_->server.bind_to_port(host, port)) return false;
  impl_->deepen_listen_backlog(impl_->server);
  return true;
}

int App::bind_to_any_port(const std::string& host) {
  const int port = impl_->server.bind_to_any_port(host);
  if (port >= 0) impl_->deepen_listen_backlog(impl_->server);
  return port;
}

bool App::listen_after_bind() {
  impl_->is_listen_in_progress = true;
  const bool is_ok = impl_->is_stop_requested ? true : impl_->server.listen_after_bind();
  impl_->is_listen_in_progress = false;
  return is_ok;
}

void App::stop() {
  impl_->is_stop_requested = true;
  while (impl_->is_listen_in_progress && !impl_->server.is_running()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  impl_->server.stop();
}

}  // namespace switchboard
