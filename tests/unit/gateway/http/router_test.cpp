#include "http/router.hpp"

#include <doctest/doctest.h>

#include <boost/asio/io_context.hpp>

#include "http/http_session.hpp"

using sb::http::Router;
using boost::beast::http::verb;

TEST_CASE("the first route whose method and path match wins") {
  Router router;
  int called = 0;
  auto mark = [&called](int n) { return [&called, n](sb::http::HttpSession&) { called = n; }; };
  router.add({verb::options}, "/api/", Router::PathMatch::prefix, mark(1));
  router.add("/client", Router::PathMatch::exact, mark(2));
  router.add({verb::get, verb::head}, "/health", Router::PathMatch::exact, mark(3));
  router.add("/api/", Router::PathMatch::prefix, mark(4));

  // A session that never runs: the handlers here don't touch it.
  boost::asio::io_context io;
  sb::http::HttpSessionSettings settings;
  sb::http::UnauthenticatedSessions waiting;
  sb::http::HttpSession session(boost::asio::ip::tcp::socket(io), settings, router, waiting);
  auto run = [&](verb method, std::string_view path) {
    called = 0;
    const auto* handler = router.find(method, path);
    if (!handler) return -1;
    (*handler)(session);
    return called;
  };
  CHECK(run(verb::options, "/api/v1/hubs/chat") == 1);
  CHECK(run(verb::post, "/api/v1/hubs/chat") == 4);
  CHECK(run(verb::post, "/client") == 2);
  CHECK(run(verb::post, "/client/") == -1);  // exact means exact
  CHECK(run(verb::head, "/health") == 3);
  CHECK(run(verb::post, "/health") == -1);  // the method must match too
  CHECK(run(verb::get, "/ap") == -1);
}
