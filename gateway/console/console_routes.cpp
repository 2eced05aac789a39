#include "console/console_routes.hpp"

#include <boost/beast/http/field.hpp>
#include <algorithm>
#include <cstdlib>
#include <mutex>
#include <nlohmann/json.hpp>

#include "console/console_log.hpp"
#include "console/trace_filter_codec.hpp"
#include "console/trace_stream.hpp"
#include "console/web_assets.hpp"
#include "http/http_session.hpp"
#include "http/url_query.hpp"

namespace sb::console {
namespace {

using http::HttpSession;
using http::Request;
using http::Response;
namespace field = boost::beast::http;

constexpr std::string_view page_policy =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
// The sign-in page has no script; its style is inline.
constexpr std::string_view login_policy =
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

std::int64_t now_unix() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

void secure(Response& response, std::string_view policy) {
  response.set("Content-Security-Policy", policy);
  response.set(field::field::x_frame_options, "DENY");
  response.set("X-Content-Type-Options", "nosniff");
  response.set("Referrer-Policy", "no-referrer");
  response.set(field::field::cache_control, "no-store");
}

Response asset_response(const Request& request, unsigned status, const WebAsset& asset, std::string_view policy,
                        std::string_view error = {}) {
  auto response = http::make_response(request, status);
  response.set(field::field::content_type, asset.content_type);
  std::string body(asset.body);
  if (auto at = body.find("<!--error-->"); at != std::string::npos && !error.empty())
    body.replace(at, 12, "<p class=\"error\">" + std::string(error) + "</p>");
  response.body() = std::move(body);
  secure(response, policy);
  response.prepare_payload();
  return response;
}

// 401: the sign-in page for a browser's page request, a JSON error for the rest.
Response refusal(const Request& request, std::string_view error = {}) {
  const auto accept = std::string_view(request[field::field::accept]);
  if (request.method() != field::verb::post && accept.find("text/html") != std::string_view::npos) {
    auto response = asset_response(request, 401, *web_asset("login.html"), login_policy, error);
    response.set(field::field::www_authenticate, R"(Bearer realm="switchboard-console")");
    return response;
  }
  auto response = http::json_error(request, 401, "unauthorized", "The console needs the admin key.");
  response.set(field::field::www_authenticate, R"(Bearer realm="switchboard-console")");
  secure(response, page_policy);
  return response;
}

Response redirect(const Request& request, std::string_view location) {
  auto response = http::make_response(request, 303);
  response.set(field::field::location, location);
  secure(response, page_policy);
  response.prepare_payload();
  return response;
}

constexpr unsigned long max_login_bytes = 4096;

// Sign-in attempts, at most this many a second in this process: the key can't be guessed quickly.
class LoginLimiter {
 public:
  bool admit() {
    std::lock_guard lock(mutex_);
    auto now = std::chrono::steady_clock::now();
    if (now - window_ >= std::chrono::seconds(1)) {
      window_ = now;
      attempts_ = 0;
    }
    return ++attempts_ <= 10;
  }

