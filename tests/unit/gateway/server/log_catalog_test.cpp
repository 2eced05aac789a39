#include "server/log_catalog.hpp"

#include <doctest/doctest.h>

#include <fstream>
#include <set>
#include <sstream>

using sb::server::all_log_events;

TEST_CASE("every log event is named once and declares its fields") {
  std::set<std::pair<std::string_view, std::string_view>> seen;
  for (const auto* e : all_log_events()) {
    CAPTURE(e->module);
    CAPTURE(e->name);
    CHECK(seen.insert({e->module, e->name}).second);
    CHECK(!e->meaning.empty());
    CHECK(e->level != sb::log::Level::off);
    // Field lists are single-space separated keys, so `declares` and the docs table read them alike.
    CHECK(e->fields.find("  ") == std::string_view::npos);
    CHECK((e->fields.empty() || (e->fields.front() != ' ' && e->fields.back() != ' ')));
  }
  CHECK(seen.size() > 40);
}

TEST_CASE("declares matches whole field keys only") {
  sb::log::Event e{sb::log::Level::info, "m", "e", "conn hub reason", "x"};
  CHECK(sb::log::declares(e, "conn"));
  CHECK(sb::log::declares(e, "reason"));
  CHECK_FALSE(sb::log::declares(e, "con"));
  CHECK_FALSE(sb::log::declares(e, "hub reason"));
  sb::log::Event none{sb::log::Level::info, "m", "e", "", "x"};
  CHECK_FALSE(sb::log::declares(none, ""));
}

TEST_CASE("docs/logging.md lists exactly the events the gateway emits") {
  std::ifstream file(SB_DOCS_DIR "/logging.md");
  REQUIRE(file.good());
  std::stringstream text;
  text << file.rdbuf();
  // The page carries the table `switchboard --log-events` prints, verbatim. When an event changes, paste
  // the new output of `build/bin/switchboard --log-events` over the table in docs/logging.md.
  CHECK(text.str().find(sb::server::log_events_table()) != std::string::npos);
}
