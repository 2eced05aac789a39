#include "console/fleet_trace_feed.hpp"

#include <atomic>

#include "backplane/backplane.hpp"
#include "console/trace_filter_codec.hpp"

namespace sb::console {

namespace asio = boost::asio;

namespace {

// Unique among this gateway's viewers; the gateway id makes it unique in the fleet.
std::string next_watch_id(const std::string& self_id) {
  static std::atomic<std::uint64_t> next{1};
  return self_id + "/" + std::to_string(next.fetch_add(1, std::memory_order_relaxed));
}

backplane::FollowUp console_request(std::string_view route, std::string body) {
  backplane::FollowUp request;
  request.kind = backplane::RelayKind::console;
  request.connection_id = "POST " + std::string(route);
  request.body = std::move(body);
  return request;
}

}  // namespace

FleetTraceFeed::FleetTraceFeed(asio::any_io_executor executor, backplane::Backplane& backplane, std::string self_id,
                               TraceFilter filter, Deliver deliver)
    : executor_(executor),
      backplane_(backplane),
      self_id_(std::move(self_id)),
      watch_id_(next_watch_id(self_id_)),
      deliver_(std::move(deliver)),
      refresh_timer_(executor) {
  watch_request_ = encode_peer_watch(watch_id_, filter);
}

void FleetTraceFeed::start() { refresh(); }

void FleetTraceFeed::stop() {
  if (stopped_) return;
  stopped_ = true;
  refresh_timer_.cancel();
  for (const auto& gateway : asking_)
    backplane_.relay_to_gateway(gateway, console_request("trace-unwatch", watch_request_), executor_,
                                [](std::optional<backplane::FollowUpAnswer>) {});
  asking_.clear();
}

void FleetTraceFeed::refresh() {
  if (stopped_) return;
  backplane_.read_console_samples(
      true, executor_, [weak = weak_from_this()](std::optional<backplane::Backplane::ConsoleSamples> fleet) {
        auto self = weak.lock();
        if (!self || self->stopped_) return;
        if (fleet)
          for (const auto& [gateway, samples] : *fleet)
            if (gateway != self->self_id_ && self->asking_.insert(gateway).second) self->ask(gateway);
        self->refresh_timer_.expires_after(refresh_every);
        self->refresh_timer_.async_wait([weak](boost::system::error_code ec) {
          if (auto feed = weak.lock(); feed && !ec) feed->refresh();
        });
      });
}

void FleetTraceFeed::ask(const std::string& gateway) {
  backplane_.relay_to_gateway(
      gateway, console_request("trace-poll", watch_request_), executor_,
      [weak = weak_from_this(), gateway](std::optional<backplane::FollowUpAnswer> answer) {
        auto self = weak.lock();
        if (!self || self->stopped_) return;
        if (answer && answer->status == 200) {
          if (!answer->body.empty()) self->deliver_(std::move(answer->body));
          return self->ask(gateway);
        }
        // Gone, no console there, a timeout or a refusal (404, 503, 429): the next refresh asks again
        // if the gateway is still in the fleet.
        self->asking_.erase(gateway);
      });
}

}  // namespace sb::console
