#include "http/router.hpp"

#include <algorithm>

namespace sb::http {

Router& Router::add(std::vector<boost::beast::http::verb> methods, std::string path, PathMatch match, Handler handler) {
  routes_.push_back({std::move(methods), std::move(path), match, std::move(handler)});
  return *this;
}

const Router::Handler* Router::find(boost::beast::http::verb method, std::string_view path) const {
  for (const auto& route : routes_) {
    bool is_path_match = route.match == PathMatch::exact ? path == route.path : path.starts_with(route.path);
    if (!is_path_match) continue;
    if (!route.methods.empty() && std::find(route.methods.begin(), route.methods.end(), method) == route.methods.end())
      continue;
    return &route.handler;
  }
  return nullptr;
}

}  // namespace sb::http
