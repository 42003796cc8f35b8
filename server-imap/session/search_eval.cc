#include "server-imap/session/search_eval.h"

#include <algorithm>
#include <optional>
#include <type_traits>
#include <variant>

namespace mailvault::imapd {

namespace {

using Bitmap = std::vector<char>;

template <class... Ts>
struct Overloaded : Ts... {
  using Ts::operator()...;
};
template <class... Ts>
Overloaded(Ts...) -> Overloaded<Ts...>;

constexpr std::int64_t kSecondsPerDay = 86400;

std::int64_t day_of(std::int64_t unix_seconds) noexcept {
  // Floor division, so that instants before 1970 land on the right day.
  auto d = unix_seconds / kSecondsPerDay;
  if (unix_seconds % kSecondsPerDay < 0)
    --d;
  return d;
}

bool flag_set(const MessageFlags& f, MessageFlag flag) noexcept {
  switch (flag) {
    case MessageFlag::kAnswered:
      return f.answered;
    case MessageFlag::kDeleted:
      return f.deleted;
    case MessageFlag::kDraft:
      return f.draft;
    case MessageFlag::kFlagged:
      return f.flagged;
    case MessageFlag::kSeen:
      return f.seen;
    case MessageFlag::kRecent:
      return false;  // nothing is recent in a read-only archive
  }
  return false;
}

class Evaluator {
 public:
  Evaluator(const Snapshot& s, std::int64_t now, const TextPredicate* text)
      : s_(s), now_(now), text_(text) {}

  // The messages of `domain` that match `key` (a subset of domain), so that a text key is only
  // checked where the rest of the tree still allows a match.
  Bitmap eval(const SearchKey& key, const Bitmap& domain) {
    return std::visit([&](const auto& node) { return this->node(node, domain); }, key.node);
  }

  std::optional<Error> error;

 private:
  template <typename Pred>
  Bitmap each(const Bitmap& domain, Pred pred) const {
    Bitmap out(s_.messages.size(), 0);
    for (std::size_t i = 0; i < out.size(); ++i)
      out[i] = domain[i] != 0 && pred(s_.messages[i]) ? 1 : 0;
    return out;
  }

  static Bitmap node(const SearchAll& /*all*/, const Bitmap& domain) { return domain; }

  Bitmap node(const SearchAnd& n, const Bitmap& domain) {
    // Keys without text first: they are cheap and narrow what the text keys must read.
    std::vector<const SearchKey*> order;
    for (const auto& k : n.keys)
      order.push_back(&k);
    std::stable_partition(order.begin(), order.end(),
                          [](const SearchKey* k) { return !contains_text_keys(*k); });
    Bitmap out = domain;
    for (const auto* k : order)
      out = eval(*k, out);
    return out;
  }

  Bitmap node(const SearchOr& n, const Bitmap& domain) {
    Bitmap out(s_.messages.size(), 0);
    Bitmap rest = domain;
    for (const auto& k : n.keys) {
      const auto b = eval(k, rest);
      for (std::size_t i = 0; i < out.size(); ++i) {
        out[i] = static_cast<char>(out[i] | b[i]);
        rest[i] = static_cast<char>(rest[i] & (b[i] == 0 ? 1 : 0));
      }
    }
    return out;
  }

  Bitmap node(const SearchNot& n, const Bitmap& domain) {
    if (n.key.empty())
      return domain;
    const auto b = eval(n.key.front(), domain);
    Bitmap out(s_.messages.size(), 0);
    for (std::size_t i = 0; i < out.size(); ++i)
      out[i] = static_cast<char>(domain[i] != 0 && b[i] == 0 ? 1 : 0);
    return out;
  }

  Bitmap node(const SearchFlag& n, const Bitmap& domain) const {
    return each(domain, [&](const MessageEntry& m) { return flag_set(m.flags, n.flag) == n.set; });
  }

  Bitmap node(const SearchKeyword& n, const Bitmap& domain) const {
    return each(domain,
                [&](const MessageEntry& m) { return has_keyword(m.flags, n.keyword) == n.set; });
  }

