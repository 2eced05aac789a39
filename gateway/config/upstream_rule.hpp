#pragma once
// One upstream setting (PROTOCOL.md part 2 §2.1, part 3 §3.1): which events it matches and where they go.
// Parsed from a bare URL template, the rule form "hub=…;category=…;event=…;url=…", or the Azure
// emulator's UpstreamSettings.Templates[] item. Pure.
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"

namespace sb::tls_client {
class ClientTlsContext;
}

namespace sb::config {

// "*" (any), a trimmed comma list, or one exact name. Compared case-insensitively (see docs/compatibility.md).
struct NamePattern {
  bool any = true;
  std::vector<std::string> names;

  bool matches(std::string_view name) const;
  static Result<NamePattern> parse(std::string_view text);
};

struct UpstreamRule {
  NamePattern hubs, categories, events;
  std::string url_template;  // absolute http:// or https:// URL with optional {hub}, {category}, {event}
  // https:// templates: the TLS client settings of the calls made from this rule (--upstream-ca and the
  // client certificate), the one context load_config builds for the process; parse() leaves it null.
  // It travels with the rule so that every request built from it carries it to the HTTP client.
  std::shared_ptr<const tls_client::ClientTlsContext> tls;

  bool matches(std::string_view hub, std::string_view category, std::string_view event) const;
  // The URL for one event: each placeholder replaced by its percent-encoded value (Uri.EscapeDataString),
  // and a value of "." or ".." as %2E or %2E%2E: a client's target never makes a dot segment.
  std::string expand(std::string_view hub, std::string_view category, std::string_view event) const;

  static Result<UpstreamRule> parse(std::string_view text);
  static Result<UpstreamRule> from_parts(std::string_view url_template, std::string_view hub_pattern,
                                         std::string_view category_pattern, std::string_view event_pattern);
};

// Validates a URL template: http(s)://host[:port]/path, placeholders limited to {hub}, {category}, {event}.
Result<bool> validate_url_template(std::string_view url_template);

// Percent-encodes everything but RFC 3986 unreserved characters, as .NET's Uri.EscapeDataString.
std::string escape_data_string(std::string_view value);

}  // namespace sb::config
