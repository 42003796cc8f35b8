// Reads the bodies of a multi-message FETCH ahead of the session on threads of its own, so that
// reading, decompressing and verifying the next messages (Archive::read_body: zstd and SHA-256
// unless cached, most of FETCH's CPU) overlaps writing message N to the client, and, with two or
// more readers, uses more than one core for it. Readers claim positions in order (0, 1, 2, ...) and
// take() hands the bodies out in that order whatever order they finish in. Memory is bounded: a
// reader does not claim another position while more than `max_bytes` of bodies wait to be taken (a
// position being read is always finished, so the session's next body always comes); a reader held
// back goes on once half of the bound is free. Threads are woken only when they wait for what
// changed (a context switch per body would cost more than reading a cached one).
//
// Bodies are only read into memory ahead; the session still writes each message's audit row
// before serving it. After the first error no further position is claimed: take() returns the
// bodies before it, then the error (the session stops there). The destructor stops the readers
// and joins them (the reader callable must stay valid until then; it is called concurrently
// from `readers` threads). take() is for one consumer thread.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/base/result.h"

namespace mailvault::imapd {

class BodyPrefetcher {
 public:
  // A message's bytes (shared: they may also sit in the archive's body cache).
  using Body = std::shared_ptr<const std::string>;
  // Called on the prefetcher's threads for positions 0 .. count-1, each once.
  using Reader = std::function<Result<Body>(std::size_t pos)>;

  BodyPrefetcher(std::size_t count, Reader read, std::size_t max_bytes, std::size_t readers = 1);
  ~BodyPrefetcher();
  BodyPrefetcher(const BodyPrefetcher&) = delete;
  BodyPrefetcher& operator=(const BodyPrefetcher&) = delete;

  // The body at the next position (0, then 1, ...), waiting until it is read. Must not be
  // called more than `count` times, nor again after it returned an error.
  Result<Body> take();

 private:
  void run();

  const std::size_t count_;
  const Reader read_;
  const std::size_t max_bytes_;
  std::mutex mu_;
  std::condition_variable session_cv_;         // take() waits for its position
  std::condition_variable readers_cv_;         // readers wait for room under max_bytes_
  std::map<std::size_t, Result<Body>> ready_;  // by position
  std::size_t next_claim_ = 0;                 // the next position a reader takes on
  std::size_t next_take_ = 0;                  // the next position take() returns
  std::size_t queued_bytes_ = 0;               // of the bodies in ready_
  bool failed_ = false;                        // a read failed: claim nothing more
  bool stop_ = false;
  bool session_waiting_ = false;      // take() is waiting on session_cv_
  std::size_t readers_waiting_ = 0;   // readers waiting on readers_cv_
  std::vector<std::thread> threads_;  // last: started when everything above is ready
};

}  // namespace mailvault::imapd
