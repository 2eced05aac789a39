#include "switchboard/functions.hpp"

#include <stdexcept>
#include <utility>

#include "switchboard/detail/argument_array.hpp"
#include "switchboard/detail/jwt.hpp"
#include "switchboard/detail/percent_encoding.hpp"

namespace switchboard {
namespace {

// The paths of 2022-06-01, which later versions keep (docs/rest-api.md).
constexpr std::string_view api_version = "2022-06-01";
// The Management SDK's REST tokens live an hour; ours is made per request, so minutes suffice.
constexpr std::chrono::minutes kTokenLifetime{5};
constexpr std::size_t max_body_in_error = 500;

using QueryParameters = std::vector<std::pair<std::string_view, std::string_view>>;

// What 404 means for an operation.
enum class NotFound {
  is_error,      // an operation on something that should exist
  is_false,      // the answer to an "exists?" question
  is_success,    // closing a connection that is already gone
};

std::string segment(std::string_view value) { return detail::percent_encode(value); }

Json send_body(std::string_view target, Json arguments) {
  return Json{{"target", target}, {"arguments", detail::to_argument_array(std::move(arguments))}};
}

QueryParameters with_excluded(QueryParameters query, const std::vector<std::string>& excluded_connection_ids) {
  for (const std::string& connection_id : excluded_connection_ids) query.emplace_back("excluded", connection_id);
  return query;
}

QueryParameters with_reason(std::string_view reason) {
  if (reason.empty()) return {};
  return {{"reason", reason}};
}

}  // namespace

struct RestClient::Impl {
  explicit Impl(ServiceEndpoint service)
      : endpoint(std::move(service)),
        origin(endpoint.endpoint.substr(0, endpoint.endpoint.find('/', endpoint.endpoint.find("://") + 3))),
        base_path(endpoint.endpoint.substr(origin.size())),
        client(origin) {
    client.set_connection_timeout(std::chrono::seconds(5));
    // Past the gateway's --client-invoke-timeout (30 s by default), so that an :invoke ends with the
    // gateway's answer rather than ours.
    client.set_read_timeout(std::chrono::seconds(45));
    client.set_keep_alive(true);
    client.set_tcp_nodelay(true);  // a request's headers and body leave as separate writes
    client.set_url_encode(false);  // every path segment and query value is escaped already
  }

  std::string hub_path(std::string_view hub) const { return base_path + "/api/hubs/" + segment(hub); }

  // Sends one request; returns true on 2xx, false on a 404 that means false, throws otherwise.
  bool call(const char* method, const std::string& path, const QueryParameters& query, const Json* body,
            NotFound not_found, std::string* response_body = nullptr) {
    const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
    // aud = the request URL without its query (the newest SDK's rule; docs/rest-api.md).
    const Json claims{{"aud", origin + path},
                      {"iat", now},
                      {"nbf", now},
                      {"exp", now + std::chrono::duration_cast<std::chrono::seconds>(kTokenLifetime).count()}};

    httplib::Request request;
    request.method = method;
    request.path = path + "?api-version=" + std::string(api_version);
    for (const auto& [key, value] : query) {
      request.path += '&' + std::string(key) + '=' + detail::percent_encode(value);
    }
    request.set_header("Authorization", "Bearer " + detail::sign_jwt_hs256(claims, endpoint.access_key));
    if (body != nullptr) {
      request.body = body->dump(-1, ' ', false, Json::error_handler_t::replace);
      request.set_header("Content-Type", "application/json");
    }

    const std::string described = std::string(method) + ' ' + request.path;
    const httplib::Result result = client.send(request);
    if (!result) {
      throw std::runtime_error("switchboard REST " + described + ": network error (" +
                               httplib::to_string(result.error()) + ")");
    }
    const int status = result->status;
    if (status >= 200 && status < 300) {
      if (response_body != nullptr) *response_body = result->body;
      return true;
    }
    if (status == 404 && not_found == NotFound::is_false) return false;
    if (status == 404 && not_found == NotFound::is_success) return true;
    throw std::runtime_error("switchboard REST " + described + ": status " + std::to_string(status) + ": " +
                             result->body.substr(0, max_body_in_error));
  }

