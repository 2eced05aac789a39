#pragma once
// A route table (uWS's App.get/post, cpp-httplib's Server::Get): method, path and handler, tried in the
// order they were added; the first match wins. A path matches exactly, or as a prefix ("/api/" and
// everything under it). Built once per shard before it serves; read-only from then on.
#include <ostream>  // Boost 1.81's string_view.hpp (under verb.hpp) uses it without including it

#include <boost/beast/http/verb.hpp>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace sb::http {

class HttpSession;

class Router {
 public:
  // Answers the session's current request (HttpSession::request()) through the session.
  using Handler = std::function<void(HttpSession&)>;
  enum class PathMatch { exact, prefix };

  // No methods: any method.
  Router& add(std::vector<boost::beast::http::verb> methods, std::string path, PathMatch match, Handler handler);
  Router& add(std::string path, PathMatch match, Handler handler) { return add({}, std::move(path), match, std::move(handler)); }

  // The first route for this method and path; nullptr when none (the session answers 404).
  const Handler* find(boost::beast::http::verb method, std::string_view path) const;

 private:
  struct Route {
    std::vector<boost::beast::http::verb> methods;
    std::string path;
    PathMatch match;
    Handler handler;
  };
  std::vector<Route> routes_;
};

}  // namespace sb::http
