#include "console/trace_stream.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <memory>

#include "common/metrics.hpp"
#include "console/console_log.hpp"
#include "transport/sse_transport.hpp"

namespace sb::console {
namespace {

namespace asio = boost::asio;

class TraceStream : public TraceSink,
                    public transport::TransportHandler,
                    public std::enable_shared_from_this<TraceStream> {
 public:
  TraceStream(asio::any_io_executor executor, std::shared_ptr<transport::SseTransport> transport)
      : executor_(executor), transport_(std::move(transport)), keepalive_(executor) {}

  void start(TraceFilter filter, const FleetFeedStarter& fleet) {
    transport_->start(shared_from_this());
    if (fleet)
      feed_ = fleet(executor_, [weak = weak_from_this()](std::string lines) {
        auto self = weak.lock();
        if (self && self->transport_) self->transport_->send(make_frame(std::move(lines)), transport::FrameFormat::text);
      });
    watch_ = live_trace().watch(std::move(filter), shared_from_this());
    arm_keepalive();
  }

  // The publisher's thread: the send happens on this viewer's own.
  void deliver(Frame lines) override {
    asio::post(executor_, [weak = weak_from_this(), lines = std::move(lines)]() mutable {
      auto self = weak.lock();
      if (self && self->transport_) self->transport_->send(std::move(lines), transport::FrameFormat::text);
    });
  }

  void end() override {
    if (auto transport = transport_) transport->abort();  // on_transport_closed lets go of everything
  }

  void on_transport_data(std::string_view, transport::FrameFormat) override {}

  void on_transport_closed(transport::TransportEnd end, std::string_view detail) override {
    if (end == transport::TransportEnd::send_queue_full) {
      metrics().console_viewers_dropped.inc();
      log::emit(log_events::viewer_dropped, {{"queued_bytes", detail}});
    }
    keepalive_.cancel();
    if (feed_) feed_->stop();  // the other gateways let go of their watches
    feed_.reset();
    watch_.reset();  // the trace lets go of this stream
    transport_.reset();
  }

 private:
  // An empty event every 15 s keeps proxies from cutting a quiet stream; the page skips it.
  void arm_keepalive() {
    keepalive_.expires_after(std::chrono::seconds(15));
    keepalive_.async_wait([weak = weak_from_this()](boost::system::error_code ec) {
      auto self = weak.lock();
      if (ec || !self || !self->transport_) return;
      static const Frame empty = make_frame("");
      self->transport_->send(empty, transport::FrameFormat::text);
      self->arm_keepalive();
    });
  }

  asio::any_io_executor executor_;
  std::shared_ptr<transport::SseTransport> transport_;
  asio::steady_timer keepalive_;
  std::unique_ptr<LiveTrace::Watch> watch_;
  std::shared_ptr<FleetTraceFeed> feed_;
};

}  // namespace

void open_trace_stream(transport::ClientStream stream, std::string response_head, TraceFilter filter,
                       FleetFeedStarter fleet) {
  // A small socket buffer: a viewer that stops reading is found out after about a megabyte, not many.
  boost::system::error_code ignored;
  stream.socket().set_option(asio::socket_base::send_buffer_size(64 * 1024), ignored);
  auto executor = stream.get_executor();
  auto transport = std::make_shared<transport::SseTransport>(std::move(stream), std::move(response_head), max_queued_bytes);
  std::make_shared<TraceStream>(executor, std::move(transport))->start(std::move(filter), fleet);
}

}  // namespace sb::console