 private:
  std::mutex mutex_;
  std::chrono::steady_clock::time_point window_{};
  int attempts_ = 0;
};

std::string form_field(std::string_view body, std::string_view name) {
  auto params = http::parse_query(body);  // application/x-www-form-urlencoded, as a query
  if (!params) return {};
  auto value = http::query_value(*params, name).value_or("");
  for (auto& c : value) c = c == '+' ? ' ' : c;  // forms encode spaces as '+'
  return value;
}

TraceFilter trace_filter(const http::QueryParams& params) {
  TraceFilter filter;
  filter.hub = http::query_value(params, "hub").value_or("");
  filter.user = http::query_value(params, "user").value_or("");
  filter.connection = http::query_value(params, "connection").value_or("");
  if (auto kinds = http::query_value(params, "kinds"); kinds && !kinds->empty()) {
    filter.kinds = 0;
    std::string_view rest = *kinds;
    while (!rest.empty()) {
      auto comma = rest.find(',');
      if (auto kind = parse_trace_kind(rest.substr(0, comma))) filter.kinds |= 1u << static_cast<unsigned>(*kind);
      rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    }
  }
  if (auto sample = http::query_value(params, "sample")) {
    auto n = std::strtoul(sample->c_str(), nullptr, 10);
    filter.sample_every = static_cast<std::uint32_t>(std::clamp<unsigned long>(n, 1, max_sample_every));
  }
  if (auto budget = http::query_value(params, "budget")) {  // bytes a second
    auto n = std::strtoull(budget->c_str(), nullptr, 10);
    filter.bytes_per_second = static_cast<std::size_t>(std::clamp<unsigned long long>(n, min_bytes_per_second, max_bytes_per_second));
  }
  return filter;
}

}  // namespace

void add_console_routes(http::Router& router, const ConsoleRoutes& console) {
  using Match = http::Router::PathMatch;
  auto auth = console.auth;
  auto api = console.api;
  auto limiter = std::make_shared<LoginLimiter>();
  const bool is_tls = console.is_tls;

  // What the request may do (none: answer 401); the session counts as authenticated otherwise.
  auto access_of = [auth](HttpSession& s) {
    const auto& request = s.request();
    auto access = auth->access(request[field::field::authorization], request[field::field::cookie], now_unix());
    if (access == ConsoleAccess::none) {
      if (!request[field::field::authorization].empty()) log::emit(log_events::login_failed, {{"reason", "wrong_key"}});
      return access;
    }
    s.authenticated();
    return access;
  };
  auto admitted = [access_of](HttpSession& s) { return access_of(s) != ConsoleAccess::none; };

  router.add({field::verb::get, field::verb::head}, "/admin", Match::exact, [admitted](HttpSession& s) {
    if (!admitted(s)) return s.write(refusal(s.request()));
    s.write(redirect(s.request(), "/admin/"));
  });

  router.add({field::verb::post}, "/admin/login", Match::exact, [auth, limiter, is_tls](HttpSession& s) {
    if (!limiter->admit()) {
      log::emit(log_events::login_failed, {{"reason", "too_many_attempts"}});
      auto response = http::json_error(s.request(), 429, "too_many_attempts", "Too many sign-in attempts; wait a second.");
      secure(response, page_policy);
      return s.write(std::move(response));
    }
    // The body is a password form, a few hundred bytes: read before the key is known, so only a small
    // one with a declared length (an anonymous socket must not make the gateway hold more).
    const auto length = std::string_view(s.request()[field::field::content_length]);
    if (length.empty() || length.size() > 4 || std::strtoul(std::string(length).c_str(), nullptr, 10) > max_login_bytes) {
      log::emit(log_events::login_failed, {{"reason", "bad_form"}});
      auto response = http::json_error(s.request(), 413, "form_too_large", "A sign-in form is a few hundred bytes with a Content-Length.");
      secure(response, page_policy);
      return s.write(std::move(response));
    }
    s.read_body([auth, is_tls](HttpSession& session) {
      auto key = form_field(session.request().body(), "key");
      const auto access = key.empty() ? ConsoleAccess::none : auth->key_access(key);
      if (access == ConsoleAccess::none) {
        log::emit(log_events::login_failed, {{"reason", "wrong_key"}});
        auto response = asset_response(session.request(), 401, *web_asset("login.html"), login_policy, "That is not a console key.");
        response.set(field::field::www_authenticate, R"(Bearer realm="switchboard-console")");
        return session.write(std::move(response));
      }
      log::emit(log_events::signed_in, {{"access", to_string(access)}});
      auto response = redirect(session.request(), "/admin/");
      response.set(field::field::set_cookie, std::string(AdminAuth::cookie_name) + "=" + auth->session_value(now_unix(), access) +
                                                 "; Path=/admin; HttpOnly; SameSite=Strict; Max-Age=" +
                                                 std::to_string(AdminAuth::session_lifetime.count()) +
                                                 (is_tls ? "; Secure" : ""));
      session.write(std::move(response));
    });
  });

  router.add({field::verb::post}, "/admin/logout", Match::exact, [admitted](HttpSession& s) {
    if (!admitted(s)) return s.write(refusal(s.request()));
    auto response = redirect(s.request(), "/admin/");
    response.set(field::field::set_cookie, std::string(AdminAuth::cookie_name) + "=; Path=/admin; HttpOnly; SameSite=Strict; Max-Age=0");
    s.write(std::move(response));
  });

  router.add({field::verb::get}, "/admin/api/trace", Match::exact, [admitted, api](HttpSession& s) {
    if (!admitted(s)) return s.write(refusal(s.request()));
    auto params = http::parse_query(http::split_target(s.request().target()).query);
    if (!params) return s.write(http::json_error(s.request(), 400, "invalid_query", "The query has a malformed escape."));
    std::string head =
        "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-store\r\nX-Accel-Buffering: no\r\n"
        "X-Content-Type-Options: nosniff\r\nTransfer-Encoding: chunked\r\nServer: switchboard\r\n\r\n";
    auto filter = trace_filter(*params);
    FleetFeedStarter fleet;
    if (http::query_value(*params, "scope").value_or("") == "fleet")
      fleet = [api, filter](boost::asio::any_io_executor executor, FleetTraceFeed::Deliver deliver) {
        return api->fleet_trace(executor, filter, std::move(deliver));
      };
    open_trace_stream(s.take_stream(), std::move(head), std::move(filter), std::move(fleet));
  });

  router.add("/admin/api/", Match::prefix, [access_of, api](HttpSession& session) {
    const auto access = access_of(session);
    if (access == ConsoleAccess::none) return session.write(refusal(session.request()));
    const auto& request = session.request();
    const bool is_post = request.method() == field::verb::post;
    if (!is_post && request.method() != field::verb::get)
      return session.write(http::json_error(request, 405, "method_not_allowed", "The console API takes GET and POST."));
    if (is_post && request["X-Switchboard-Console"] != "1")
      return session.write(http::json_error(request, 403, "missing_console_header", "A console POST carries X-Switchboard-Console: 1."));
    // Every POST acts (close, send, drain): the read key looks only.
    if (is_post && access != ConsoleAccess::full) {
      auto response = http::json_error(request, 403, "read_only", "This console key may look but not act.");
      secure(response, page_policy);
      return session.write(std::move(response));
    }
    auto run = [api, is_post, access](HttpSession& s) {
      auto target = http::split_target(s.request().target());
      auto route = target.path.substr(std::string_view("/admin/api/").size());
      auto basis = std::make_shared<Request>();
      basis->version(s.request().version());
      basis->keep_alive(s.request().keep_alive());
      if (is_post) {  // the audit trail: who was closed, sent to or drained
        auto body = nlohmann::json::parse(s.request().body(), nullptr, false);
        auto text = [&body](const char* key) {
          return body.is_object() && body.contains(key) && body[key].is_string() ? body[key].get<std::string>() : std::string();
        };
        auto id = text("connectionId");
        if (id.empty()) id = text("group");
        if (id.empty()) id = text("id");
        log::emit(log_events::action, {{"action", route}, {"hub", text("hub")}, {"id", id},
                                       {"gateway", route == "drain" ? text("gateway") : api->gateway_id()}});
      }
      api->answer(is_post, route, target.query, is_post ? std::move(s.request().body()) : std::string(), false, s.executor(),
                  [session = s.shared_from_this(), basis, access](ApiAnswer answer) {
                    auto response = http::json_response(*basis, answer.status, std::move(answer.body));
                    secure(response, page_policy);
                    response.set("X-Switchboard-Console-Access", to_string(access));  // the page hides what it can't do
                    session->write(std::move(response));
                  });
    };
    if (is_post) return session.read_body(run);
    run(session);
  });

  router.add({field::verb::get, field::verb::head}, "/admin/", Match::prefix, [admitted](HttpSession& s) {
    if (!admitted(s)) return s.write(refusal(s.request()));
    auto path = http::split_target(s.request().target()).path.substr(std::string_view("/admin/").size());
    if (path.empty()) path = "index.html";
    auto asset = path == "login.html" ? std::nullopt : web_asset(path);
    if (!asset) return s.write(http::json_error(s.request(), 404, "not_found", "No such console page."));
    s.write(asset_response(s.request(), 200, *asset, page_policy));
  });
  // Anything else under /admin/ (another method): still the key first.
  router.add("/admin/", Match::prefix, [admitted](HttpSession& s) {
    if (!admitted(s)) return s.write(refusal(s.request()));
    s.write(http::json_error(s.request(), 405, "method_not_allowed", "Not a console route."));
  });
}

}  // namespace sb::console