  // GET a presence path; the parsed JSON body. Throws on anything but 2xx with a JSON object.
  Json get_json(const std::string& path, const QueryParameters& query) {
    std::string text;
    call("GET", path, query, nullptr, NotFound::is_error, &text);
    Json document = Json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (!document.is_object()) throw std::runtime_error("switchboard REST GET " + path + ": not a JSON object");
    return document;
  }

  std::size_t count(const std::string& path) {
    const Json document = get_json(path, {{"count", "true"}, {"top", "0"}});
    const auto it = document.find("count");
    if (it == document.end() || !it->is_number_unsigned()) {
      throw std::runtime_error("switchboard REST GET " + path + ": no count in the answer");
    }
    return it->get<std::size_t>();
  }

  // Every entry of a presence list, page by page (the continuation token of each nextLink).
  template <typename Entry, typename Read>
  std::vector<Entry> list(const std::string& path, Read read) {
    std::vector<Entry> entries;
    std::string token;
    for (;;) {
      QueryParameters query{{"maxpagesize", "200"}};
      if (!token.empty()) query.emplace_back("continuationToken", token);
      const Json document = get_json(path, query);
      for (const Json& item : document.value("value", Json::array())) entries.push_back(read(item));
      const Json next = document.value("nextLink", Json());
      if (!next.is_string()) return entries;
      token = continuation_token(next.get<std::string>());
      if (token.empty())
        throw std::runtime_error("switchboard REST GET " + path + ": nextLink has no continuationToken");
    }
  }

  static std::string continuation_token(std::string_view link) {
    constexpr std::string_view key = "continuationToken=";
    for (std::size_t at = link.find(key); at != std::string_view::npos; at = link.find(key, at + 1)) {
      if (at > 0 && link[at - 1] != '?' && link[at - 1] != '&') continue;
      std::string_view value = link.substr(at + key.size());
      return std::string(value.substr(0, value.find('&')));  // base64url: nothing to decode
    }
    return {};
  }

  ServiceEndpoint endpoint;
  std::string origin;     // scheme://host[:port]
  std::string base_path;  // a path the Endpoint carries (a gateway behind a path prefix), else ""
  httplib::Client client; // serializes requests and keeps one connection alive
};

RestClient::RestClient(ServiceEndpoint endpoint) : impl_(std::make_unique<Impl>(std::move(endpoint))) {}

RestClient::~RestClient() = default;

void RestClient::send_to_all(std::string_view hub, std::string_view target, Json arguments,
                             const std::vector<std::string>& excluded_connection_ids) {
  const Json body = send_body(target, std::move(arguments));
  impl_->call("POST", impl_->hub_path(hub) + "/:send", with_excluded({}, excluded_connection_ids), &body,
              NotFound::is_error);
}

void RestClient::send_to_connection(std::string_view hub, std::string_view connection_id, std::string_view target,
                                    Json arguments) {
  const Json body = send_body(target, std::move(arguments));
  impl_->call("POST", impl_->hub_path(hub) + "/connections/" + segment(connection_id) + "/:send", {}, &body,
              NotFound::is_error);
}

Json RestClient::invoke(std::string_view hub, std::string_view connection_id, std::string_view target,
                        Json arguments) {
  const Json body = send_body(target, std::move(arguments));
  std::string text;
  impl_->call("POST", impl_->hub_path(hub) + "/connections/" + segment(connection_id) + "/:invoke", {}, &body,
              NotFound::is_error, &text);
  Json document = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!document.is_object() || !document.contains("result"))
    throw std::runtime_error("switchboard REST :invoke: no result in the answer");
  return std::move(document["result"]);
}

void RestClient::send_stream_item(std::string_view hub, std::string_view connection_id, std::string_view stream_id,
                                  Json item, bool completed) {
  QueryParameters query;
  if (completed) query.emplace_back("completed", "true");
  impl_->call("POST", impl_->hub_path(hub) + "/connections/" + segment(connection_id) + "/streams/" + segment(stream_id) + "/:send",
              query, &item, NotFound::is_error);
}

