// switchboard: wires the configuration into a Gateway and runs it. Nothing else lives here.
#include <cstdio>

#include "common/log.hpp"
#include "common/metrics.hpp"
#include "config/config.hpp"
#include "server/gateway.hpp"
#include "server/log_catalog.hpp"
#include "tracing/otlp_exporter.hpp"

extern char** environ;

int main(int argc, char** argv) {
  auto loaded = sb::config::load_config(argc, argv, environ);
  if (loaded.status == sb::config::LoadStatus::help_shown) {
    std::fputs(sb::config::help_text().c_str(), stdout);
    return 0;
  }
  if (loaded.status == sb::config::LoadStatus::help_markdown_shown) {
    // docs/configuration.md carries both tables verbatim.
    auto text = "## Options\n\n" + sb::config::options_markdown() + "\n## Metrics\n\n" + sb::metrics_markdown();
    std::fputs(text.c_str(), stdout);
    return 0;
  }
  if (loaded.status == sb::config::LoadStatus::version_shown) {
    std::puts("switchboard " SB_VERSION);
    return 0;
  }
  if (loaded.status == sb::config::LoadStatus::log_events_shown) {
    std::fputs(sb::server::log_events_table().c_str(), stdout);
    return 0;
  }
  if (!loaded.errors.empty()) {
    for (const auto& e : loaded.errors) std::fprintf(stderr, "switchboard: %s\n", e.c_str());
    std::fputs("switchboard: see --help\n", stderr);
    return 2;
  }
  sb::log::Level level;
  if (sb::log::parse_level(loaded.config.log_level, level)) sb::log::set_level(level);
  if (!loaded.config.server.otlp_endpoint.empty())
    sb::tracing::start_export(*sb::parse_url(loaded.config.server.otlp_endpoint));
  int status = 0;
  {
    sb::server::Gateway gateway(loaded.config, SB_VERSION);
    status = gateway.run();
  }
  sb::tracing::stop_export();  // the spans of the last requests
  return status;
}
