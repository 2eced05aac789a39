// The runtime's log: one line per event on stderr, "level functions event key=value ..."
// (docs/functions.md, Errors and logs).
#pragma once

#include <string>
#include <string_view>

namespace switchboard::detail {

// A field value: quoted, with quotes and backslashes escaped, control characters replaced by '?'
// and the length bounded, so a client's text can neither forge a line nor flood the log.
std::string log_value(std::string_view value);

// Writes the line and a newline with one call, so lines from pool threads don't interleave.
void write_log_line(std::string_view line);

}  // namespace switchboard::detail
