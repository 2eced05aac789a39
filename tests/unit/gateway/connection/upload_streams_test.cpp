#include "connection/upload_streams.hpp"

#include <doctest/doctest.h>

using sb::connection::UploadStreams;

TEST_CASE("an upload's items are numbered per stream, and its last Completion answers the invocation") {
  UploadStreams uploads;
  auto opened = uploads.open(std::string("7"), false, "sum", {"0", "1"}, 10);
  REQUIRE(opened.ok());
  CHECK(opened->stream_id.empty());
  CHECK(opened->invocation_id == "7");
  CHECK(opened->target == "sum");
  CHECK(uploads.is_open("0"));
  CHECK(uploads.is_open("1"));

  CHECK(uploads.item("0").first_sequence == 0);
  CHECK(uploads.item("1").first_sequence == 0);
  auto second = uploads.item("0");
  CHECK(second.first_sequence == 1);
  CHECK(second.items == 1);
  CHECK(second.stream_id == "0");
  CHECK(second.upload == opened->upload);

  auto first_end = uploads.complete("0");
  CHECK(first_end.completes_stream);
  CHECK(first_end.first_sequence == 2);  // the number the next item would have had
  CHECK_FALSE(first_end.is_last);
  CHECK_FALSE(uploads.is_open("0"));
  auto last_end = uploads.complete("1");
  CHECK(last_end.is_last);
  CHECK(last_end.invocation_id == "7");
  CHECK(uploads.empty());
}

TEST_CASE("a stream id in use, repeated, or over the limit opens nothing") {
  UploadStreams uploads;
  REQUIRE(uploads.open(std::nullopt, false, "a", {"0"}, 3).ok());
  CHECK(uploads.open(std::string("1"), false, "b", {"5", "0"}, 3).error().code == "stream_id_in_use");
  CHECK_FALSE(uploads.is_open("5"));
  CHECK(uploads.open(std::string("1"), false, "b", {"6", "6"}, 3).error().code == "stream_id_in_use");
  CHECK_FALSE(uploads.is_open("6"));
  CHECK(uploads.open(std::string("1"), false, "b", {"7", "8", "9"}, 3).error().code == "too_many_streams");
  CHECK(uploads.size() == 1);
  CHECK(uploads.open(std::string("1"), false, "b", {"7", "8"}, 3).ok());
}

TEST_CASE("ending an upload early closes all of its streams and no other") {
  UploadStreams uploads;
  auto a = uploads.open(std::string("1"), true, "a", {"0", "1"}, 10);
  auto b = uploads.open(std::string("2"), false, "b", {"2"}, 10);
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  CHECK(a->is_stream_invocation);
  uploads.end(a->upload);
  CHECK_FALSE(uploads.is_open("0"));
  CHECK_FALSE(uploads.is_open("1"));
  CHECK(uploads.is_open("2"));
  uploads.end(a->upload);  // twice: nothing more
  CHECK(uploads.size() == 1);
  // A closed id may be opened again by a later invocation.
  CHECK(uploads.open(std::string("3"), false, "c", {"0"}, 10).ok());
}
