// libFuzzer target for upstream rule parsing and URL expansion (PROTOCOL.md part 2 §2.1).
// Properties: never crashes; an accepted rule's template is an http:// URL whose expansion is one
// too, with no placeholder left; escape_data_string writes only unreserved characters and %XX.
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include <strings.h>

#include "config/upstream_rule.hpp"

using namespace sb::config;

namespace {

bool contains_icase(std::string_view haystack, std::string_view needle) {
  for (std::size_t i = 0; i + needle.size() <= haystack.size(); ++i)
    if (strncasecmp(haystack.data() + i, needle.data(), needle.size()) == 0) return true;
  return false;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);

  auto rule = UpstreamRule::parse(input);
  // An accepted template, and every URL it makes, is http:// or https://.
  auto is_http = [](const std::string& text) {
    return strncasecmp(text.c_str(), "http://", 7) == 0 || strncasecmp(text.c_str(), "https://", 8) == 0;
  };
  if (rule.ok()) {
    if (!is_http(rule->url_template)) std::abort();
    auto url = rule->expand("Chat Hub/{hub}", "messages", "send {event} %");
    if (!is_http(url)) std::abort();
    for (std::string_view placeholder : {"{hub}", "{category}", "{event}"})
      if (contains_icase(url, placeholder)) std::abort();
    (void)rule->matches(input, "messages", input);
  }

  auto pattern = NamePattern::parse(input);
  if (pattern.ok() && !pattern->any)
    for (const auto& name : pattern->names)
      if (name.empty() || !pattern->matches(name)) std::abort();

  auto escaped = escape_data_string(input);
  for (std::size_t i = 0; i < escaped.size(); ++i) {
    char c = escaped[i];
    bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
                      c == '.' || c == '_' || c == '~';
    if (c == '%') {
      if (i + 2 >= escaped.size() || !std::isxdigit(static_cast<unsigned char>(escaped[i + 1])) ||
          !std::isxdigit(static_cast<unsigned char>(escaped[i + 2])))
        std::abort();
      i += 2;
    } else if (!unreserved) {
      std::abort();
    }
  }
  return 0;
}