  Bitmap text(const TextKey& key, const Bitmap& domain) {
    Bitmap out(s_.messages.size(), 0);
    if (text_ == nullptr || !*text_ || error)
      return out;
    for (std::size_t i = 0; i < out.size(); ++i) {
      if (domain[i] == 0)
        continue;
      auto r = (*text_)(s_.messages[i], key);
      if (!r) {
        error = std::move(r.error());
        return Bitmap(s_.messages.size(), 0);
      }
      out[i] = *r ? 1 : 0;
    }
    return out;
  }

  Bitmap node(const SearchHeader& n, const Bitmap& domain) {
    return text(make_text_key(n), domain);
  }

  Bitmap node(const SearchText& n, const Bitmap& domain) { return text(make_text_key(n), domain); }

  Bitmap node(const SearchDate& n, const Bitmap& domain) const {
    const auto want = days_since_epoch(n.date);
    return each(domain, [&](const MessageEntry& m) {
      std::int64_t t = m.internal_date;
      if (n.source == SearchDate::Source::kSent) {
        if (!m.sent_date)
          return false;
        t = *m.sent_date + std::int64_t{m.sent_zone_minutes} * 60;  // the header's own day
      }
      const auto day = day_of(t);
      switch (n.cmp) {
        case SearchDate::Cmp::kBefore:
          return day < want;
        case SearchDate::Cmp::kOn:
          return day == want;
        case SearchDate::Cmp::kSince:
          return day >= want;
      }
      return false;
    });
  }

  Bitmap node(const SearchSize& n, const Bitmap& domain) const {
    return each(domain, [&](const MessageEntry& m) {
      return n.cmp == SearchSize::Cmp::kLarger ? m.size > n.size : m.size < n.size;
    });
  }

  Bitmap node(const SearchSet& n, const Bitmap& domain) const {
    Bitmap out(s_.messages.size(), 0);
    for (const auto i : s_.resolve(n.set))
      out[i] = domain[i];
    return out;
  }

  Bitmap node(const SearchWithin& n, const Bitmap& domain) const {
    return each(domain, [&](const MessageEntry& m) {
      const auto age = now_ - m.internal_date;
      return n.older ? age >= static_cast<std::int64_t>(n.seconds)
                     : age < static_cast<std::int64_t>(n.seconds);
    });
  }

  const Snapshot& s_;
  std::int64_t now_;
  const TextPredicate* text_;
};

template <typename Leaf>
bool any_key(const SearchKey& key, const Leaf& leaf) noexcept {
  return std::visit(
      Overloaded{
          [&](const SearchAnd& n) {
            return std::any_of(n.keys.begin(), n.keys.end(),
                               [&](const SearchKey& k) { return any_key(k, leaf); });
          },
          [&](const SearchOr& n) {
            return std::any_of(n.keys.begin(), n.keys.end(),
                               [&](const SearchKey& k) { return any_key(k, leaf); });
          },
          [&](const SearchNot& n) { return !n.key.empty() && any_key(n.key.front(), leaf); },
          [&](const auto& node) { return leaf(node); },
      },
      key.node);
}

}  // namespace

bool contains_text_keys(const SearchKey& key) noexcept {
  return any_key(key, Overloaded{
                          [](const SearchHeader&) { return true; },
                          [](const SearchText&) { return true; },
                          [](const auto&) { return false; },
                      });
}

bool contains_saved_set(const SearchKey& key) noexcept {
  return any_key(key, Overloaded{
                          [](const SearchSet& s) { return s.set.is_saved(); },
                          [](const auto&) { return false; },
                      });
}

bool contains_unsupported_keys(const SearchKey& key) noexcept {
  return contains_text_keys(key) || contains_saved_set(key);
}

std::vector<std::size_t> evaluate_search(const SearchKey& key, const Snapshot& snapshot,
                                         std::int64_t now) {
  auto r = evaluate_search(key, snapshot, now, TextPredicate{});
  return r ? std::move(*r) : std::vector<std::size_t>{};
}

Result<std::vector<std::size_t>> evaluate_search(const SearchKey& key, const Snapshot& snapshot,
                                                 std::int64_t now, const TextPredicate& text) {
  Evaluator e(snapshot, now, &text);
  const auto bits = e.eval(key, Bitmap(snapshot.messages.size(), 1));
  if (e.error)
    return std::move(*e.error);
  std::vector<std::size_t> out;
  for (std::size_t i = 0; i < bits.size(); ++i) {
    if (bits[i] != 0)
      out.push_back(i);
  }
  return out;
}

}  // namespace mailvault::imapd
