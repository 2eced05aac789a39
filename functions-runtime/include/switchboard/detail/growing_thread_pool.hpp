// The task queue App gives cpp-httplib: it starts a thread whenever a job arrives and no thread is
// idle, up to max_threads, and keeps threads for reuse.
//
// Why not httplib::ThreadPool: cpp-httplib keeps a pool thread on each keep-alive connection until
// that connection has been idle for its keep-alive timeout (5 s). The gateway holds many pooled
// upstream connections, so with a fixed pool of 8 a request on the ninth would wait seconds behind
// idle sockets. Past max_threads, jobs queue just the same.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include <httplib.h>

namespace switchboard::detail {

class GrowingThreadPool final : public httplib::TaskQueue {
 public:
  explicit GrowingThreadPool(std::size_t max_threads);
  ~GrowingThreadPool() override;  // shutdown()
  GrowingThreadPool(const GrowingThreadPool&) = delete;
  GrowingThreadPool& operator=(const GrowingThreadPool&) = delete;

  void enqueue(std::function<void()> job) override;  // any thread
  void shutdown() override;  // runs the jobs already queued, then joins every thread; idempotent

  std::size_t thread_count();

 private:
  void work();

  std::mutex mutex_;
  std::condition_variable has_job_;
  std::deque<std::function<void()>> jobs_;
  std::vector<std::thread> threads_;
  std::size_t idle_threads_ = 0;
  const std::size_t max_threads_;
  bool is_shutting_down_ = false;
};

}  // namespace switchboard::detail
