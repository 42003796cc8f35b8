// A byte-bounded LRU cache of folded message texts (text_match.h SearchableMessage) keyed by
// MessageId: archived messages never change, so an entry never goes stale and is only evicted
// for room. Shared by every session of a server (one memory budget), so a client's repeated or
// refined searches read each sidecar once.
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

class TextCache {
 public:
  explicit TextCache(std::size_t max_bytes) : max_bytes_(max_bytes) {}

  // The cached text, or null.
  std::shared_ptr<const SearchableMessage> find(MessageId id);

  // Stores `text` (evicting the least recently used entries beyond max_bytes; an entry larger
  // than max_bytes is not kept). Returns it.
  std::shared_ptr<const SearchableMessage> put(MessageId id,
                                               std::shared_ptr<const SearchableMessage> text);

  [[nodiscard]] std::size_t bytes() const;

 private:
  struct Entry {
    MessageId id;
    std::shared_ptr<const SearchableMessage> text;
    std::size_t bytes;
  };

  std::size_t max_bytes_;
  mutable std::mutex mu_;
  std::list<Entry> lru_;  // most recently used first
  std::unordered_map<std::int64_t, std::list<Entry>::iterator> index_;
  std::size_t bytes_ = 0;
};

}  // namespace mailvault::imapd
