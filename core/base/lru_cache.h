// A byte-bounded LRU cache of immutable values keyed by MessageId. Archived messages never
// change, so an entry never goes stale and is only evicted for room. Used for the verified raw
// bodies Archive::read_body serves (core/archive) and for the folded texts IMAP SEARCH matches
// (server-imap/session/text_cache.h).
//
// Thread-safe: one mutex around the map; loading happens outside the lock, so two threads may
// load the same message at once (harmless: equal values, the first one stored is kept).
#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <unordered_map>

#include "core/base/ids.h"

namespace mailvault {

template <typename T>
class ByteLruCache {
 public:
  // The list and map nodes and the shared_ptr control block of one entry, roughly.
  static constexpr std::size_t kEntryOverhead = 160;

  explicit ByteLruCache(std::size_t max_bytes) : max_bytes_(max_bytes) {}

  // The cached value, or null.
  std::shared_ptr<const T> find(MessageId id) {
    const std::lock_guard lock(mu_);
    const auto it = index_.find(to_int(id));
    if (it == index_.end())
      return nullptr;
    lru_.splice(lru_.begin(), lru_, it->second);
    return it->second->value;
  }

  // Stores `value`, counted as `bytes` (plus kEntryOverhead), evicting the least recently used
  // entries beyond max_bytes; a value larger than max_bytes is not kept. Returns the cached
  // value (an earlier one for the same id wins).
  std::shared_ptr<const T> put(MessageId id, std::shared_ptr<const T> value, std::size_t bytes) {
    const std::size_t size = bytes + kEntryOverhead;
    if (size > max_bytes_)
      return value;
    const std::lock_guard lock(mu_);
    if (const auto it = index_.find(to_int(id)); it != index_.end()) {
      lru_.splice(lru_.begin(), lru_, it->second);
      return it->second->value;
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

  const std::size_t max_bytes_;
  mutable std::mutex mu_;
  std::list<Entry> lru_;  // most recently used first
  std::unordered_map<std::int64_t, typename std::list<Entry>::iterator> index_;
  std::size_t bytes_ = 0;
};

}  // namespace mailvault
