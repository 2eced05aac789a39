#include "connection/message_buffer.hpp"

#include <utility>

namespace sb::connection {

MessageBuffer::MessageBuffer(std::size_t buffer_bytes, MessageBufferState state)
    : buffer_bytes_(buffer_bytes),
      next_outbound_id_(state.next_outbound_id),
      next_inbound_id_(state.next_inbound_id),
      latest_processed_(state.latest_processed),
      is_ack_due_(state.latest_processed > 0) {
  for (auto& e : state.unacked) {
    unacked_bytes_ += e.frame.size();
    unacked_.push_back({e.first_sequence_id, static_cast<std::size_t>(e.records), make_frame(std::move(e.frame))});
  }
  for (auto& e : state.waiting) {
    waiting_bytes_ += e.frame.size();
    waiting_.push_back({e.first_sequence_id, static_cast<std::size_t>(e.records), make_frame(std::move(e.frame))});
  }
}

MessageBufferState MessageBuffer::export_state() const {
  MessageBufferState state;
  state.next_outbound_id = next_outbound_id_;
  state.next_inbound_id = next_inbound_id_;
  state.latest_processed = latest_processed_;
  state.unacked.reserve(unacked_.size());
  for (const auto& e : unacked_) state.unacked.push_back({e.first_sequence_id, e.records, *e.frame});
  state.waiting.reserve(waiting_.size());
  for (const auto& e : waiting_) state.waiting.push_back({e.first_sequence_id, e.records, *e.frame});
  return state;
}

bool MessageBuffer::add(Frame frame, std::size_t records) {
  Entry entry{next_outbound_id_, records, std::move(frame)};
  next_outbound_id_ += records;
  auto bytes = entry.frame->size();
  // Order is kept: nothing jumps ahead of a waiting frame.
  if (waiting_.empty() && has_room_for(bytes)) {
    unacked_bytes_ += bytes;
    unacked_.push_back(std::move(entry));
    return true;
  }
  waiting_bytes_ += bytes;
  waiting_.push_back(std::move(entry));
  return false;
}

std::vector<Frame> MessageBuffer::on_ack(std::uint64_t sequence_id) {
  while (!unacked_.empty()) {
    const auto& front = unacked_.front();
    if (front.first_sequence_id + front.records - 1 > sequence_id) break;
    unacked_bytes_ -= front.frame->size();
    unacked_.pop_front();
  }
  std::vector<Frame> now_writable;
  while (!waiting_.empty() && has_room_for(waiting_.front().frame->size())) {
    auto entry = std::move(waiting_.front());
    waiting_.pop_front();
    waiting_bytes_ -= entry.frame->size();
    unacked_bytes_ += entry.frame->size();
    now_writable.push_back(entry.frame);
    unacked_.push_back(std::move(entry));
  }
  return now_writable;
}

std::uint64_t MessageBuffer::resume_sequence_id() const {
  if (!unacked_.empty()) return unacked_.front().first_sequence_id;
  if (!waiting_.empty()) return waiting_.front().first_sequence_id;
  return next_outbound_id_;
}

std::vector<Frame> MessageBuffer::unacknowledged_frames() const {
  std::vector<Frame> frames;
  frames.reserve(unacked_.size());
  for (const auto& e : unacked_) frames.push_back(e.frame);
  return frames;
}

bool MessageBuffer::on_inbound() {
  auto id = next_inbound_id_++;
  if (id <= latest_processed_) return false;
  latest_processed_ = id;
  is_ack_due_ = true;
  return true;
}

MessageBufferState MessageBuffer::export_checkpoint(std::uint64_t settled) const {
  auto state = export_state();
  state.latest_processed = std::min(settled, latest_processed_);
  state.next_inbound_id = state.latest_processed + 1;
  return state;
}

Result<bool> MessageBuffer::on_sequence(std::uint64_t sequence_id) {
  if (std::exchange(trusts_next_sequence_, false) && sequence_id > latest_processed_ + 1) {
    latest_processed_ = last_ack_ = sequence_id - 1;
    is_ack_due_ = false;
  }
  if (sequence_id > latest_processed_ + 1)
    return make_error("invalid_sequence", "Sequence ID greater than amount of messages we've received.");
  next_inbound_id_ = sequence_id;
  return true;
}

}  // namespace sb::connection
