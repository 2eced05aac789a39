#include "console/registry_report.hpp"

#include <algorithm>
#include <boost/asio/post.hpp>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <unordered_set>

#include "hub/hub_registry.hpp"

namespace sb::console {
namespace {

using nlohmann::json;
namespace asio = boost::asio;

// A connection as the lists show it.
struct Summary {
  std::string id, user, transport, protocol;
  long long age_seconds = 0;
  std::size_t groups = 0, queue_bytes = 0;
};

Summary summarize(const connection::Connection& c, std::chrono::steady_clock::time_point now) {
  return {c.id(),
          c.identity().user_id,
          std::string(c.transport_name().empty() ? "(detached)" : c.transport_name()),
          c.protocol() == protocol::HubProtocolKind::json ? "json" : "messagepack",
          std::chrono::duration_cast<std::chrono::seconds>(now - c.started_at()).count(),
          c.groups().size(),
          c.queued_bytes()};
}

json to_json(const Summary& s) {
  return {{"id", s.id},           {"user", s.user},     {"transport", s.transport}, {"protocol", s.protocol},
          {"ageSeconds", s.age_seconds}, {"groups", s.groups}, {"queueBytes", s.queue_bytes}};
}

// At most max_listed of `all`, oldest first.
json summaries(std::vector<Summary> all) {
  std::sort(all.begin(), all.end(), [](const Summary& a, const Summary& b) { return a.age_seconds > b.age_seconds; });
  if (all.size() > max_listed) all.resize(max_listed);
  auto out = json::array();
  for (const auto& s : all) out.push_back(to_json(s));
  return out;
}

// Distinct users over the shards' sets, exact up to max_users_counted, then summed (a user connected
// through two threads counts twice past that).
struct UserCount {
  std::unordered_set<std::string> users;
  std::size_t overflow = 0;
  void add(const std::string& user) {
    if (users.size() < max_users_counted) users.insert(user);
    else ++overflow;
  }
  std::size_t total() const { return users.size() + overflow; }
};

// Runs `collect(registry)` on every shard's thread; the last to finish merges the parts (`merge`) and
// the answer goes to `reply_on`.
template <typename Part, typename Collect, typename Merge>
void fan_in(const std::vector<ShardView>& shards, Collect collect, Merge merge, asio::any_io_executor reply_on,
            ReportDone done) {
  struct State {
    State(std::size_t n, Merge m, asio::any_io_executor r, ReportDone d)
        : left(n), merge(std::move(m)), reply_on(std::move(r)), done(std::move(d)) {}
    std::mutex mutex;
    std::vector<Part> parts;
    std::size_t left;
    Merge merge;
    asio::any_io_executor reply_on;
    ReportDone done;
  };
  auto state = std::make_shared<State>(shards.size(), std::move(merge), std::move(reply_on), std::move(done));
  for (const auto& shard : shards) {
    asio::post(shard.io, [state, registry = shard.registry, collect] {
      Part part = collect(*registry);
      {
        std::lock_guard lock(state->mutex);
        state->parts.push_back(std::move(part));
        if (--state->left != 0) return;
      }
      auto [status, body] = state->merge(std::move(state->parts));
      asio::post(state->reply_on, [done = std::move(state->done), status = status, body = std::move(body)] { done(status, body); });
    });
  }
}

std::pair<unsigned, std::string> not_found(std::string_view code, std::string_view message) {
  return {404, json{{"code", code}, {"message", message}}.dump()};
}

}  // namespace

void report_hubs(const std::vector<ShardView>& shards, asio::any_io_executor reply_on, ReportDone done) {
  struct Part {
    std::vector<hub::HubRegistry::HubCounts> counts;
    std::map<std::string, std::vector<std::string>> users;  // hub key -> user ids
    std::map<std::string, std::vector<std::string>> groups;  // hub key -> group names
  };
  fan_in<Part>(
      shards,
      [](const hub::HubRegistry& registry) {
        Part part;
        part.counts = registry.hub_counts();
        for (const auto& c : part.counts) {
          auto& users = part.users[c.hub_key];
          registry.for_each_user(c.hub_key, [&](const std::string& user) {
            if (users.size() < max_users_counted) users.push_back(user);
          });
          auto& groups = part.groups[c.hub_key];
          for (auto& [name, size] : registry.group_sizes(c.hub_key)) groups.push_back(std::move(name));
        }
        return part;
      },
      [](std::vector<Part> parts) {
        struct Hub {
          std::string name;
          std::size_t connections = 0;
          UserCount users;
          std::unordered_set<std::string> groups;
        };
        std::map<std::string, Hub> hubs;
        for (auto& part : parts) {
          for (const auto& c : part.counts) {
            auto& hub = hubs[c.hub_key];
            hub.name = c.hub;
            hub.connections += c.connections;
            for (const auto& user : part.users[c.hub_key]) hub.users.add(user);
            hub.users.overflow += c.users - part.users[c.hub_key].size();
            for (auto& g : part.groups[c.hub_key]) hub.groups.insert(std::move(g));
          }
        }
        std::vector<std::pair<std::string, Hub*>> sorted;
        for (auto& [key, hub] : hubs) sorted.emplace_back(key, &hub);
        std::sort(sorted.begin(), sorted.end(),
                  [](const auto& a, const auto& b) { return a.second->connections > b.second->connections; });
        auto list = json::array();
        for (const auto& [key, hub] : sorted)
          list.push_back({{"name", hub->name}, {"key", key}, {"connections", hub->connections},
                          {"users", hub->users.total()}, {"groups", hub->groups.size()}});
        return std::pair<unsigned, std::string>{200, json{{"hubs", std::move(list)}}.dump()};
      },
      std::move(reply_on), std::move(done));
}

void report_hub(const std::vector<ShardView>& shards, std::string hub_key, asio::any_io_executor reply_on,
                ReportDone done) {
  struct Part {
    std::string name;
    std::size_t connections = 0;
    std::vector<std::string> users;
    std::size_t more_users = 0;
    std::vector<std::pair<std::string, std::size_t>> groups;
    std::vector<Summary> listed;
  };
  fan_in<Part>(
      shards,
      [hub_key](const hub::HubRegistry& registry) {
        Part part;
        const auto now = std::chrono::steady_clock::now();
        registry.for_each_member(hub_key, "", [&](const connection::Connection& c) {
          if (part.name.empty()) part.name = c.identity().hub;
          ++part.connections;
          if (part.listed.size() < max_listed) part.listed.push_back(summarize(c, now));
        });
        registry.for_each_user(hub_key, [&](const std::string& user) {
          if (part.users.size() < max_users_counted) part.users.push_back(user);
          else ++part.more_users;
        });
        part.groups = registry.group_sizes(hub_key);
        return part;
      },
      [hub_key](std::vector<Part> parts) {
        std::string name;
        std::size_t connections = 0;
        UserCount users;
        std::map<std::string, std::size_t> groups;
        std::vector<Summary> listed;
        for (auto& part : parts) {
          if (name.empty()) name = part.name;
          connections += part.connections;
          for (const auto& user : part.users) users.add(user);
          users.overflow += part.more_users;
          for (auto& [group, size] : part.groups) groups[group] += size;
          for (auto& s : part.listed) listed.push_back(std::move(s));
        }
        if (connections == 0) return not_found("hub_not_found", "No connection of this gateway is in that hub.");
        std::vector<std::pair<std::string, std::size_t>> largest(groups.begin(), groups.end());
        std::stable_sort(largest.begin(), largest.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
        const bool truncated = listed.size() > max_listed || largest.size() > max_listed || connections > listed.size();
        auto group_list = json::array();
        for (std::size_t i = 0; i < largest.size() && i < max_listed; ++i)
          group_list.push_back({{"name", largest[i].first}, {"members", largest[i].second}});
        json body = {{"name", name},       {"key", hub_key},
                     {"connections", connections}, {"users", users.total()},
                     {"groupCount", groups.size()}, {"groups", std::move(group_list)},
                     {"connectionList", summaries(std::move(listed))}, {"truncated", truncated}};
        return std::pair<unsigned, std::string>{200, body.dump()};
      },
      std::move(reply_on), std::move(done));
}

void report_group(const std::vector<ShardView>& shards, std::string hub_key, std::string group,
                  asio::any_io_executor reply_on, ReportDone done) {
  struct Part {
    std::size_t members = 0;
    std::vector<Summary> listed;
  };
  fan_in<Part>(
      shards,
      [hub_key, group](const hub::HubRegistry& registry) {
        Part part;
        if (group.empty()) return part;
        const auto now = std::chrono::steady_clock::now();
        registry.for_each_member(hub_key, group, [&](const connection::Connection& c) {
          ++part.members;
          if (part.listed.size() < max_listed) part.listed.push_back(summarize(c, now));
        });
        return part;
      },
      [hub_key, group](std::vector<Part> parts) {
        std::size_t members = 0;
        std::vector<Summary> listed;
        for (auto& part : parts) {
          members += part.members;
          for (auto& s : part.listed) listed.push_back(std::move(s));
        }
        json body = {{"hub", hub_key},       {"group", group},
                     {"memberCount", members}, {"members", summaries(std::move(listed))},
                     {"truncated", members > max_listed}};
        return std::pair<unsigned, std::string>{200, body.dump()};
      },
      std::move(reply_on), std::move(done));
}

void report_connection(const std::vector<ShardView>& shards, std::string hub_key, std::string connection_id,
                       asio::any_io_executor reply_on, ReportDone done) {
  fan_in<std::optional<json>>(
      shards,
      [hub_key, connection_id](const hub::HubRegistry& registry) -> std::optional<json> {
        const auto* c = registry.find_connection(hub_key, connection_id);
        if (!c) return std::nullopt;
        auto s = summarize(*c, std::chrono::steady_clock::now());
        std::vector<std::string> groups(c->groups().begin(), c->groups().end());
        std::sort(groups.begin(), groups.end());
        if (groups.size() > max_listed) groups.resize(max_listed);
        return json{{"id", s.id},
                    {"hub", c->identity().hub},
                    {"user", s.user},
                    {"transport", s.transport},
                    {"protocol", s.protocol},
                    {"groups", groups},
                    {"queueBytes", s.queue_bytes},
                    {"ageSeconds", s.age_seconds},
                    {"statefulReconnect", c->can_resume()},
                    {"detached", c->is_detached()},
                    {"pendingEvents", c->unanswered_events()},
                    {"tokenExpiresAt", c->identity().token_expires_at}};
      },
      [](std::vector<std::optional<json>> parts) {
        for (auto& part : parts)
          if (part) return std::pair<unsigned, std::string>{200, part->dump()};
        return not_found("connection_not_found", "This gateway holds no connection with that id in that hub.");
      },
      std::move(reply_on), std::move(done));
}

}  // namespace sb::console
