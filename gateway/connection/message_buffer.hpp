#pragma once
// The stateful-reconnect bookkeeping of one connection (PROTOCOL.md part 1 §4; ASP.NET MessageBuffer.cs):
// sequence ids per direction, the byte-bounded buffer of sent-but-unacknowledged messages, messages that
// wait for acks when it is full (backpressure, not an error), duplicate detection after a resume, and
// when an Ack is due. No I/O: the connection encodes and writes what this returns. Owner thread only.
#include <cstddef>
#include <cstdint>
#include <algorithm>
#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include "common/frame.hpp"
#include "common/result.hpp"

namespace sb::connection {

// What a MessageBuffer holds, copied out so that another gateway can continue it (a handoff).
struct MessageBufferState {
  struct Entry {
    std::uint64_t first_sequence_id = 0;
    std::uint64_t records = 0;
    std::string frame;
    friend bool operator==(const Entry&, const Entry&) = default;
  };
  std::uint64_t next_outbound_id = 1;
  std::vector<Entry> unacked;  // written, not yet acknowledged
  std::vector<Entry> waiting;  // not yet written: the buffer was full
  std::uint64_t next_inbound_id = 1;
  std::uint64_t latest_processed = 0;
  friend bool operator==(const MessageBufferState&, const MessageBufferState&) = default;
};

class MessageBuffer {
 public:
  explicit MessageBuffer(std::size_t buffer_bytes) : buffer_bytes_(buffer_bytes) {}
  // Continues a buffer another gateway exported, under this gateway's `buffer_bytes`. The state is
  // taken as consistent (backplane/handoff_state.hpp checks it when it decodes one). An Ack is due at
  // once when anything was processed: the client's acknowledged id may trail the exporter's.
  MessageBuffer(std::size_t buffer_bytes, MessageBufferState state);

  MessageBufferState export_state() const;
  // The same, as a checkpoint (the fleet log): only the client messages up to `settled` count as
  // processed, so that a gateway resuming from it expects the others again.
  MessageBufferState export_checkpoint(std::uint64_t settled) const;
  // A buffer rebuilt from a checkpoint: the client's first Sequence may name an id past what the
  // checkpoint says was processed (the lost gateway acknowledged more since); it is believed, once.
  void trust_next_sequence() { trusts_next_sequence_ = true; }

  // Outbound: a frame holding `records` trackable messages (Invocation, StreamItem, Completion, …).
  // True: write it now. False: it waits until acks make room (it is still kept, and counted).
  bool add(Frame frame, std::size_t records = 1);

  // The client acknowledged everything up to `sequence_id`. Returns the waiting frames that now fit,
  // in order: write them.
  std::vector<Frame> on_ack(std::uint64_t sequence_id);

  // After a resume: the Sequence id to send (first unacknowledged, or next to be sent), and every frame
  // to write after it, in order (unacknowledged ones; waiting ones stay waiting).
  std::uint64_t resume_sequence_id() const;
  std::vector<Frame> unacknowledged_frames() const;

  // Inbound: a trackable message arrived. False: a duplicate re-sent after a resume; drop it.
  bool on_inbound();
  // The client's Sequence after a resume: the id of the next message it will send. An id past what we
  // processed + 1 means it lost messages we never saw: a protocol error.
  Result<bool> on_sequence(std::uint64_t sequence_id);
  // The id to acknowledge, once per batch of new inbound messages (the heartbeat sends it every 1 s).
  // `settled`: acknowledge no further than this (the fleet log acknowledges only messages whose effects
  // are safe in Redis). Returns 0 when there is nothing new to acknowledge.
  bool is_ack_due() const { return is_ack_due_; }
  std::uint64_t take_ack(std::uint64_t settled = UINT64_MAX) {
    auto ack = std::min(latest_processed_, settled);
    is_ack_due_ = ack < latest_processed_;
    if (ack <= last_ack_) return 0;
    last_ack_ = ack;
    return ack;
  }
  std::uint64_t latest_processed() const { return latest_processed_; }

  std::size_t buffered_bytes() const { return unacked_bytes_ + waiting_bytes_; }

 private:
  struct Entry {
    std::uint64_t first_sequence_id;
    std::size_t records;
    Frame frame;
  };
  bool has_room_for(std::size_t bytes) const { return unacked_.empty() || unacked_bytes_ + bytes <= buffer_bytes_; }

  std::size_t buffer_bytes_;
  std::uint64_t next_outbound_id_ = 1;  // ids start at 1 and are never reset across resumes
  std::deque<Entry> unacked_;
  std::size_t unacked_bytes_ = 0;
  std::deque<Entry> waiting_;           // not yet written: the buffer was full
  std::size_t waiting_bytes_ = 0;

  std::uint64_t next_inbound_id_ = 1;
  std::uint64_t latest_processed_ = 0;
  std::uint64_t last_ack_ = 0;
  bool is_ack_due_ = false;
  bool trusts_next_sequence_ = false;
};

}  // namespace sb::connection
