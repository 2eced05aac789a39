#include "switchboard/detail/growing_thread_pool.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>

#include <doctest/doctest.h>

using switchboard::detail::GrowingThreadPool;

namespace {

// Jobs that hold their thread until released, so a test can see how many run at once.
class Gate {
 public:
  void pass() {
    std::unique_lock lock(mutex_);
    ++waiting_;
    changed_.notify_all();
    changed_.wait(lock, [this] { return is_open_; });
  }
  // True when `count` jobs are waiting at the gate within the deadline.
  bool await_waiting(int count) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, std::chrono::seconds(10), [&] { return waiting_ >= count; });
  }
  void open() {
    const std::lock_guard lock(mutex_);
    is_open_ = true;
    changed_.notify_all();
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  int waiting_ = 0;
  bool is_open_ = false;
};

}  // namespace

TEST_CASE("the pool starts a thread for each job that arrives while every thread is busy") {
  GrowingThreadPool pool(8);
  Gate gate;
  for (int i = 0; i < 5; ++i) pool.enqueue([&] { gate.pass(); });
  CHECK(gate.await_waiting(5));  // all five blocked at once: five threads
  CHECK(pool.thread_count() == 5);
  gate.open();
  pool.shutdown();
}

TEST_CASE("the pool queues jobs beyond its maximum number of threads and runs them later") {
  GrowingThreadPool pool(2);
  Gate gate;
  std::atomic<int> finished = 0;
  for (int i = 0; i < 6; ++i) {
    pool.enqueue([&] {
      gate.pass();
      ++finished;
    });
  }
  CHECK(gate.await_waiting(2));
  CHECK(pool.thread_count() == 2);
  gate.open();
  pool.shutdown();
  CHECK(finished == 6);
}

TEST_CASE("the pool runs the jobs still queued when it shuts down") {
  std::atomic<int> finished = 0;
  {
    GrowingThreadPool pool(1);
    for (int i = 0; i < 3; ++i) pool.enqueue([&] { ++finished; });
  }  // the destructor shuts down
  CHECK(finished == 3);
}

TEST_CASE("the pool keeps its thread when a job throws") {
  GrowingThreadPool pool(1);
  std::atomic<bool> has_run_after = false;
  pool.enqueue([] { throw std::runtime_error("job failed"); });
  pool.enqueue([&] { has_run_after = true; });
  pool.shutdown();
  CHECK(has_run_after);
  CHECK(pool.thread_count() == 1);
}
