#include "connection/message_buffer.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using sb::connection::MessageBuffer;

namespace {

sb::Frame frame_of(std::size_t bytes, char fill = 'x') { return sb::make_frame(std::string(bytes, fill)); }

}  // namespace

TEST_CASE("writes while the unacknowledged bytes fit, then holds frames until acks make room") {
  MessageBuffer buffer(100);
  CHECK(buffer.add(frame_of(60)));   // id 1
  CHECK_FALSE(buffer.add(frame_of(60)));  // id 2: 120 > 100, waits
  CHECK_FALSE(buffer.add(frame_of(10)));  // id 3: behind a waiting frame, waits too (order)
  CHECK(buffer.buffered_bytes() == 130);
  auto writable = buffer.on_ack(1);
  REQUIRE(writable.size() == 2);
  CHECK(writable[0]->size() == 60);
  CHECK(writable[1]->size() == 10);
  CHECK(buffer.buffered_bytes() == 70);
}

TEST_CASE("a single frame larger than the buffer is still written when nothing else is buffered") {
  MessageBuffer buffer(10);
  CHECK(buffer.add(frame_of(50)));
}

TEST_CASE("resumes at the first unacknowledged id and replays those frames in order") {
  MessageBuffer buffer(1000);
  buffer.add(frame_of(1, 'a'));  // 1
  buffer.add(frame_of(1, 'b'));  // 2
  buffer.add(frame_of(1, 'c'));  // 3
  buffer.on_ack(1);
  CHECK(buffer.resume_sequence_id() == 2);
  auto frames = buffer.unacknowledged_frames();
  REQUIRE(frames.size() == 2);
  CHECK(*frames[0] == "b");
  CHECK(*frames[1] == "c");
}

TEST_CASE("with nothing unacknowledged the Sequence is the next id to be sent") {
  MessageBuffer buffer(1000);
  CHECK(buffer.resume_sequence_id() == 1);
  buffer.add(frame_of(1));
  buffer.add(frame_of(1));
  buffer.on_ack(2);
  CHECK(buffer.resume_sequence_id() == 3);
  CHECK(buffer.unacknowledged_frames().empty());
}

TEST_CASE("a frame holding several records spans several ids and is dropped only when all are acked") {
  MessageBuffer buffer(1000);
  buffer.add(frame_of(1), 3);  // ids 1..3
  buffer.add(frame_of(1));     // id 4
  buffer.on_ack(2);
  CHECK(buffer.resume_sequence_id() == 1);
  buffer.on_ack(3);
  CHECK(buffer.resume_sequence_id() == 4);
}

TEST_CASE("drops inbound messages re-sent after a resume and acknowledges the latest processed") {
  MessageBuffer buffer(1000);
  CHECK(buffer.on_inbound());  // 1
  CHECK(buffer.on_inbound());  // 2
  CHECK(buffer.on_inbound());  // 3
  CHECK(buffer.is_ack_due());
  CHECK(buffer.take_ack() == 3);
  CHECK_FALSE(buffer.is_ack_due());
  // The client resumes from 2: its 2 and 3 are duplicates, 4 is new.
  REQUIRE(buffer.on_sequence(2).ok());
  CHECK_FALSE(buffer.on_inbound());
  CHECK_FALSE(buffer.on_inbound());
  CHECK(buffer.on_inbound());
  CHECK(buffer.take_ack() == 4);
}

TEST_CASE("refuses a Sequence past what was processed") {
  MessageBuffer buffer(1000);
  buffer.on_inbound();
  CHECK(buffer.on_sequence(2).ok());
  auto too_far = buffer.on_sequence(4);
  REQUIRE_FALSE(too_far.ok());
  CHECK(too_far.error().message == "Sequence ID greater than amount of messages we've received.");
}

namespace {

// A buffer continued on "another gateway" from what this one exported.
MessageBuffer handed_over(const MessageBuffer& buffer, std::size_t buffer_bytes) {
  return MessageBuffer(buffer_bytes, buffer.export_state());
}

std::vector<std::string> texts_of(const std::vector<sb::Frame>& frames) {
  std::vector<std::string> texts;
  for (const auto& f : frames) texts.push_back(*f);
  return texts;
}

}  // namespace

