#include "server-imap/session/sort.h"

#include <algorithm>
#include <compare>
#include <string>

namespace mailvault::imapd {

namespace {

const std::string& text_key(const MessageKeys& k, SortCriterion::Key key) noexcept {
  switch (key) {
    case SortCriterion::Key::kCc:
      return k.cc;
    case SortCriterion::Key::kFrom:
      return k.from;
    case SortCriterion::Key::kTo:
      return k.to;
    case SortCriterion::Key::kDisplayFrom:
      return k.display_from;
    case SortCriterion::Key::kDisplayTo:
      return k.display_to;
    default:
      return k.subject;
  }
}

std::strong_ordering compare(const SortItem& a, const SortItem& b, SortCriterion::Key key) {
  switch (key) {
    case SortCriterion::Key::kArrival:
      return a.message->internal_date <=> b.message->internal_date;
    case SortCriterion::Key::kDate:
      return sent_date(*a.message) <=> sent_date(*b.message);
    case SortCriterion::Key::kSize:
      return a.message->size <=> b.message->size;
    default:
      return text_key(*a.keys, key).compare(text_key(*b.keys, key)) <=> 0;
  }
}

}  // namespace

bool needs_keys(const std::vector<SortCriterion>& criteria) noexcept {
  return std::any_of(criteria.begin(), criteria.end(), [](const SortCriterion& c) {
    return c.key != SortCriterion::Key::kArrival && c.key != SortCriterion::Key::kDate &&
           c.key != SortCriterion::Key::kSize;
  });
}

std::int64_t sent_date(const MessageEntry& m) noexcept {
  return m.sent_date.value_or(m.internal_date);
}

void sort_items(std::vector<SortItem>& items, const std::vector<SortCriterion>& criteria) {
  std::sort(items.begin(), items.end(), [&](const SortItem& a, const SortItem& b) {
    for (const auto& c : criteria) {
      const auto order = compare(a, b, c.key);
      if (order != 0)
        return c.reverse ? order > 0 : order < 0;
    }
    return a.index < b.index;
  });
}

}  // namespace mailvault::imapd
