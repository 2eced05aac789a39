#include "protocol/raw_json.hpp"

#include <nlohmann/json.hpp>

#include "common/ascii.hpp"

namespace sb::protocol {
namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

void skip_space(std::string_view text, std::size_t& at) {
  while (at < text.size() && is_space(text[at])) ++at;
}

// Past the string that starts at `at` (a '"'); npos when it never ends.
std::size_t string_end(std::string_view text, std::size_t at) {
  for (++at; at < text.size(); ++at) {
    if (text[at] == '\\') ++at;
    else if (text[at] == '"') return at + 1;
  }
  return std::string_view::npos;
}

// Past the value that starts at `at`; npos when it is cut short or its brackets don't pair.
std::size_t value_end(std::string_view text, std::size_t at) {
  if (at >= text.size()) return std::string_view::npos;
  char first = text[at];
  if (first == '"') return string_end(text, at);
  if (first == '{' || first == '[') {
    std::string closers;  // the brackets still open, innermost last
    while (at < text.size()) {
      char c = text[at];
      if (c == '"') {
        at = string_end(text, at);
        if (at == std::string_view::npos) return at;
        continue;
      }
      if (c == '{') closers += '}';
      else if (c == '[') closers += ']';
      else if (c == '}' || c == ']') {
        if (closers.empty() || closers.back() != c) return std::string_view::npos;
        closers.pop_back();
        if (closers.empty()) return at + 1;
      }
      ++at;
    }
    return std::string_view::npos;
  }
  // A number or a literal: up to the next delimiter.
  std::size_t end = at;
  while (end < text.size() && !is_space(text[end]) && text[end] != ',' && text[end] != ']' && text[end] != '}') ++end;
  return end == at ? std::string_view::npos : end;
}

// Runs `on_item` for each item of the container opening at text[0] (`open`, closed by `close`); false
// when the structure is broken or anything follows the container.
template <typename OnItem>
bool for_each_item(std::string_view text, char open, char close, OnItem on_item) {
  std::size_t at = 0;
  skip_space(text, at);
  if (at >= text.size() || text[at] != open) return false;
  ++at;
  skip_space(text, at);
  if (at < text.size() && text[at] == close) {
    ++at;
  } else {
    while (true) {
      if (!on_item(at)) return false;
      skip_space(text, at);
      if (at >= text.size()) return false;
      if (text[at] == close) {
        ++at;
        break;
      }
      if (text[at] != ',') return false;
      ++at;
      skip_space(text, at);
    }
  }
  skip_space(text, at);
  return at == text.size();
}

std::optional<std::string_view> read_value(std::string_view text, std::size_t& at) {
  auto end = value_end(text, at);
  if (end == std::string_view::npos) return std::nullopt;
  auto value = text.substr(at, end - at);
  at = end;
  return value;
}

}  // namespace

std::optional<std::vector<RawMember>> raw_object_members(std::string_view text) {
  std::vector<RawMember> members;
  bool ok = for_each_item(text, '{', '}', [&](std::size_t& at) {
    if (at >= text.size() || text[at] != '"') return false;
    auto key_end = string_end(text, at);
    if (key_end == std::string_view::npos) return false;
    auto raw_key = text.substr(at, key_end - at);
    RawMember member;
    if (raw_key.find('\\') == std::string_view::npos) {
      member.key.assign(raw_key.substr(1, raw_key.size() - 2));
    } else {
      auto decoded = nlohmann::json::parse(raw_key, nullptr, /*allow_exceptions=*/false);
      if (!decoded.is_string()) return false;
      member.key = decoded.get<std::string>();
    }
    at = key_end;
    skip_space(text, at);
    if (at >= text.size() || text[at] != ':') return false;
    ++at;
    skip_space(text, at);
    auto value = read_value(text, at);
    if (!value) return false;
    member.value = *value;
    members.push_back(std::move(member));
    return true;
  });
  if (!ok) return std::nullopt;
  return members;
}

std::optional<std::vector<std::string_view>> raw_array_elements(std::string_view text) {
  std::vector<std::string_view> elements;
  bool ok = for_each_item(text, '[', ']', [&](std::size_t& at) {
    auto value = read_value(text, at);
    if (!value) return false;
    elements.push_back(*value);
    return true;
  });
  if (!ok) return std::nullopt;
  return elements;
}

std::optional<std::string_view> raw_member(std::string_view object_text, std::string_view key, bool ignore_case) {
  auto members = raw_object_members(object_text);
  if (!members) return std::nullopt;
  std::optional<std::string_view> found;
  for (const auto& member : *members)
    if (ignore_case ? iequals(member.key, key) : member.key == key) found = member.value;
  return found;
}

}  // namespace sb::protocol
