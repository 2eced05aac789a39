#include "server/checkpoint_writer.hpp"

#include "backplane/backplane.hpp"
#include "backplane/handoff_state.hpp"
#include "server/shard.hpp"

namespace sb::server {

CheckpointWriter::CheckpointWriter(Shard& shard, backplane::Backplane& backplane, std::chrono::milliseconds interval)
    : shard_(shard), backplane_(backplane), interval_(interval), timer_(shard.io) {}

void CheckpointWriter::start() { schedule(); }

void CheckpointWriter::schedule() {
  timer_.expires_after(interval_);
  timer_.async_wait([this](boost::system::error_code ec) {  // the shard outlives its timers (shard.hpp)
    if (ec) return;
    write_changed();
    schedule();
  });
}

void CheckpointWriter::write_changed() {
  const auto gateway_id = backplane_.gateway_id();
  // Redis came back: it may have lost every checkpoint, so all are written again.
  const auto resyncs = backplane_.resyncs();
  const bool writes_all = resyncs != resyncs_seen_;
  resyncs_seen_ = resyncs;
  std::vector<std::pair<std::string, std::string>> states;
  auto& registry = shard_.registry;
  registry.for_each_connection([&](connection::Connection& c) {
    if (!c.can_resume() || (!writes_all && !c.needs_checkpoint())) return;
    auto transfer = c.checkpoint();
    backplane::HandoffState state;
    state.groups = transfer.identity.initial_groups;
    state.identity = std::move(transfer.identity);
    state.protocol = transfer.protocol;
    state.buffer = std::move(transfer.buffer);
    state.positions = {{gateway_id, registry.unlogged_sequence()}};
    state.log_position = registry.log_position();
    auto encoded = backplane::encode_handoff_state(state);
    if (encoded.size() > backplane::max_handoff_state_bytes) return;  // a resume would refuse it
    states.emplace_back(c.id(), std::move(encoded));
  });
  backplane_.write_checkpoints(std::move(states));
}

}  // namespace sb::server
