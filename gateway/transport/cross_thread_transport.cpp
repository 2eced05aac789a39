#include "transport/cross_thread_transport.hpp"

#include <boost/asio/post.hpp>
#include <string>

namespace sb::transport {

// The handler the inner transport calls, on the socket's thread: forwards each call to the adapter on
// the connection's thread. Holds the adapter weakly: if the connection dropped it, nothing is owed.
class CrossThreadTransport::Relay : public TransportHandler {
 public:
  Relay(std::weak_ptr<CrossThreadTransport> owner, boost::asio::any_io_executor owner_executor)
      : owner_(std::move(owner)), owner_executor_(std::move(owner_executor)) {}

  void on_transport_data(std::string_view data, FrameFormat format) override {
    boost::asio::post(owner_executor_, [owner = owner_, data = std::string(data), format] {
      auto self = owner.lock();
      if (!self || self->is_finished_ || !self->handler_) return;
      auto handler = self->handler_;  // the callback may end the transport
      handler->on_transport_data(data, format);
    });
  }

  void on_transport_closed(TransportEnd end, std::string_view detail) override {
    boost::asio::post(owner_executor_, [owner = owner_, end, detail = std::string(detail)] {
      if (auto self = owner.lock()) self->finish(end, detail);
    });
  }

 private:
  std::weak_ptr<CrossThreadTransport> owner_;
  boost::asio::any_io_executor owner_executor_;
};

CrossThreadTransport::CrossThreadTransport(std::shared_ptr<Transport> inner, boost::asio::any_io_executor inner_executor,
                                           boost::asio::any_io_executor own_executor)
    : inner_(std::move(inner)),
      inner_executor_(std::move(inner_executor)),
      own_executor_(std::move(own_executor)),
      supports_binary_(inner_->supports_binary()),
      has_inherent_keepalive_(inner_->has_inherent_keepalive()),
      supports_reconnect_(inner_->supports_reconnect()),
      name_(inner_->name()) {}

CrossThreadTransport::~CrossThreadTransport() {
  boost::asio::post(inner_executor_, [inner = std::move(inner_)] {});
}

void CrossThreadTransport::start(std::shared_ptr<TransportHandler> handler) {
  handler_ = std::move(handler);
  auto relay = std::make_shared<Relay>(weak_from_this(), own_executor_);
  boost::asio::post(inner_executor_, [inner = inner_, relay = std::move(relay)] { inner->start(relay); });
}

bool CrossThreadTransport::send(Frame frame, FrameFormat format) {
  if (is_finished_) return false;
  boost::asio::post(inner_executor_, [inner = inner_, frame = std::move(frame), format] { inner->send(frame, format); });
  return true;
}

void CrossThreadTransport::close() {
  if (is_finished_) return;
  boost::asio::post(inner_executor_, [inner = inner_] { inner->close(); });
}

void CrossThreadTransport::abort() {
  if (is_finished_) return;
  // As the inner abort would: the handler hears of the end at once, and nothing after it.
  finish(TransportEnd::closed_by_server, "aborted");
  boost::asio::post(inner_executor_, [inner = inner_] { inner->abort(); });
}

void CrossThreadTransport::finish(TransportEnd end, std::string_view detail) {
  if (is_finished_) return;
  is_finished_ = true;
  if (auto handler = std::move(handler_)) handler->on_transport_closed(end, detail);
}

}  // namespace sb::transport
