// A byte-bounded LRU cache of folded message texts (text_match.h SearchableMessage, or the
// compact SearchableHeader) keyed by MessageId: archived messages never change, so an entry
// never goes stale and is only evicted for room. Shared by every session of a server (one
// memory budget per cache), so a client's repeated or refined searches read each sidecar once.
//
// Thread-safe: one mutex around the map; the loading itself happens outside the lock, so two
// sessions may load the same message at once (harmless: equal values, one wins).
#pragma once

#include <cstddef>
#include <list>
#include <memory>
#include <mutex>
#include <unordered_map>

#include "core/base/ids.h"
#include "server-imap/session/text_match.h"

namespace mailvault::imapd {

// T has `std::size_t bytes() const` (approximate heap bytes).
template <typename T>
class TextCache {
 public:
  explicit TextCache(std::size_t max_bytes) : max_bytes_(max_bytes) {}

  // The cached text, or null.
  std::shared_ptr<const T> find(MessageId id) {
    const std::lock_guard lock(mu_);
    const auto it = index_.find(to_int(id));
    if (it == index_.end())
      return nullptr;
    lru_.splice(lru_.begin(), lru_, it->second);
    return it->second->text;
  }

  // Stores `text` (evicting the least recently used entries beyond max_bytes; an entry larger
  // than max_bytes is not kept). Returns it.
  std::shared_ptr<const T> put(MessageId id, std::shared_ptr<const T> text) {
    const std::size_t size = text->bytes() + kEntryOverhead;
    if (size > max_bytes_)
      return text;
    const std::lock_guard lock(mu_);
    if (const auto it = index_.find(to_int(id)); it != index_.end()) {
      lru_.splice(lru_.begin(), lru_, it->second);
      return it->second->text;
    }
    while (!lru_.empty() && bytes_ + size > max_bytes_) {
      bytes_ -= lru_.back().bytes;
      index_.erase(to_int(lru_.back().id));
      lru_.pop_back();
    }
    lru_.push_front(Entry{id, text, size});
    index_.emplace(to_int(id), lru_.begin());
    bytes_ += size;
    return text;
  }

  [[nodiscard]] std::size_t bytes() const {
    const std::lock_guard lock(mu_);
    return bytes_;
  }

  [[nodiscard]] std::size_t size() const {
    const std::lock_guard lock(mu_);
    return index_.size();
  }

 private:
  // The list and map nodes and the shared_ptr control block of one entry, roughly.
  static constexpr std::size_t kEntryOverhead = 160;

  struct Entry {
    MessageId id;
    std::shared_ptr<const T> text;
    std::size_t bytes;
  };

  std::size_t max_bytes_;
  mutable std::mutex mu_;
  std::list<Entry> lru_;  // most recently used first
  std::unordered_map<std::int64_t, typename std::list<Entry>::iterator> index_;
  std::size_t bytes_ = 0;
};

}  // namespace mailvault::imapd
