#include "server-imap/session/body_prefetcher.h"

#include <utility>

namespace mailvault::imapd {

BodyPrefetcher::BodyPrefetcher(std::size_t count, Reader read, std::size_t max_bytes)
    : count_(count), read_(std::move(read)), max_bytes_(max_bytes), thread_([this] { run(); }) {}

BodyPrefetcher::~BodyPrefetcher() {
  {
    const std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void BodyPrefetcher::run() {
  for (std::size_t pos = 0; pos < count_; ++pos) {
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return stop_ || ready_.empty() || queued_bytes_ < max_bytes_; });
      if (stop_)
        return;
    }
    Result<std::string> body = read_(pos);
    const bool failed = !body.has_value();
    {
      const std::lock_guard lock(mu_);
      queued_bytes_ += failed ? 0 : body->size();
      ready_.push_back(std::move(body));
    }
    cv_.notify_all();
    if (failed)
      return;
  }
}

Result<std::string> BodyPrefetcher::take() {
  std::unique_lock lock(mu_);
  cv_.wait(lock, [&] { return !ready_.empty(); });
  Result<std::string> body = std::move(ready_.front());
  ready_.pop_front();
  queued_bytes_ -= body.has_value() ? body->size() : 0;
  lock.unlock();
  cv_.notify_all();
  return body;
}

}  // namespace mailvault::imapd
