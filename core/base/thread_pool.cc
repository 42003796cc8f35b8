#include "core/base/thread_pool.h"

#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <exception>
#include <memory>

#include "core/base/log.h"

namespace mailvault {

void lower_current_thread_priority(int increment) noexcept {
  if (increment <= 0)
    return;
  const auto tid = static_cast<id_t>(::syscall(SYS_gettid));
  errno = 0;
  const int now = ::getpriority(PRIO_PROCESS, tid);
  if (errno == 0 && ::setpriority(PRIO_PROCESS, tid, std::min(now + increment, 19)) == 0)
    return;
  spdlog::debug("cannot lower the priority of thread {}: {}", tid, std::strerror(errno));
}

ThreadPool::ThreadPool(std::size_t threads, std::size_t max_queue, int nice)
    : max_queue_(max_queue == 0 ? 1 : max_queue) {
  if (threads == 0)
    threads = 1;
  workers_.reserve(threads);
  for (std::size_t i = 0; i < threads; ++i) {
    workers_.emplace_back([this, nice] {
      lower_current_thread_priority(nice);
      run();
    });
  }
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  has_work_.notify_all();
  has_room_.notify_all();
  for (auto& t : workers_)
    t.join();
}

void ThreadPool::submit(std::function<void()> task) {
  std::unique_lock lock(mu_);
  has_room_.wait(lock, [&] { return queue_.size() < max_queue_ || stopping_; });
  queue_.push_back(std::move(task));
  lock.unlock();
  has_work_.notify_one();
}

void ThreadPool::run() {
  for (;;) {
    std::function<void()> task;
    {
      std::unique_lock lock(mu_);
      has_work_.wait(lock, [&] { return !queue_.empty() || stopping_; });
      if (queue_.empty())
        return;
      task = std::move(queue_.front());
      queue_.pop_front();
    }
    has_room_.notify_one();
    try {
      task();
    } catch (const std::exception& e) {
      spdlog::error("thread pool task failed: {}", e.what());
    }
  }
}

void ThreadPool::parallel_for(std::size_t n, const std::function<void(std::size_t)>& fn) {
  if (n == 0)
    return;

  // Shared state outlives this call: a helper task may start after every item was claimed.
  struct State {
    std::atomic<std::size_t> next{0};
    std::size_t done = 0;
    std::mutex mu;
    std::condition_variable all_done;
  };

  auto state = std::make_shared<State>();
  const std::function<void(std::size_t)>* body = &fn;
  const std::size_t total = n;
  auto worker = [state, body, total] {
    std::size_t finished = 0;
    for (std::size_t i = state->next.fetch_add(1); i < total; i = state->next.fetch_add(1)) {
      (*body)(i);
      ++finished;
    }
    if (finished == 0)
      return;  // claimed nothing: never touches *body after the caller returns
    std::lock_guard lock(state->mu);
    state->done += finished;
    if (state->done == total)
      state->all_done.notify_all();
  };
  const std::size_t helpers = std::min(n - 1, workers_.size());
  for (std::size_t h = 0; h < helpers; ++h)
    submit(worker);
  worker();
  std::unique_lock lock(state->mu);
  state->all_done.wait(lock, [&] { return state->done == total; });
}

}  // namespace mailvault
