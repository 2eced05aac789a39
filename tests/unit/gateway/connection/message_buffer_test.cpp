#include "connection/message_buffer.hpp"

#include <doctest/doctest.h>

#include <string>

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
