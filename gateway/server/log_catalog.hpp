#pragma once
// Every log event of every module, for `switchboard --log-events` and docs/logging.md (a unit test
// keeps the two equal).
#include <span>
#include <string>
#include <vector>

#include "common/log.hpp"

namespace sb::server {

std::vector<const log::Event*> all_log_events();

// One Markdown table: module, event, level, fields, meaning.
std::string log_events_table();

}  // namespace sb::server
