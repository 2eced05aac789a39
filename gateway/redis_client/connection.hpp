#pragma once
// One connection to Redis on an io_context's one thread: resolve (off the thread, Asio's resolver),
// connect, TLS when asked, AUTH, SELECT, then pipelined commands whose replies come back in order,
// and subscriptions. Single use: once down it stays down, and the owner makes a new one.
//
// Owned by shared_ptr: pending socket operations hold it, so it lives until close() (or the end of the
// connection) lets them complete.
//
// Our own client rather than hiredis: Debian 12's hiredis (0.14) has no TLS, and it resolved names
// with a blocking call. Replies are parsed by ReplyParser (pure, fuzzed).
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "redis_client/reply.hpp"
#include "redis_client/reply_parser.hpp"
#include "tls_client/client_tls_context.hpp"

namespace sb::redis {

struct ConnectionOptions {
  std::string host;
  unsigned port = 6379;
  std::string username;  // AUTH USER PASSWORD when set, else AUTH PASSWORD
  std::string password;  // empty: no AUTH. Never logged.
  unsigned database = 0;
  std::shared_ptr<const tls_client::ClientTlsContext> tls;  // null: plain TCP
  bool require_master = false;  // check ROLE: a replica (a stale Sentinel answer) is a failed connect
};

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  // A reply, or nullptr when the connection went down before it came.
  using ReplyHandler = std::function<void(const Reply*)>;
  using Up = std::function<void()>;
  using Down = std::function<void(const std::string& reason)>;

  Connection(boost::asio::io_context& io, ConnectionOptions options);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // `up` once the server answered PING (after AUTH and SELECT); `down` once, when the attempt fails,
  // the deadline passes or an established connection breaks. Neither is called after close().
  void connect(std::chrono::milliseconds timeout, Up up, Down down);
  // Queues a command (argv, binary-safe); may be called before `up`. False once the connection is down.
  bool command(const std::vector<std::string>& argv, ReplyHandler handler);
  // SUBSCRIBE: `handler` gets the confirmation ["subscribe", channel, n] and then every
  // ["message", channel, payload]; it lives as long as the connection.
  bool subscribe(const std::string& channel, ReplyHandler handler);
  // Drops the connection without calling `down`; pending handlers get nullptr.
  void close();
  bool is_up() const { return is_up_; }

 private:
  using tcp = boost::asio::ip::tcp;
  struct Pending {
    ReplyHandler handler;  // for a SUBSCRIBE: null (the confirmation goes to the subscription)
    std::string channel;   // a SUBSCRIBE's channel
  };

  void on_resolved(const tcp::resolver::results_type& results);
  void on_connected();
  void handshake_done();
  void queue_handshake_commands();
  void start_writing();
  void start_reading();
  void on_reply(Reply&& reply);
  void finish(std::string reason);
  tcp::socket& socket();

  boost::asio::io_context& io_;
  ConnectionOptions options_;
  tcp::resolver resolver_;
  std::unique_ptr<tcp::socket> plain_;                                 // plain TCP
  std::unique_ptr<boost::asio::ssl::stream<tcp::socket>> tls_;         // TLS (owns its socket)
  boost::asio::steady_timer deadline_;
  ReplyParser parser_;
  std::string out_;      // commands not yet written
  std::string writing_;  // the write in flight
  bool is_writing_ = false;
  bool is_ready_ = false;  // connected (and TLS done): writes may start
  std::deque<Pending> pending_;
  std::unordered_map<std::string, std::shared_ptr<ReplyHandler>> subscriptions_;
  std::vector<char> in_;
  Up up_;
  Down down_;
  bool is_up_ = false;
  bool is_done_ = false;
};

}  // namespace sb::redis
