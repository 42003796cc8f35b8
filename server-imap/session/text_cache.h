// The byte-bounded LRU caches of folded message texts IMAP SEARCH matches (text_match.h
// SearchableMessage, or the compact SearchableHeader), keyed by MessageId. Shared by every
// session of a server (one memory budget per cache), so a client's repeated or refined searches
// read each sidecar once. Thread-safe (core/base/lru_cache.h).
#pragma once

#include <cstddef>
#include <memory>

#include "core/base/lru_cache.h"
#include "server-imap/session/text_match.h"

namespace mailvault::imapd {

// T has `std::size_t bytes() const` (approximate heap bytes).
template <typename T>
class TextCache : public ByteLruCache<T> {
 public:
  using ByteLruCache<T>::ByteLruCache;

  // Stores `text` counted as text->bytes(); see ByteLruCache::put.
  std::shared_ptr<const T> put(MessageId id, std::shared_ptr<const T> text) {
    const std::size_t size = text->bytes();
    return ByteLruCache<T>::put(id, std::move(text), size);
  }
};

}  // namespace mailvault::imapd
