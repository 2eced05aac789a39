#pragma once
// The Lua scripts that change and read the fleet's state in Redis (keys: redis_keys.hpp). A script runs
// atomically, so a membership change and the PUBLISH of its action happen as one step, and a reaper's
// claim on a dead gateway's lease is taken by exactly one gateway. Each takes the key prefix as
// ARGV[1]; the rest of its arguments are listed beside it in redis_scripts.cpp.
#include <string>

namespace sb::backplane::scripts {

const std::string& register_connection();    // the connection and its groups; returns the user's memberships
const std::string& unregister_connection();  // removes it from every membership
const std::string& membership();             // applies a MembershipAction, publishes it; returns matched
const std::string& remove_from_all_groups(); // applies a RemoveFromAllGroupsAction, publishes it; returns matched
const std::string& renew_lease();            // returns 1 when the lease was absent (first, or reaped)
const std::string& reap_one();               // one expired gateway: {gateway, identity…}, or {}
const std::string& leave();                  // this gateway stops: its connections and lease go
const std::string& exists();                 // connection/user/group/user_in_group: 1 or 0
const std::string& list();                   // a presence page: {count, id, detail, id, detail…}

}  // namespace sb::backplane::scripts
