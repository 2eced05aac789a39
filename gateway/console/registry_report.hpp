#pragma once
// What the operator console shows of this gateway's hubs, groups and connections: each shard's slice
// of the hub registry is read on its own thread (a post to each), and the parts are merged into one
// JSON answer. Lists are bounded (the largest groups, a page of connections): a console must not make
// a gateway with a million connections copy them all.
#include <boost/asio/any_io_executor.hpp>
#include <functional>
#include <string>
#include <vector>

namespace sb::hub {
class HubRegistry;
}

namespace sb::console {

struct ShardView {
  boost::asio::any_io_executor io;
  const hub::HubRegistry* registry;  // read on `io` only
};

// An answer: HTTP status and JSON body.
using ReportDone = std::function<void(unsigned status, std::string body)>;

constexpr std::size_t max_listed = 200;  // groups, connections or members in one answer
constexpr std::size_t max_users_counted = 100'000;  // distinct users are counted exactly up to here

// {"hubs":[{"name","key","connections","users","groups"}]}, largest first.
void report_hubs(const std::vector<ShardView>& shards, boost::asio::any_io_executor reply_on, ReportDone done);
// {"name","connections","users","groups":[{"name","members"}],"connectionList":[…],"truncated"}; 404 when
// no connection of this gateway is in the hub.
void report_hub(const std::vector<ShardView>& shards, std::string hub_key, boost::asio::any_io_executor reply_on,
                ReportDone done);
// {"hub","group","members":[…],"truncated"}.
void report_group(const std::vector<ShardView>& shards, std::string hub_key, std::string group,
                  boost::asio::any_io_executor reply_on, ReportDone done);
// One connection's details; 404 {"code":"connection_not_found"} when this gateway doesn't hold it.
void report_connection(const std::vector<ShardView>& shards, std::string hub_key, std::string connection_id,
                       boost::asio::any_io_executor reply_on, ReportDone done);

}  // namespace sb::console
