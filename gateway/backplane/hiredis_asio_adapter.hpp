#pragma once
// Runs a hiredis asynchronous context on an Asio io_context (hiredis ships adapters for libevent, libuv
// and others, not Asio). hiredis owns its socket: we watch the fd with a stream_descriptor that never
// closes it (released when hiredis frees the context) and call redisAsyncHandleRead/Write when it is
// ready, as hiredis's adapters/libevent.h does. Everything runs on the io_context's one thread.
#include <boost/asio/io_context.hpp>

struct redisAsyncContext;

namespace sb::backplane {

// Installs the event hooks on `context` (which has none yet). The adapter frees itself once hiredis
// calls its cleanup hook (when the context is freed) and no wait of its own is pending.
// Returns false, touching nothing, when the context has no usable fd.
bool attach_to_asio(redisAsyncContext* context, boost::asio::io_context& io);

}  // namespace sb::backplane
