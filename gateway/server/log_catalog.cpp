#include "server/log_catalog.hpp"

#include "backplane/backplane_log.hpp"
#include "connection/connection_log.hpp"
#include "console/console_log.hpp"
#include "http/http_log.hpp"
#include "server/server_log.hpp"
#include "tracing/tracing_log.hpp"
#include "upstream/upstream_log.hpp"

namespace sb::server {

std::vector<const log::Event*> all_log_events() {
  std::vector<const log::Event*> events;
  for (auto table : {std::span<const log::Event* const>(log_events::all), std::span<const log::Event* const>(http::log_events::all),
                     std::span<const log::Event* const>(connection::log_events::all),
                     std::span<const log::Event* const>(upstream::log_events::all),
                     std::span<const log::Event* const>(backplane::log_events::all),
                     std::span<const log::Event* const>(tracing::log_events::all),
                     std::span<const log::Event* const>(console::log_events::all)})
    events.insert(events.end(), table.begin(), table.end());
  return events;
}

std::string log_events_table() {
  std::string out = "| module | event | level | fields | meaning |\n|---|---|---|---|---|\n";
  for (const auto* e : all_log_events()) {
    std::string fields;
    std::string_view rest = e->fields;
    while (!rest.empty()) {
      auto space = rest.find(' ');
      if (!fields.empty()) fields += ", ";
      fields += "`" + std::string(rest.substr(0, space)) + "`";
      rest = space == std::string_view::npos ? std::string_view() : rest.substr(space + 1);
    }
    std::string meaning(e->meaning);
    if (e->throttle) {
      if (!fields.empty()) fields += ", ";
      fields += "`skipped`";
      meaning += " At most one line every " + std::to_string(e->throttle->interval().count()) +
                 " ms; `skipped` counts the lines dropped before it.";
    }
    out += "| `" + std::string(e->module) + "` | `" + std::string(e->name) + "` | " + std::string(log::to_string(e->level)) +
           " | " + fields + " | " + meaning + " |\n";
  }
  return out;
}

}  // namespace sb::server
