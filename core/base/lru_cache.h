// A byte-bounded LRU cache of immutable values keyed by MessageId. Archived messages never
// change, so an entry never goes stale and is only evicted for room. Used for the verified raw
// bodies Archive::read_body serves (core/archive) and for the folded texts IMAP SEARCH matches
// (server-imap/session/text_cache.h).
//
// Admission: every value put (kFirstRequest), or only a value whose id was put once before and
// is still remembered (kSecondRequest; ids only, about max_bytes / 4 KiB of them, oldest
// forgotten first). The second keeps a one-off scan (one FETCH of a whole mailbox, an export)
// from pushing out what is read again and again, and costs a one-off read no memory.
//
// Thread-safe: one mutex around the map; loading happens outside the lock, so two threads may
// load the same message at once (harmless: equal values, the first one stored is kept).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <list>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <utility>

#include "core/base/ids.h"

namespace mailvault {

template <typename T>
class ByteLruCache {
 public:
  // The list and map nodes and the shared_ptr control block of one entry, roughly.
  static constexpr std::size_t kEntryOverhead = 160;

  enum class Admission { kFirstRequest, kSecondRequest };

  explicit ByteLruCache(std::size_t max_bytes, Admission admission = Admission::kFirstRequest)
      : max_bytes_(max_bytes),
        admission_(admission),
        max_ghosts_(std::max<std::size_t>(64, max_bytes / 4096)) {}

  // The cached value, or null.
  std::shared_ptr<const T> find(MessageId id) {
    const std::lock_guard lock(mu_);
    const auto it = index_.find(to_int(id));
    if (it == index_.end())
      return nullptr;
    lru_.splice(lru_.begin(), lru_, it->second);
    return it->second->value;
  }

  // Stores `value` (if admitted), counted as `bytes` (plus kEntryOverhead), evicting the least
  // recently used entries beyond max_bytes; a value larger than max_bytes is not kept. Returns
  // the cached value (an earlier one for the same id wins), else `value`.
  std::shared_ptr<const T> put(MessageId id, std::shared_ptr<const T> value, std::size_t bytes) {
    const std::size_t size = bytes + kEntryOverhead;
    if (size > max_bytes_)
      return value;
    const std::lock_guard lock(mu_);
    if (const auto it = index_.find(to_int(id)); it != index_.end()) {
      lru_.splice(lru_.begin(), lru_, it->second);
      return it->second->value;
    }
    if (admission_ == Admission::kSecondRequest && !forget_ghost(id)) {
      remember_ghost(id);
      return value;
    }
    while (!lru_.empty() && bytes_ + size > max_bytes_) {
      bytes_ -= lru_.back().bytes;
      index_.erase(to_int(lru_.back().id));
      lru_.pop_back();
    }
    lru_.push_front(Entry{id, value, size});
    index_.emplace(to_int(id), lru_.begin());
    bytes_ += size;
    return value;
  }

  // Bytes counted for the entries held (values and overhead).
  [[nodiscard]] std::size_t bytes() const {
    const std::lock_guard lock(mu_);
    return bytes_;
  }

  [[nodiscard]] std::size_t size() const {
    const std::lock_guard lock(mu_);
    return index_.size();
  }

  [[nodiscard]] std::size_t max_bytes() const noexcept { return max_bytes_; }

 private:
  struct Entry {
    MessageId id;
    std::shared_ptr<const T> value;
    std::size_t bytes;
  };

  // True (and forgotten) when `id` was remembered.
  bool forget_ghost(MessageId id) { return ghosts_.erase(to_int(id)) != 0; }

  void remember_ghost(MessageId id) {
    ghosts_[to_int(id)] = ++ghost_seq_;
    ghost_order_.emplace_back(to_int(id), ghost_seq_);
    while (ghosts_.size() > max_ghosts_ || ghost_order_.size() > 2 * max_ghosts_) {
      const auto [old, seq] = ghost_order_.front();
      ghost_order_.pop_front();
      // Only the latest remembering of an id counts (an id may be remembered again later).
      if (const auto g = ghosts_.find(old); g != ghosts_.end() && g->second == seq)
        ghosts_.erase(g);
    }
  }

  const std::size_t max_bytes_;
  const Admission admission_;
  const std::size_t max_ghosts_;
  mutable std::mutex mu_;
  std::list<Entry> lru_;  // most recently used first
  std::unordered_map<std::int64_t, typename std::list<Entry>::iterator> index_;
  std::size_t bytes_ = 0;
  // kSecondRequest: ids put but not admitted, with the sequence number of their latest put.
  std::unordered_map<std::int64_t, std::uint64_t> ghosts_;
  std::deque<std::pair<std::int64_t, std::uint64_t>> ghost_order_;  // oldest first
  std::uint64_t ghost_seq_ = 0;
};

}  // namespace mailvault
