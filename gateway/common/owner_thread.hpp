#pragma once
// A debug check that an owner-thread-only API (a connection's, a registry's) is called from the thread
// that owns the object (STYLE.md "Concurrency"). The first checked call binds the owner: objects are
// built on one thread and handed to their loop before use. Active where `assert` is (debug and sanitizer
// builds); compiled out with NDEBUG.
#include <cassert>
#include <thread>

namespace sb {

class OwnerThread {
 public:
#ifndef NDEBUG
  void check() const {
    auto me = std::this_thread::get_id();
    if (owner_ == std::thread::id()) owner_ = me;
    assert(owner_ == me && "called from a thread that does not own the object");
  }

 private:
  mutable std::thread::id owner_;
#else
  void check() const {}
#endif
};

}  // namespace sb
