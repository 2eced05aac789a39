#pragma once
// load_config from argument and environment lists, and reading its errors: shared by the config tests.
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"

namespace sb::config::test {

// argv and environ arrays built in the test (argv[0] is the program name).
inline LoadResult load(std::vector<std::string> args, std::vector<std::string> env = {}) {
  std::vector<const char*> argv{"switchboard"};
  for (const auto& a : args) argv.push_back(a.c_str());
  argv.push_back(nullptr);
  std::vector<const char*> envp;
  for (const auto& e : env) envp.push_back(e.c_str());
  envp.push_back(nullptr);
  return load_config(static_cast<int>(argv.size() - 1), argv.data(), envp.data());
}

inline bool has_error_containing(const LoadResult& r, std::string_view text) {
  for (const auto& e : r.errors)
    if (e.find(text) != std::string::npos) return true;
  return false;
}

inline std::string all_errors(const LoadResult& r) {
  std::string out;
  for (const auto& e : r.errors) out += e + "\n";
  return out;
}

}  // namespace sb::config::test
