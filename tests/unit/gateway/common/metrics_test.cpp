#include "common/metrics.hpp"

#include <doctest/doctest.h>

#include <fstream>
#include <memory>
#include <sstream>
#include <string>

TEST_CASE("the metrics table has one row per family /metrics serves, with its type and help") {
  auto table = sb::metrics_markdown();
  CHECK(table.rfind("| metric | type | meaning |\n|---|---|---|\n", 0) == 0);
  auto exposition = std::make_unique<sb::Metrics>()->render();
  std::istringstream lines(exposition);
  std::size_t families = 0;
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("# TYPE ", 0) != 0) continue;
    auto name = line.substr(7, line.find(' ', 7) - 7);
    auto type = line.substr(line.find(' ', 7) + 1);
    CAPTURE(name);
    CHECK(table.find("| `" + name + "` | " + type + " | ") != std::string::npos);
    ++families;
  }
  CHECK(families > 30);
  std::size_t rows = 0;
  for (std::size_t at = table.find("\n| `"); at != std::string::npos; at = table.find("\n| `", at + 1)) ++rows;
  CHECK(rows == families);
  CHECK(table.find("| `switchboard_disconnects_total` | counter | Connections ended, by reason. |") !=
        std::string::npos);
  CHECK(table.find("| `switchboard_upstream_request_duration_seconds` | histogram | ") != std::string::npos);
}

TEST_CASE("docs/configuration.md carries the metrics table that --help --format markdown prints") {
  std::ifstream file(SB_DOCS_DIR "/configuration.md");
  REQUIRE(file.good());
  std::stringstream text;
  text << file.rdbuf();
  // When a metric changes, paste the "## Metrics" table of `build/bin/switchboard --help --format markdown`
  // over the one in docs/configuration.md.
  CHECK(text.str().find(sb::metrics_markdown()) != std::string::npos);
}

TEST_CASE("a labelled histogram writes one series per label value, the label before le") {
  sb::HistogramFamily family("x_seconds", "Latency.", "route", {0.01, 1});
  family.with("http://a/up").observe(std::chrono::milliseconds(5));
  family.with("http://a/up").observe(std::chrono::milliseconds(500));
  family.with("http://b/\"q\"").observe(std::chrono::seconds(2));
  std::string out;
  family.render(out);
  CHECK(out.find("# TYPE x_seconds histogram\n") == out.find("# TYPE"));
  CHECK(out.find("x_seconds_bucket{route=\"http://a/up\",le=\"0.01\"} 1\n") != std::string::npos);
  CHECK(out.find("x_seconds_bucket{route=\"http://a/up\",le=\"1\"} 2\n") != std::string::npos);
  CHECK(out.find("x_seconds_count{route=\"http://a/up\"} 2\n") != std::string::npos);
  CHECK(out.find("x_seconds_bucket{route=\"http://b/\\\"q\\\"\",le=\"+Inf\"} 1\n") != std::string::npos);
  CHECK(out.find("x_seconds_sum{route=\"http://b/\\\"q\\\"\"} 2.000000000\n") != std::string::npos);
}
