#include "redis_client/sentinel.hpp"

#include <boost/asio/steady_timer.hpp>
#include <charconv>

#include "redis_client/connection.hpp"

namespace sb::redis {
namespace {

// One lookup: the sentinels are tried one after the other until one names the master.
class Lookup : public std::enable_shared_from_this<Lookup> {
 public:
  Lookup(boost::asio::io_context& io, SentinelOptions options, std::chrono::milliseconds timeout, MasterFound done)
      : io_(io), options_(std::move(options)), timeout_(timeout), done_(std::move(done)), deadline_(io) {}

  void try_next() {
    if (next_ >= options_.sentinels.size())
      return done_(std::nullopt, "no sentinel named master '" + options_.master_name + "' (last: " + last_error_ + ")");
    const auto& sentinel = options_.sentinels[next_++];
    ConnectionOptions connection;
    connection.host = sentinel.host;
    connection.port = sentinel.port;
    connection.password = options_.password;
    connection.tls = options_.tls;
    auto where = sentinel.host + ":" + std::to_string(sentinel.port);
    connection_ = std::make_shared<Connection>(io_, std::move(connection));
    auto self = shared_from_this();
    // A sentinel that accepts and never answers must not hold the lookup: each one gets `timeout_`.
    const auto attempt = next_;
    deadline_.expires_after(timeout_);
    deadline_.async_wait([self, attempt, where](boost::system::error_code ec) {
      if (ec || attempt != self->next_ || !self->connection_) return;
      auto silent = std::move(self->connection_);
      silent->close();
      self->last_error_ = where + ": no answer in time";
      self->try_next();
    });
    connection_->connect(
        timeout_,
        [self, where] {
          self->connection_->command({"SENTINEL", "get-master-addr-by-name", self->options_.master_name},
                                     [self, where](const Reply* reply) { self->on_answer(reply, where); });
        },
        [self, where](const std::string& reason) {
          self->deadline_.cancel();
          self->connection_.reset();
          self->last_error_ = where + ": " + reason;
          self->try_next();
        });
  }

 private:
  void on_answer(const Reply* reply, const std::string& where) {
    if (!reply || !connection_) return;  // the connection's `down` goes on to the next sentinel
    deadline_.cancel();
    auto connection = std::move(connection_);
    connection->close();
    Address master;
    if (reply->is_array() && reply->size() == 2) {
      master.host = reply->element(0)->text;
      const auto& port = reply->element(1)->text;
      auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), master.port);
      if (ec == std::errc() && end == port.data() + port.size() && master.port > 0 && master.port <= 65535 &&
          !master.host.empty())
        return done_(std::move(master), {});
    }
    last_error_ = where + ": " + (reply->is_error() ? reply->text : "does not know the master");
    try_next();
  }

  boost::asio::io_context& io_;
  SentinelOptions options_;
  std::chrono::milliseconds timeout_;
  MasterFound done_;
  std::size_t next_ = 0;
  boost::asio::steady_timer deadline_;
  std::shared_ptr<Connection> connection_;
  std::string last_error_ = "none tried";
};

}  // namespace

void locate_master(boost::asio::io_context& io, const SentinelOptions& options, std::chrono::milliseconds timeout,
                   MasterFound done) {
  std::make_shared<Lookup>(io, options, timeout, std::move(done))->try_next();
}

}  // namespace sb::redis
