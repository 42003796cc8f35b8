#include "server-imap/session/text_cache.h"

#include <utility>

namespace mailvault::imapd {

std::shared_ptr<const SearchableMessage> TextCache::find(MessageId id) {
  const std::lock_guard lock(mu_);
  const auto it = index_.find(to_int(id));
  if (it == index_.end())
    return nullptr;
  lru_.splice(lru_.begin(), lru_, it->second);
  return it->second->text;
}

std::shared_ptr<const SearchableMessage> TextCache::put(
    MessageId id, std::shared_ptr<const SearchableMessage> text) {
  const std::size_t size = text->bytes();
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

std::size_t TextCache::bytes() const {
  const std::lock_guard lock(mu_);
  return bytes_;
}

}  // namespace mailvault::imapd
