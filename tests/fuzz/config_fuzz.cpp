// libFuzzer target for the configuration (config/config.hpp): command-line flags, SWITCHBOARD_*
// environment variables and the JSON config file. The first byte picks the source; the rest is split at
// NUL bytes into arguments (or environment entries), or written as the config file.
// Properties: never crashes or throws; a configuration loaded without errors satisfies the checks
// load_config promises (an access key, threads >= 1, client timeout above the keep-alive interval,
// TLS files both or neither, a spread within the shutdown timeout).
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"

using namespace sb::config;

namespace {

std::vector<std::string> split_at_nul(std::string_view text) {
  std::vector<std::string> out;
  while (!text.empty()) {
    auto nul = text.find('\0');
    out.emplace_back(text.substr(0, nul));
    if (nul == std::string_view::npos) break;
    text.remove_prefix(nul + 1);
  }
  return out;
}

// A --config naming a fuzzed path could read /dev/zero forever: files come only from the file mode.
bool names_a_file(std::string_view entry) {
  return entry.find("config") != std::string_view::npos || entry.find("CONFIG") != std::string_view::npos;
}

const std::string& file_path() {
  static const std::string path = "/tmp/switchboard_config_fuzz_" + std::to_string(::getpid()) + ".json";
  return path;
}

void check(const LoadResult& result) {
  if (result.status != LoadStatus::run || !result.errors.empty()) return;
  const Config& c = result.config;
  if (c.access_keys.empty() || c.server.threads == 0) std::abort();
  if (c.connection.client_timeout <= c.connection.keepalive_interval) std::abort();
  if (c.server.tls_cert_file.empty() != c.server.tls_key_file.empty()) std::abort();
  if (c.shutdown.mode == ShutdownMode::reconnect && c.shutdown.spread > c.shutdown.timeout) std::abort();
  if (c.server.request_timeout.count() <= 0) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  std::vector<std::string> args{"switchboard"};
  std::vector<std::string> env;
  switch (data[0] % 3) {
    case 0:
      for (auto& a : split_at_nul(input))
        if (!names_a_file(a)) args.push_back(std::move(a));
      break;
    case 1:
      for (auto& e : split_at_nul(input))
        if (!names_a_file(e)) env.push_back("SWITCHBOARD_" + e);
      break;
    default:
      std::ofstream(file_path(), std::ios::binary | std::ios::trunc) << input;
      args.push_back("--config");
      args.push_back(file_path());
      break;
  }
  std::vector<const char*> argv;
  for (const auto& a : args) argv.push_back(a.c_str());
  argv.push_back(nullptr);
  std::vector<const char*> envp;
  for (const auto& e : env) envp.push_back(e.c_str());
  envp.push_back(nullptr);
  check(load_config(static_cast<int>(args.size()), argv.data(), envp.data()));
  help_text();
  return 0;
}
