#include "config/upstream_rule.hpp"

#include "common/ascii.hpp"
#include "common/url.hpp"

namespace sb::config {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

constexpr std::string_view placeholders[] = {"{hub}", "{category}", "{event}"};

}  // namespace

bool NamePattern::matches(std::string_view name) const {
  if (any) return true;
  for (const auto& n : names)
    if (iequals(n, name)) return true;
  return false;
}

Result<NamePattern> NamePattern::parse(std::string_view text) {
  text = trim(text);
  NamePattern pattern;
  if (text.empty() || text == "*") return pattern;
  pattern.any = false;
  while (true) {
    auto comma = text.find(',');
    auto item = trim(text.substr(0, comma));
    if (item.empty()) return make_error("invalid_pattern", "empty name in the list '" + std::string(text) + "'");
    if (item == "*") return NamePattern{};
    pattern.names.emplace_back(item);
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return pattern;
}

bool UpstreamRule::matches(std::string_view hub, std::string_view category, std::string_view event) const {
  return hubs.matches(hub) && categories.matches(category) && events.matches(event);
}

std::string escape_data_string(std::string_view value) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(value.size());
  for (unsigned char c : value) {
    bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
                      c == '.' || c == '_' || c == '~';
    if (unreserved) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

namespace {

// A placeholder's value as one path segment: a value of "." or ".." would be a dot segment, which
// servers that normalise paths resolve (`/api/chat/../handler` reaches `/api/handler`, with the function
// key in the query): its dots are percent-encoded too, which EscapeDataString leaves alone.
std::string escape_placeholder(std::string_view value) {
  if (value == ".") return "%2E";
  if (value == "..") return "%2E%2E";
  return escape_data_string(value);
}

}  // namespace

std::string UpstreamRule::expand(std::string_view hub, std::string_view category, std::string_view event) const {
  std::string out;
  out.reserve(url_template.size() + hub.size() + event.size());
  std::string_view rest = url_template;
  while (!rest.empty()) {
    auto brace = rest.find('{');
    out += rest.substr(0, brace);
    if (brace == std::string_view::npos) break;
    rest.remove_prefix(brace);
    if (istarts_with(rest, "{hub}")) {
      out += escape_placeholder(hub);
      rest.remove_prefix(5);
    } else if (istarts_with(rest, "{category}")) {
      out += escape_placeholder(category);
      rest.remove_prefix(10);
    } else if (istarts_with(rest, "{event}")) {
      out += escape_placeholder(event);
      rest.remove_prefix(7);
    } else {
      out += '{';
      rest.remove_prefix(1);
    }
  }
  return out;
}

Result<bool> validate_url_template(std::string_view url) {
  auto authority_end = url.find_first_of("/?#", url.find("://") == std::string_view::npos ? 0 : url.find("://") + 3);
  if (url.substr(0, authority_end).find('{') != std::string_view::npos)
    return make_error("invalid_url", "'" + std::string(url) + "' has no host (placeholders are not allowed in the host)");
  for (std::size_t i = url.find('{'); i != std::string_view::npos; i = url.find('{', i + 1)) {
    bool known = false;
    for (auto p : placeholders) known = known || istarts_with(url.substr(i), p);
    if (!known)
      return make_error("invalid_url", "'" + std::string(url) + "': only {hub}, {category} and {event} may be used");
  }
  // Placeholders expand to percent-encoded names, so the template parses as the URLs it makes will.
  auto parsed = parse_url(url);
  if (!parsed) return parsed.error();
  if (parsed->scheme != "http" && parsed->scheme != "https")
    return make_error("invalid_url", "'" + std::string(url) + "' is not an absolute http:// or https:// URL");
  return true;
}

Result<UpstreamRule> UpstreamRule::from_parts(std::string_view url_template, std::string_view hub_pattern,
                                              std::string_view category_pattern, std::string_view event_pattern) {
  url_template = trim(url_template);
  auto valid = validate_url_template(url_template);
  if (!valid) return valid.error();
  UpstreamRule rule;
  rule.url_template = std::string(url_template);
  auto hubs = NamePattern::parse(hub_pattern);
  if (!hubs) return hubs.error();
  auto categories = NamePattern::parse(category_pattern);
  if (!categories) return categories.error();
  auto events = NamePattern::parse(event_pattern);
  if (!events) return events.error();
  rule.hubs = *hubs;
  rule.categories = *categories;
  rule.events = *events;
  return rule;
}

Result<UpstreamRule> UpstreamRule::parse(std::string_view text) {
  text = trim(text);
  bool rule_form = istarts_with(text, "hub=") || istarts_with(text, "category=") ||
                   istarts_with(text, "event=") || istarts_with(text, "url=");
  if (!rule_form) return from_parts(text, "*", "*", "*");

  std::string_view url, hub = "*", category = "*", event = "*";
  while (!text.empty()) {
    // url= comes last by convention but may hold ';' in its query, so it takes the rest of the text.
    if (istarts_with(text, "url=")) {
      url = text.substr(4);
      break;
    }
    auto semicolon = text.find(';');
    auto item = trim(text.substr(0, semicolon));
    auto eq = item.find('=');
    if (eq == std::string_view::npos)
      return make_error("invalid_rule", "'" + std::string(item) + "': expected key=value");
    auto key = trim(item.substr(0, eq));
    auto value = item.substr(eq + 1);
    if (iequals(key, "hub")) hub = value;
    else if (iequals(key, "category")) category = value;
    else if (iequals(key, "event")) event = value;
    else return make_error("invalid_rule", "unknown key '" + std::string(key) + "' (hub, category, event, url)");
    if (semicolon == std::string_view::npos) break;
    text = trim(text.substr(semicolon + 1));
  }
  if (url.empty()) return make_error("invalid_rule", "the rule has no url=");
  return from_parts(url, hub, category, event);
}

}  // namespace sb::config