TEST_CASE("an exported buffer continues with the same Sequence and replay") {
  MessageBuffer buffer(1000);
  buffer.add(frame_of(1, 'a'));     // 1
  buffer.add(frame_of(1, 'b'), 3);  // 2..4
  buffer.add(frame_of(1, 'c'));     // 5
  buffer.on_ack(1);
  auto continued = handed_over(buffer, 1000);
  CHECK(continued.resume_sequence_id() == buffer.resume_sequence_id());
  CHECK(continued.resume_sequence_id() == 2);
  CHECK(texts_of(continued.unacknowledged_frames()) == texts_of(buffer.unacknowledged_frames()));
  CHECK(continued.buffered_bytes() == buffer.buffered_bytes());
  CHECK(continued.export_state() == buffer.export_state());
}

TEST_CASE("a continued buffer numbers new frames after the exported ones and trims them on acks") {
  MessageBuffer buffer(1000);
  buffer.add(frame_of(1, 'a'), 2);  // 1..2
  buffer.add(frame_of(1, 'b'));     // 3
  auto continued = handed_over(buffer, 1000);
  continued.add(frame_of(1, 'd'));  // 4
  continued.on_ack(2);
  CHECK(continued.resume_sequence_id() == 3);
  CHECK(texts_of(continued.unacknowledged_frames()) == std::vector<std::string>{"b", "d"});
  continued.on_ack(4);
  CHECK(continued.resume_sequence_id() == 5);
  CHECK(continued.buffered_bytes() == 0);
}

TEST_CASE("waiting frames survive a handoff and are written when acks make room") {
  MessageBuffer buffer(100);
  buffer.add(frame_of(60, 'a'));  // 1, written
  buffer.add(frame_of(60, 'b'));  // 2, waits
  buffer.add(frame_of(10, 'c'));  // 3, waits
  auto continued = handed_over(buffer, 100);
  CHECK(continued.buffered_bytes() == 130);
  REQUIRE(continued.export_state().waiting.size() == 2);
  CHECK(texts_of(continued.unacknowledged_frames()) == std::vector<std::string>{std::string(60, 'a')});
  // A new frame queues behind the waiting ones (order).
  CHECK_FALSE(continued.add(frame_of(5, 'e')));  // 4
  auto writable = continued.on_ack(1);
  CHECK(texts_of(writable) == std::vector<std::string>{std::string(60, 'b'), std::string(10, 'c'), std::string(5, 'e')});
  CHECK(continued.resume_sequence_id() == 2);
}

TEST_CASE("a continued buffer keeps dropping duplicates and acknowledges promptly") {
  MessageBuffer buffer(1000);
  CHECK(buffer.on_inbound());  // 1
  CHECK(buffer.on_inbound());  // 2
  CHECK(buffer.take_ack() == 2);
  auto continued = handed_over(buffer, 1000);
  // The client may not have seen the old gateway's last Ack: the new one sends it soon.
  CHECK(continued.is_ack_due());
  // The client resumes from 2: its 2 is a duplicate, 3 is new.
  REQUIRE(continued.on_sequence(2).ok());
  CHECK_FALSE(continued.on_inbound());
  CHECK(continued.on_inbound());
  CHECK(continued.take_ack() == 3);
  CHECK_FALSE(continued.on_sequence(5).ok());
}

TEST_CASE("a fresh buffer exports the starting ids and continues with no Ack due") {
  MessageBuffer buffer(1000);
  auto state = buffer.export_state();
  CHECK(state.next_outbound_id == 1);
  CHECK(state.next_inbound_id == 1);
  CHECK(state.latest_processed == 0);
  CHECK(state.unacked.empty());
  CHECK(state.waiting.empty());
  auto continued = handed_over(buffer, 1000);
  CHECK_FALSE(continued.is_ack_due());
  CHECK(continued.resume_sequence_id() == 1);
}

TEST_CASE("a buffer exported between a resume and the client's re-sent messages continues that resume") {
  MessageBuffer buffer(1000);
  buffer.on_inbound();  // 1
  buffer.on_inbound();  // 2
  buffer.on_inbound();  // 3
  REQUIRE(buffer.on_sequence(2).ok());
  auto state = buffer.export_state();
  CHECK(state.next_inbound_id == 2);  // behind latest_processed: 2 and 3 are still to be dropped
  CHECK(state.latest_processed == 3);
  MessageBuffer continued(1000, state);
  CHECK_FALSE(continued.on_inbound());
  CHECK_FALSE(continued.on_inbound());
  CHECK(continued.on_inbound());
  CHECK(continued.take_ack() == 4);
}