void RestClient::complete_stream(std::string_view hub, std::string_view connection_id, std::string_view stream_id,
                                 std::string_view error) {
  impl_->call("POST", impl_->hub_path(hub) + "/connections/" + segment(connection_id) + "/streams/" + segment(stream_id) + "/:complete",
              with_reason(error), nullptr, NotFound::is_error);
}

void RestClient::send_to_user(std::string_view hub, std::string_view user_id, std::string_view target,
                              Json arguments) {
  const Json body = send_body(target, std::move(arguments));
  impl_->call("POST", impl_->hub_path(hub) + "/users/" + segment(user_id) + "/:send", {}, &body,
              NotFound::is_error);
}

void RestClient::send_to_group(std::string_view hub, std::string_view group, std::string_view target,
                               Json arguments, const std::vector<std::string>& excluded_connection_ids) {
  const Json body = send_body(target, std::move(arguments));
  impl_->call("POST", impl_->hub_path(hub) + "/groups/" + segment(group) + "/:send",
              with_excluded({}, excluded_connection_ids), &body, NotFound::is_error);
}

void RestClient::add_to_group(std::string_view hub, std::string_view group, std::string_view connection_id) {
  impl_->call("PUT", impl_->hub_path(hub) + "/groups/" + segment(group) + "/connections/" + segment(connection_id),
              {}, nullptr, NotFound::is_error);
}

void RestClient::remove_from_group(std::string_view hub, std::string_view group, std::string_view connection_id) {
  impl_->call("DELETE",
              impl_->hub_path(hub) + "/groups/" + segment(group) + "/connections/" + segment(connection_id), {},
              nullptr, NotFound::is_error);
}

void RestClient::add_user_to_group(std::string_view hub, std::string_view group, std::string_view user_id,
                                   std::optional<std::chrono::seconds> ttl) {
  const std::string ttl_seconds = ttl ? std::to_string(ttl->count()) : std::string{};
  QueryParameters query;
  if (ttl) query.emplace_back("ttl", ttl_seconds);
  impl_->call("PUT", impl_->hub_path(hub) + "/users/" + segment(user_id) + "/groups/" + segment(group), query,
              nullptr, NotFound::is_error);
}

void RestClient::remove_user_from_group(std::string_view hub, std::string_view group, std::string_view user_id) {
  impl_->call("DELETE", impl_->hub_path(hub) + "/users/" + segment(user_id) + "/groups/" + segment(group), {},
              nullptr, NotFound::is_error);
}

void RestClient::remove_user_from_all_groups(std::string_view hub, std::string_view user_id) {
  impl_->call("DELETE", impl_->hub_path(hub) + "/users/" + segment(user_id) + "/groups", {}, nullptr,
              NotFound::is_error);
}

void RestClient::remove_connection_from_all_groups(std::string_view hub, std::string_view connection_id) {
  impl_->call("DELETE", impl_->hub_path(hub) + "/connections/" + segment(connection_id) + "/groups", {}, nullptr,
              NotFound::is_error);
}

bool RestClient::connection_exists(std::string_view hub, std::string_view connection_id) {
  return impl_->call("HEAD", impl_->hub_path(hub) + "/connections/" + segment(connection_id), {}, nullptr,
                     NotFound::is_false);
}

bool RestClient::user_exists(std::string_view hub, std::string_view user_id) {
  return impl_->call("HEAD", impl_->hub_path(hub) + "/users/" + segment(user_id), {}, nullptr, NotFound::is_false);
}

bool RestClient::group_exists(std::string_view hub, std::string_view group) {
  return impl_->call("HEAD", impl_->hub_path(hub) + "/groups/" + segment(group), {}, nullptr, NotFound::is_false);
}

