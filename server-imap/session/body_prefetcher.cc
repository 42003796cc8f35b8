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
  readers_cv_.notify_all();
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
      const auto may_claim = [&] {
        return stop_ || ready_.empty() || queued_bytes_ < max_bytes_;
      };
      if (!may_claim()) {
        ++readers_waiting_;
        readers_cv_.wait(lock, may_claim);
        --readers_waiting_;
      }
      if (stop_ || failed_ || next_claim_ >= count_)
        return;
      pos = next_claim_++;
    }
    Result<Body> body = read_(pos);
    const bool failed = !body.has_value();
    bool wake_session = false;
    {
      const std::lock_guard lock(mu_);
      queued_bytes_ += failed ? 0 : (*body)->size();
      ready_.emplace(pos, std::move(body));
      failed_ = failed_ || failed;
      wake_session = session_waiting_ && pos == next_take_;
    }
    // Wake-ups cost a context switch each: only the one the session is waiting for.
    if (wake_session)
      session_cv_.notify_one();
    if (failed)
      return;
  }
}

Result<BodyPrefetcher::Body> BodyPrefetcher::take() {
  std::unique_lock lock(mu_);
  if (ready_.count(next_take_) == 0) {
    session_waiting_ = true;
    session_cv_.wait(lock, [&] { return ready_.count(next_take_) != 0; });
    session_waiting_ = false;
  }
  auto node = ready_.extract(next_take_);
  ++next_take_;
  Result<Body> body = std::move(node.mapped());
  queued_bytes_ -= body.has_value() ? (*body)->size() : 0;
  // Readers held back by the bound go on once half of it is free (or nothing is left), not
  // after every body taken: one wake-up per several bodies.
  const bool wake_readers =
      readers_waiting_ > 0 && (ready_.empty() || queued_bytes_ <= max_bytes_ / 2);
  lock.unlock();
  if (wake_readers)
    readers_cv_.notify_all();
  return body;
}

}  // namespace mailvault::imapd
