#include "console/console_api.hpp"

#include <boost/asio/post.hpp>
#include <nlohmann/json.hpp>

#include "backplane/backplane.hpp"
#include "console/fleet_history.hpp"
#include "console/stats_sampler.hpp"
#include "console/trace_filter_codec.hpp"
#include "http/url_query.hpp"
#include "hub/hub_name.hpp"
#include "hub/message_encoding.hpp"

namespace sb::console {
namespace {

using nlohmann::json;
namespace asio = boost::asio;
using Done = std::function<void(ApiAnswer)>;

ApiAnswer error(unsigned status, std::string_view code, std::string_view message) {
  return {status, json{{"code", code}, {"message", message}}.dump()};
}

void post_answer(const asio::any_io_executor& reply_on, Done done, ApiAnswer answer) {
  asio::post(reply_on, [done = std::move(done), answer = std::move(answer)]() mutable { done(std::move(answer)); });
}

// A JSON array text of samples, checked to be one (Redis's copies are signed, but a console answer
// must stay valid JSON whatever it holds).
json parsed_samples(const std::vector<std::string>& samples) {
  auto out = json::array();
  for (const auto& text : samples) {
    auto sample = json::parse(text, nullptr, false);
    if (!sample.is_discarded() && sample.is_object()) out.push_back(std::move(sample));
  }
  return out;
}

std::string string_field(const json& body, const char* key) {
  auto it = body.find(key);
  return it != body.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

ConsoleApi::ConsoleApi(ConsoleServices services)
    : services_(std::move(services)),
      peer_watches_(std::make_shared<PeerTraceWatches>(services_.executor, services_.gateway_id)) {}

std::shared_ptr<FleetTraceFeed> ConsoleApi::fleet_trace(asio::any_io_executor executor, TraceFilter filter,
                                                        FleetTraceFeed::Deliver deliver) {
  if (!services_.backplane || services_.backplane->gateway_id().empty()) return nullptr;  // no fleet
  auto feed = std::make_shared<FleetTraceFeed>(executor, *services_.backplane, services_.gateway_id, std::move(filter),
                                               std::move(deliver));
  feed->start();
  return feed;
}

void ConsoleApi::answer(bool is_post, std::string_view route, std::string_view query, std::string body, bool relayed,
                        asio::any_io_executor reply_on, Done done) {
  auto params = http::parse_query(query);
  if (!params) return post_answer(reply_on, std::move(done), error(400, "invalid_query", "The query has a malformed escape."));
  auto param = [&](std::string_view name) { return http::query_value(*params, name).value_or(""); };
  const std::string gateway = param("gateway");

  if (!is_post && route == "fleet") return fleet(std::move(reply_on), std::move(done));
  if (is_post && relayed && (route == "trace-poll" || route == "trace-unwatch")) {
    // Another gateway's viewer of a fleet-wide trace (fleet_trace_feed.hpp): on the console's executor.
    auto request = decode_peer_watch(body);
    if (!request) return post_answer(reply_on, std::move(done), error(400, "invalid_body", "Expected {\"watch\":…}."));
    return asio::post(services_.executor, [watches = peer_watches_, is_poll = route == "trace-poll",
                                           request = std::move(*request), reply_on, done = std::move(done)]() mutable {
      if (!is_poll) {
        watches->unwatch(request.watch_id);
        return post_answer(reply_on, std::move(done), {200, ""});
      }
      watches->poll(request.watch_id, std::move(request.filter),
                    [reply_on, done = std::move(done)](unsigned status, std::string lines) mutable {
                      if (status != 200) lines = error(status, "too_many_watches", "This gateway has too many trace viewers.").body;
                      post_answer(reply_on, std::move(done), {status, std::move(lines)});
                    });
    });
  }
  if (!is_post && route == "history") return history(gateway, std::move(reply_on), std::move(done));
  if (is_post && (route == "close-connection" || route == "close-group" || route == "send"))
    return action(route, body, std::move(reply_on), std::move(done));

  const bool is_local_question =
      !is_post && (route == "hubs" || route == "hub" || route == "group" || route == "connection");
  const bool is_drain = is_post && route == "drain";
  if (!is_local_question && !is_drain) return post_answer(reply_on, std::move(done), error(404, "not_found", "No such console API."));

  std::string target_gateway = gateway;
  if (is_drain) {
    auto parsed = json::parse(body, nullptr, false);
    if (parsed.is_discarded() || !parsed.is_object())
      return post_answer(reply_on, std::move(done), error(400, "invalid_body", "Expected a JSON object {\"gateway\"}."));
    target_gateway = string_field(parsed, "gateway");
  }
  if (!target_gateway.empty() && target_gateway != services_.gateway_id) {
    if (relayed) return post_answer(reply_on, std::move(done), error(404, "gateway_not_found", "Not this gateway."));
    // Another gateway's question: it answers through Redis.
    backplane::FollowUp request;
    request.kind = backplane::RelayKind::console;
    request.connection_id = std::string(is_post ? "POST " : "GET ") + std::string(route) + "?" + std::string(query);
    request.body = std::move(body);
    services_.backplane->relay_to_gateway(
        target_gateway, std::move(request), reply_on, [done = std::move(done)](std::optional<backplane::FollowUpAnswer> a) {
          if (!a) return done(error(404, "gateway_not_found", "No gateway of the fleet has that id."));
          done({a->status, std::move(a->body)});
        });
    return;
  }
  if (is_drain) {
    if (services_.drain) services_.drain();
    return post_answer(reply_on, std::move(done), {202, json{{"gateway", services_.gateway_id}, {"draining", true}}.dump()});
  }
  auto with_gateway = [done = std::move(done), id = services_.gateway_id](unsigned status, std::string text) {
    // Each answer names the gateway it describes.
    auto parsed = json::parse(text, nullptr, false);
    if (status == 200 && parsed.is_object()) {
      parsed["gateway"] = id;
      text = parsed.dump();
    }
    done({status, std::move(text)});
  };
  const auto hub_key = hub::hub_key_of(param("hub"));
  if (route == "hubs") return report_hubs(services_.shards, std::move(reply_on), std::move(with_gateway));
  if (hub_key.empty()) {
    return asio::post(reply_on, [with_gateway = std::move(with_gateway)]() mutable {
      auto e = error(400, "invalid_hub", "\"hub\" is required.");
      with_gateway(e.status, std::move(e.body));
    });
  }
  if (route == "hub") return report_hub(services_.shards, hub_key, std::move(reply_on), std::move(with_gateway));
  if (route == "group")
    return report_group(services_.shards, hub_key, param("group"), std::move(reply_on), std::move(with_gateway));
  report_connection(services_.shards, hub_key, param("id"), std::move(reply_on), std::move(with_gateway));
}

void ConsoleApi::fleet(asio::any_io_executor reply_on, Done done) {
  const auto self = services_.gateway_id;
  const auto redis = services_.redis_state ? services_.redis_state() : std::string("off");
  auto local = json::parse(services_.sampler->latest(), nullptr, false);
  auto self_entry = [self, local] {
    json entry = {{"id", self}, {"self", true}, {"sample", local.is_discarded() ? json() : local}};
    if (local.is_object()) {
      entry["version"] = local.value("version", "");
      entry["startedAt"] = local.value("startedAt", 0LL);
      entry["draining"] = local.value("draining", false);
    }
    return entry;
  };
  services_.backplane->read_console_samples(
      true, reply_on, [self, redis, self_entry, done = std::move(done)](std::optional<backplane::Backplane::ConsoleSamples> all) {
        auto gateways = json::array();
        gateways.push_back(self_entry());
        if (all)
          for (const auto& [id, samples] : *all) {
            if (id == self) continue;
            auto parsed = parsed_samples(samples);
            json entry = {{"id", id}, {"self", false}, {"sample", parsed.empty() ? json() : parsed.back()}};
            if (!parsed.empty()) {
              entry["version"] = parsed.back().value("version", "");
              entry["startedAt"] = parsed.back().value("startedAt", 0LL);
              entry["draining"] = parsed.back().value("draining", false);
            }
            gateways.push_back(std::move(entry));
          }
        done({200, json{{"self", self}, {"redis", redis}, {"gateways", std::move(gateways)}}.dump()});
      });
}

void ConsoleApi::history(const std::string& gateway, asio::any_io_executor reply_on, Done done) {
  if (gateway.empty() || gateway == services_.gateway_id)
    return post_answer(reply_on, std::move(done), {200, "{\"intervalMs\":1000,\"samples\":" + services_.sampler->history() + "}"});
  services_.backplane->read_console_samples(
      false, reply_on,
      [gateway, self = services_.gateway_id, local = services_.sampler->history(),
       done = std::move(done)](std::optional<backplane::Backplane::ConsoleSamples> all) {
        if (!all) {  // no fleet (or Redis is away): this gateway is all there is
          if (gateway == "all") return done({200, "{\"intervalMs\":1000,\"samples\":" + local + "}"});
          return done(error(404, "gateway_not_found", "No gateway of the fleet has that id."));
        }
        if (gateway == "all") return done({200, "{\"intervalMs\":1000,\"samples\":" + merge_fleet_history(*all) + "}"});
        for (const auto& [id, samples] : *all)
          if (id == gateway) return done({200, json{{"intervalMs", 1000}, {"samples", parsed_samples(samples)}}.dump()});
        done(error(404, "gateway_not_found", "No gateway of the fleet has that id."));
      });
}

void ConsoleApi::action(std::string_view route, const std::string& text, asio::any_io_executor reply_on, Done done) {
  auto body = json::parse(text, nullptr, false);
  if (body.is_discarded() || !body.is_object())
    return post_answer(reply_on, std::move(done), error(400, "invalid_body", "Expected a JSON object."));
  const auto hub_name = string_field(body, "hub");
  if (!hub::is_valid_hub_name(hub_name))
    return post_answer(reply_on, std::move(done), error(400, "invalid_hub", "\"hub\" must name a hub."));
  hub::Action action;
  if (route == "close-connection" || route == "close-group") {
    const bool is_group = route == "close-group";
    hub::CloseAction close;
    close.hub_key = hub::hub_key_of(hub_name);
    close.scope = is_group ? hub::Scope::group : hub::Scope::connection;
    close.id = string_field(body, is_group ? "group" : "connectionId");
    close.reason = string_field(body, "reason");
    if (close.reason.empty()) close.reason = "Closed by an operator.";
    if (close.id.empty())
      return post_answer(reply_on, std::move(done),
                         error(400, "invalid_body", is_group ? "\"group\" is required." : "\"connectionId\" is required."));
    action = std::move(close);
  } else {
    hub::SendAction send;
    send.hub_key = hub::hub_key_of(hub_name);
    const auto scope = string_field(body, "scope");
    send.scope = scope == "connection" ? hub::Scope::connection
                 : scope == "user"     ? hub::Scope::user
                 : scope == "group"    ? hub::Scope::group
                                       : hub::Scope::all;
    if (!scope.empty() && scope != "all" && scope != "connection" && scope != "user" && scope != "group")
      return post_answer(reply_on, std::move(done), error(400, "invalid_scope", "\"scope\" is all, connection, user or group."));
    send.id = string_field(body, "id");
    if (send.scope != hub::Scope::all && send.id.empty())
      return post_answer(reply_on, std::move(done), error(400, "invalid_body", "\"id\" is required for this scope."));
    const auto target = string_field(body, "target");
    if (target.empty()) return post_answer(reply_on, std::move(done), error(400, "invalid_body", "\"target\" is required."));
    auto arguments = body.contains("arguments") ? body["arguments"] : json::array();
    if (!arguments.is_array())
      return post_answer(reply_on, std::move(done), error(400, "invalid_body", "\"arguments\" must be an array."));
    send.message = hub::encode_invocation(target, arguments.dump());
    action = std::move(send);
  }
  services_.backplane->publish(std::make_shared<const hub::Action>(std::move(action)), reply_on,
                               [done = std::move(done)](const hub::ActionOutcome& outcome) {
                                 done({202, json{{"accepted", true}, {"matchedHere", outcome.matched}}.dump()});
                               });
}

}  // namespace sb::console
