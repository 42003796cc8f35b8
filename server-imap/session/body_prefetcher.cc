#include "server-imap/session/body_prefetcher.h"

#include <algorithm>
#include <utility>

namespace mailvault::imapd {

BodyPrefetcher::BodyPrefetcher(std::size_t count, Reader read, std::size_t max_bytes,
                               std::size_t readers)
    : count_(count), read_(std::move(read)), max_bytes_(max_bytes) {
  const std::size_t n = std::clamp<std::size_t>(readers, 1, std::max<std::size_t>(count, 1));
  threads_.reserve(n);
  for (std::size_t i = 0; i < n; ++i)
    threads_.emplace_back([this] { run(); });
}

BodyPrefetcher::~BodyPrefetcher() {
  {
    const std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  for (std::thread& t : threads_)
    t.join();
}

void BodyPrefetcher::run() {
  for (;;) {
    std::size_t pos = 0;
    {
      std::unique_lock lock(mu_);
      // Nothing waiting to be taken means the session waits for (or is about to claim) the
      // next position: always go on then, whatever the bound.
      cv_.wait(lock, [&] { return stop_ || ready_.empty() || queued_bytes_ < max_bytes_; });
      if (stop_ || failed_ || next_claim_ >= count_)
        return;
      pos = next_claim_++;
    }
    Result<std::string> body = read_(pos);
    const bool failed = !body.has_value();
    {
      const std::lock_guard lock(mu_);
      queued_bytes_ += failed ? 0 : body->size();
      ready_.emplace(pos, std::move(body));
      failed_ = failed_ || failed;
    }
    cv_.notify_all();
    if (failed)
      return;
  }
}

Result<std::string> BodyPrefetcher::take() {
  std::unique_lock lock(mu_);
  cv_.wait(lock, [&] { return ready_.count(next_take_) != 0; });
  auto node = ready_.extract(next_take_);
  ++next_take_;
  Result<std::string> body = std::move(node.mapped());
  queued_bytes_ -= body.has_value() ? body->size() : 0;
  lock.unlock();
  cv_.notify_all();
  return body;
}

}  // namespace mailvault::imapd
