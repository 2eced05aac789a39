// libFuzzer target for functions-runtime's upstream dispatcher (switchboard/detail/upstream_dispatcher.hpp),
// which reads every event body a function gets: invocations (JSON or MessagePack, with streamIds) and
// the framed records of upload parts. The first byte picks the content type and whether the request is
// an upload part; the rest is the body. Properties: never crashes; answers a status the dispatcher
// documents; a handler runs only for a body it could read, and an upload part's items are numbered
// from the sequence header.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include <switchboard/detail/upstream_dispatcher.hpp>

using switchboard::Context;
using switchboard::Reply;
using switchboard::detail::UpstreamDispatcher;
using switchboard::detail::UpstreamEvent;
using switchboard::detail::UpstreamRequest;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  static UpstreamDispatcher* dispatcher = [] {
    auto* d = new UpstreamDispatcher(switchboard::AppOptions{.validate_signature = false});
    auto check = [](const Context& ctx, Reply& reply) {
      if (ctx.upload && ctx.upload->stream_id != "0") std::abort();  // only stream 0's records are read
      reply.result(ctx.arguments.size() + ctx.stream_ids.size());
    };
    d->add(UpstreamEvent::upload, "hub", "up", check);
    d->add(UpstreamEvent::message, "hub", "up", check);
    d->add(UpstreamEvent::stream, "hub", "up", check);
    return d;
  }();
  const bool is_messagepack = data[0] & 1;
  const bool is_part = data[0] & 2;
  UpstreamRequest request;
  request.headers = {{"Content-Type", is_messagepack ? "application/x-msgpack" : "application/json"},
                     {"X-ASRS-Hub", "hub"},
                     {"X-ASRS-Category", "messages"},
                     {"X-ASRS-Event", "up"},
                     {"X-ASRS-Connection-Id", "c"}};
  if (is_part) {
    request.headers.emplace("X-Switchboard-Stream-Id", "0");
    request.headers.emplace("X-Switchboard-Stream-Sequence", (data[0] & 4) ? "18446744073709551615" : "3");
  }
  request.body.assign(reinterpret_cast<const char*>(data) + 1, size - 1);
  request.target = "/upstream";
  const auto answer = dispatcher->dispatch(request);
  if (answer.status != 200 && answer.status != 400) std::abort();
  return 0;
}
