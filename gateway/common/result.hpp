#pragma once
// Result<T>: a value or an error with a stable code and a message naming the field and the rule.
// Pure parsers return it instead of throwing (std::expected is C++23).
#include <string>
#include <utility>
#include <variant>

namespace sb {

struct Error {
  std::string code;     // stable, machine-readable ("invalid_json", "missing_field")
  std::string message;  // for humans: names the field and the rule ("arguments: expected an array")
  std::string detail;   // for the log only, never the client (e.g. the audience a token named)
};

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : state_(std::move(value)) {}          // NOLINT: implicit by design
  Result(Error error) : state_(std::move(error)) {}      // NOLINT

  bool ok() const { return state_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() & { return std::get<0>(state_); }
  const T& value() const& { return std::get<0>(state_); }
  T&& value() && { return std::get<0>(std::move(state_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  const Error& error() const { return std::get<1>(state_); }

 private:
  std::variant<T, Error> state_;
};

inline Error make_error(std::string code, std::string message) { return Error{std::move(code), std::move(message), {}}; }

}  // namespace sb
