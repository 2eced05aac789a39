#include "backplane/in_process_backplane.hpp"

#include <boost/asio/post.hpp>
#include <mutex>

namespace sb::backplane {
namespace {

// Shared by the shards running one action; the last one to finish replies.
struct Gather {
  std::mutex mutex;
  hub::ActionOutcome outcome;
  std::size_t remaining = 0;
  boost::asio::any_io_executor reply_on;
  Backplane::Done done;
};

}  // namespace

InProcessBackplane::InProcessBackplane(std::vector<Shard> shards) : shards_(std::move(shards)) {}

void InProcessBackplane::publish(hub::SharedAction action, boost::asio::any_io_executor reply_on, Done done) {
  publish(std::move(action), {}, std::move(reply_on), std::move(done));
}

void InProcessBackplane::publish(hub::SharedAction action, hub::ActionOrigin origin,
                                 boost::asio::any_io_executor reply_on, Done done) {
  std::shared_ptr<Gather> gather;
  if (done) {
    gather = std::make_shared<Gather>();
    gather->remaining = shards_.size();
    gather->reply_on = std::move(reply_on);
    gather->done = std::move(done);
  }
  for (const auto& shard : shards_) {
    boost::asio::post(shard.executor, [action, origin, gather, registry = shard.registry] {
      auto outcome = registry->execute(action, origin, std::chrono::system_clock::now());
      if (!gather) return;
      bool is_last;
      {
        std::lock_guard lock(gather->mutex);
        gather->outcome.merge(outcome);
        is_last = --gather->remaining == 0;
      }
      if (is_last) boost::asio::post(gather->reply_on, [gather] { gather->done(gather->outcome); });
    });
  }
}

}  // namespace sb::backplane
