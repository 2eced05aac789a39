#include "backplane/hiredis_asio_adapter.hpp"

#include <hiredis/async.h>

#include <boost/asio/posix/stream_descriptor.hpp>
#include <memory>

namespace sb::backplane {
namespace {

namespace asio = boost::asio;

class HiredisAsioAdapter : public std::enable_shared_from_this<HiredisAsioAdapter> {
 public:
  HiredisAsioAdapter(redisAsyncContext* context, asio::io_context& io) : context_(context), socket_(io) {}

  ~HiredisAsioAdapter() {
    // Never close hiredis's fd: it closes it itself.
    if (socket_.is_open()) socket_.release();
  }

  bool install() {
    boost::system::error_code ec;
    socket_.assign(context_->c.fd, ec);
    if (ec) return false;
    self_ = shared_from_this();  // hiredis holds us through ev.data until cleanup
    context_->ev.data = this;
    context_->ev.addRead = [](void* p) { static_cast<HiredisAsioAdapter*>(p)->want_read(true); };
    context_->ev.delRead = [](void* p) { static_cast<HiredisAsioAdapter*>(p)->want_read(false); };
    context_->ev.addWrite = [](void* p) { static_cast<HiredisAsioAdapter*>(p)->want_write(true); };
    context_->ev.delWrite = [](void* p) { static_cast<HiredisAsioAdapter*>(p)->want_write(false); };
    context_->ev.cleanup = [](void* p) { static_cast<HiredisAsioAdapter*>(p)->cleanup(); };
    return true;
  }

 private:
  void want_read(bool wants) {
    wants_read_ = wants;
    if (wants && !is_read_pending_) do_wait_read();
  }
  void want_write(bool wants) {
    wants_write_ = wants;
    if (wants && !is_write_pending_) do_wait_write();
  }

  void do_wait_read() {
    is_read_pending_ = true;
    socket_.async_wait(asio::posix::stream_descriptor::wait_read,
                       [self = shared_from_this()](boost::system::error_code ec) { self->on_readable(ec); });
  }
  void on_readable(boost::system::error_code ec) {
    is_read_pending_ = false;
    if (ec || !context_ || !wants_read_) return;
    redisAsyncHandleRead(context_);  // may free the context: cleanup() then clears context_
    if (context_ && wants_read_ && !is_read_pending_) do_wait_read();
  }

  void do_wait_write() {
    is_write_pending_ = true;
    socket_.async_wait(asio::posix::stream_descriptor::wait_write,
                       [self = shared_from_this()](boost::system::error_code ec) { self->on_writable(ec); });
  }
  void on_writable(boost::system::error_code ec) {
    is_write_pending_ = false;
    if (ec || !context_ || !wants_write_) return;
    redisAsyncHandleWrite(context_);
    if (context_ && wants_write_ && !is_write_pending_) do_wait_write();
  }

  // hiredis is freeing the context: stop watching, hand the fd back, let the last handler free us.
  void cleanup() {
    context_ = nullptr;
    wants_read_ = wants_write_ = false;
    boost::system::error_code ignored;
    socket_.cancel(ignored);
    socket_.release();
    self_.reset();
  }

  redisAsyncContext* context_;
  asio::posix::stream_descriptor socket_;
  std::shared_ptr<HiredisAsioAdapter> self_;
  bool wants_read_ = false, wants_write_ = false;
  bool is_read_pending_ = false, is_write_pending_ = false;
};

}  // namespace

bool attach_to_asio(redisAsyncContext* context, asio::io_context& io) {
  if (context->ev.data || context->c.fd < 0) return false;
  auto adapter = std::make_shared<HiredisAsioAdapter>(context, io);
  return adapter->install();
}

}  // namespace sb::backplane