bool RestClient::user_in_group(std::string_view hub, std::string_view group, std::string_view user_id) {
  return impl_->call("HEAD", impl_->hub_path(hub) + "/users/" + segment(user_id) + "/groups/" + segment(group), {},
                     nullptr, NotFound::is_false);
}

void RestClient::close_connection(std::string_view hub, std::string_view connection_id, std::string_view reason) {
  impl_->call("DELETE", impl_->hub_path(hub) + "/connections/" + segment(connection_id), with_reason(reason),
              nullptr, NotFound::is_success);
}

void RestClient::close_all(std::string_view hub, std::string_view reason) {
  impl_->call("POST", impl_->hub_path(hub) + "/:closeConnections", with_reason(reason), nullptr,
              NotFound::is_error);
}

void RestClient::close_group(std::string_view hub, std::string_view group, std::string_view reason) {
  impl_->call("POST", impl_->hub_path(hub) + "/groups/" + segment(group) + "/:closeConnections",
              with_reason(reason), nullptr, NotFound::is_error);
}

void RestClient::close_user(std::string_view hub, std::string_view user_id, std::string_view reason) {
  impl_->call("POST", impl_->hub_path(hub) + "/users/" + segment(user_id) + "/:closeConnections",
              with_reason(reason), nullptr, NotFound::is_error);
}

namespace {

ConnectionInfo read_connection(const Json& item) {
  ConnectionInfo info;
  info.connection_id = item.value("connectionId", "");
  if (const auto user = item.find("userId"); user != item.end() && user->is_string())
    info.user_id = user->get<std::string>();
  return info;
}

UserInfo read_user(const Json& item) {
  return {item.value("userId", ""), item.value("connectionCount", std::size_t{0})};
}

}  // namespace

std::size_t RestClient::count_connections(std::string_view hub) {
  return impl_->count(impl_->hub_path(hub) + "/connections");
}

std::size_t RestClient::count_users(std::string_view hub) {
  return impl_->count(impl_->hub_path(hub) + "/users");
}

std::size_t RestClient::count_group_connections(std::string_view hub, std::string_view group) {
  return impl_->count(impl_->hub_path(hub) + "/groups/" + segment(group) + "/connections");
}

std::size_t RestClient::count_group_users(std::string_view hub, std::string_view group) {
  return impl_->count(impl_->hub_path(hub) + "/groups/" + segment(group) + "/users");
}

std::size_t RestClient::count_user_connections(std::string_view hub, std::string_view user_id) {
  return impl_->count(impl_->hub_path(hub) + "/users/" + segment(user_id) + "/connections");
}

std::vector<ConnectionInfo> RestClient::list_connections(std::string_view hub) {
  return impl_->list<ConnectionInfo>(impl_->hub_path(hub) + "/connections", read_connection);
}

std::vector<UserInfo> RestClient::list_users(std::string_view hub) {
  return impl_->list<UserInfo>(impl_->hub_path(hub) + "/users", read_user);
}

std::vector<ConnectionInfo> RestClient::list_group_connections(std::string_view hub, std::string_view group) {
  return impl_->list<ConnectionInfo>(impl_->hub_path(hub) + "/groups/" + segment(group) + "/connections",
                                     read_connection);
}

std::vector<UserInfo> RestClient::list_group_users(std::string_view hub, std::string_view group) {
  return impl_->list<UserInfo>(impl_->hub_path(hub) + "/groups/" + segment(group) + "/users", read_user);
}

std::vector<ConnectionInfo> RestClient::list_user_connections(std::string_view hub, std::string_view user_id) {
  return impl_->list<ConnectionInfo>(impl_->hub_path(hub) + "/users/" + segment(user_id) + "/connections",
                                     read_connection);
}

bool RestClient::healthy() {
  try {
    // Anonymous, like the SDK's periodic check (docs/rest-api.md, health).
    const httplib::Result result =
        impl_->client.Head(impl_->base_path + "/api/health?api-version=" + std::string(api_version));
    return result && result->status >= 200 && result->status < 300;
  } catch (...) {
    return false;
  }
}

}  // namespace switchboard
