#include "switchboard/detail/growing_thread_pool.hpp"

#include <algorithm>

#include "switchboard/detail/log_line.hpp"

namespace switchboard::detail {

GrowingThreadPool::GrowingThreadPool(std::size_t max_threads) : max_threads_(std::max<std::size_t>(1, max_threads)) {}

GrowingThreadPool::~GrowingThreadPool() { shutdown(); }

void GrowingThreadPool::enqueue(std::function<void()> job) {
  {
    const std::lock_guard lock(mutex_);
    jobs_.push_back(std::move(job));
    // Every idle thread will take one queued job; start another only for a job none of them will take.
    if (jobs_.size() > idle_threads_ && threads_.size() < max_threads_ && !is_shutting_down_) {
      threads_.emplace_back([this] { work(); });
    }
  }
  has_job_.notify_one();
}

void GrowingThreadPool::shutdown() {
  {
    const std::lock_guard lock(mutex_);
    is_shutting_down_ = true;
  }
  has_job_.notify_all();
  // No thread is added once is_shutting_down_ is set, so threads_ is stable here.
  for (std::thread& thread : threads_) {
    if (thread.joinable()) thread.join();
  }
}

std::size_t GrowingThreadPool::thread_count() {
  const std::lock_guard lock(mutex_);
  return threads_.size();
}

void GrowingThreadPool::work() {
  std::unique_lock lock(mutex_);
  while (true) {
    ++idle_threads_;
    has_job_.wait(lock, [this] { return !jobs_.empty() || is_shutting_down_; });
    --idle_threads_;
    if (jobs_.empty()) return;  // shutting down, nothing left to run

    std::function<void()> job = std::move(jobs_.front());
    jobs_.pop_front();
    lock.unlock();
    try {
      job();
    } catch (const std::exception& failure) {
      // cpp-httplib's jobs handle their own errors; this keeps the thread if one doesn't.
      write_log_line("error functions pool_job_failed error=" + log_value(failure.what()));
    } catch (...) {
      write_log_line("error functions pool_job_failed error=\"not a std::exception\"");
    }
    lock.lock();
  }
}

}  // namespace switchboard::detail
