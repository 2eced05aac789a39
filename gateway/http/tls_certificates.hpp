#pragma once
// The gateway's TLS certificate and key (--tls-cert, --tls-key) as the server context that new
// handshakes use. reload() reads both files again (SIGHUP) and, when they make a usable pair, swaps in a
// new context: handshakes from then on use it, while connections already open keep the context they
// were made with (each stream holds its own reference). A failed reload leaves the current pair in use.
//
// current() may be called from any thread; reload() is called on one thread (the signal handler's).
#include <memory>
#include <mutex>
#include <optional>
#include <string>

namespace boost::asio::ssl {
class context;
}

namespace sb::http {

class TlsCertificates {
 public:
  // `ciphers`: the TLS 1.2 suites (--tls-ciphers).
  TlsCertificates(std::string cert_file, std::string key_file, std::string ciphers);

  // Loads the files; nullopt on success, else an error naming the file and the reason.
  std::optional<std::string> reload();

  // The context for a new handshake; null until a reload succeeded. Not const: Asio's ssl::stream takes
  // a mutable context, though nothing changes it once it is current.
  std::shared_ptr<boost::asio::ssl::context> current() const;

  // SHA-256 of the current certificate (DER), as "AB:CD:…", for the log line that confirms a reload.
  std::string fingerprint() const { return fingerprint_; }

 private:
  std::string cert_file_;
  std::string key_file_;
  std::string ciphers_;
  mutable std::mutex mutex_;  // guards current_: a pointer copy, nothing more
  std::shared_ptr<boost::asio::ssl::context> current_;
  std::string fingerprint_;  // reload()'s thread only
};

}  // namespace sb::http
