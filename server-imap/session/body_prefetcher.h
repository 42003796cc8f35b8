// Reads the bodies of a multi-message FETCH ahead of the session on one thread of its own, in
// order, so that reading, decompressing and verifying message N+1 (Archive::read_raw: zstd and
// SHA-256, most of FETCH's CPU) overlaps writing message N to the client. Memory is bounded: the
// reader waits while more than `max_bytes` of bodies are queued (always at least one).
//
// Bodies are only read into memory ahead; the session still writes each message's audit row
// before serving it. The reader stops after the first error (the session stops there too) or
// when the prefetcher is destroyed (which joins the thread: the reader callable must stay valid
// until then). take() is for one consumer thread, in order.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "core/base/result.h"

namespace mailvault::imapd {

class BodyPrefetcher {
 public:
  // Called on the prefetcher's thread for positions 0 .. count-1, in order.
  using Reader = std::function<Result<std::string>(std::size_t pos)>;

  BodyPrefetcher(std::size_t count, Reader read, std::size_t max_bytes);
  ~BodyPrefetcher();
  BodyPrefetcher(const BodyPrefetcher&) = delete;
  BodyPrefetcher& operator=(const BodyPrefetcher&) = delete;

  // The body at the next position (0, then 1, ...), waiting until it is read. Must not be
  // called more than `count` times, nor again after it returned an error.
  Result<std::string> take();

 private:
  void run();

  const std::size_t count_;
  const Reader read_;
  const std::size_t max_bytes_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Result<std::string>> ready_;
  std::size_t queued_bytes_ = 0;
  bool stop_ = false;
  std::thread thread_;  // last: started when everything above is ready
};

}  // namespace mailvault::imapd
