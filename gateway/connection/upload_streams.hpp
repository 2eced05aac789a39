#pragma once
// Client upload streams (docs/upstream.md "Upload streams"): an Invocation or StreamInvocation with
// `streamIds` opens streams the client then feeds with StreamItems and ends with a Completion each.
// This table knows which streams are open, numbers their items, and says which event answers the
// invocation (the one that ends its last open stream). One per connection that ever uploaded; pure
// bookkeeping, owned by its Connection, on its thread.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/result.hpp"

namespace sb::connection {

// Where one upstream event stands in an upload (UpstreamEvent::upload).
struct UploadStep {
  std::uint64_t upload = 0;                  // which invocation's upload: this table's own number
  std::optional<std::string> invocation_id;  // the invocation's; absent for a send()
  bool is_stream_invocation = false;         // the invocation is a StreamInvocation
  std::string target;                        // the invocation's target: the event name of every part
  std::string stream_id;                     // empty: the invocation itself
  std::uint64_t first_sequence = 0;          // the number of the body's first item (a stream's first is 0)
  std::size_t items = 0;                     // StreamItems in the body
  bool completes_stream = false;             // the body ends with the stream's Completion
  bool is_last = false;                      // ...of the invocation's last open stream: the reply answers it
};

class UploadStreams {
 public:
  // An invocation with `stream_ids`: opens them, and returns the step of the invocation's own event.
  // Refused (nothing opened) when an id is already open or repeated, or more than `max_streams` would be.
  Result<UploadStep> open(std::optional<std::string> invocation_id, bool is_stream_invocation, std::string target,
                          const std::vector<std::string>& stream_ids, std::size_t max_streams);
  bool is_open(const std::string& stream_id) const { return streams_.count(stream_id) != 0; }
  // A StreamItem of an open stream: a step with that one item and its number.
  UploadStep item(const std::string& stream_id);
  // The client's Completion of an open stream: it closes, and the step says whether it was the last.
  UploadStep complete(const std::string& stream_id);
  // The invocation was answered before its streams ended (an error, an early result): they close, and
  // the client's later records for them are dropped, as ASP.NET drops items of a finished invocation.
  void end(std::uint64_t upload);

  bool empty() const { return streams_.empty(); }
  std::size_t size() const { return streams_.size(); }

 private:
  struct Stream {
    std::uint64_t upload = 0;
    std::uint64_t next_sequence = 0;
  };
  struct Upload {
    std::optional<std::string> invocation_id;
    bool is_stream_invocation = false;
    std::string target;
    std::size_t open_streams = 0;
  };
  UploadStep step_of(const std::string& stream_id, const Stream& stream) const;

  std::unordered_map<std::string, Stream> streams_;
  std::unordered_map<std::uint64_t, Upload> uploads_;
  std::uint64_t last_upload_ = 0;
};

}  // namespace sb::connection
