// A fixed-size pool of worker threads with a bounded queue. submit() blocks while the queue is
// full (back-pressure); tasks must not throw (exceptions are logged and dropped).
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <future>
#include <mutex>
#include <thread>
#include <vector>

namespace mailvault {

// Adds `increment` to the calling thread's niceness (Linux: per thread), so that it yields the
// CPU to the process's other threads. Failure is harmless and only logged.
void lower_current_thread_priority(int increment) noexcept;

class ThreadPool {
 public:
  // `nice`: added to each worker thread's scheduling niceness (0: as the creating thread).
  explicit ThreadPool(std::size_t threads, std::size_t max_queue = 1024, int nice = 0);
  ~ThreadPool();  // finishes queued tasks, then joins
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;
  ThreadPool(ThreadPool&&) = delete;
  ThreadPool& operator=(ThreadPool&&) = delete;

  void submit(std::function<void()> task);

  std::size_t size() const noexcept { return workers_.size(); }

  // Runs fn(i) for i in [0, n) on the pool and the calling thread; returns when all are done.
  void parallel_for(std::size_t n, const std::function<void(std::size_t)>& fn);

 private:
  void run();
  std::mutex mu_;
  std::condition_variable has_work_;
  std::condition_variable has_room_;
  std::deque<std::function<void()>> queue_;
  std::size_t max_queue_;
  bool stopping_ = false;
  std::vector<std::thread> workers_;
};

}  // namespace mailvault
