#include "server-imap/session/search_eval.h"

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
  Evaluator(const Snapshot& s, std::int64_t now) : s_(s), now_(now) {}

  Bitmap eval(const SearchKey& key) {
    return std::visit([this](const auto& node) { return this->node(node); }, key.node);
  }

 private:
  template <typename Pred>
  Bitmap each(Pred pred) const {
    Bitmap out(s_.messages.size(), 0);
    for (std::size_t i = 0; i < out.size(); ++i)
      out[i] = pred(s_.messages[i]) ? 1 : 0;
    return out;
  }

  Bitmap node(const SearchAll& /*all*/) { return Bitmap(s_.messages.size(), 1); }

  Bitmap node(const SearchAnd& n) {
    Bitmap out(s_.messages.size(), 1);
    for (const auto& k : n.keys) {
      const auto b = eval(k);
      for (std::size_t i = 0; i < out.size(); ++i)
        out[i] = static_cast<char>(out[i] & b[i]);
    }
    return out;
  }

  Bitmap node(const SearchOr& n) {
    Bitmap out(s_.messages.size(), 0);
    for (const auto& k : n.keys) {
      const auto b = eval(k);
      for (std::size_t i = 0; i < out.size(); ++i)
        out[i] = static_cast<char>(out[i] | b[i]);
    }
    return out;
  }

  Bitmap node(const SearchNot& n) {
    Bitmap out = n.key.empty() ? Bitmap(s_.messages.size(), 0) : eval(n.key.front());
    for (auto& c : out)
      c = static_cast<char>(c == 0 ? 1 : 0);
    return out;
  }

  Bitmap node(const SearchFlag& n) const {
    return each([&](const MessageEntry& m) { return flag_set(m.flags, n.flag) == n.set; });
  }

  Bitmap node(const SearchKeyword& n) const {
    return each([&](const MessageEntry& m) { return has_keyword(m.flags, n.keyword) == n.set; });
  }

  Bitmap node(const SearchHeader& /*n*/) const { return Bitmap(s_.messages.size(), 0); }

  Bitmap node(const SearchText& /*n*/) const { return Bitmap(s_.messages.size(), 0); }

  Bitmap node(const SearchDate& n) const {
    const auto want = days_since_epoch(n.date);
    return each([&](const MessageEntry& m) {
      std::int64_t t = m.internal_date;
      if (n.source == SearchDate::Source::kSent) {
        if (!m.sent_date)
          return false;
        t = *m.sent_date;
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

  Bitmap node(const SearchSize& n) const {
    return each([&](const MessageEntry& m) {
      return n.cmp == SearchSize::Cmp::kLarger ? m.size > n.size : m.size < n.size;
    });
  }

  Bitmap node(const SearchSet& n) const {
    Bitmap out(s_.messages.size(), 0);
    for (const auto i : s_.resolve(n.set))
      out[i] = 1;
    return out;
  }

  Bitmap node(const SearchWithin& n) const {
    return each([&](const MessageEntry& m) {
      const auto age = now_ - m.internal_date;
      return n.older ? age >= static_cast<std::int64_t>(n.seconds)
                     : age < static_cast<std::int64_t>(n.seconds);
    });
  }

  const Snapshot& s_;
  std::int64_t now_;
};

}  // namespace

bool contains_unsupported_keys(const SearchKey& key) noexcept {
  return std::visit(Overloaded{
                        [](const SearchHeader&) { return true; },
                        [](const SearchText&) { return true; },
                        [](const SearchSet& s) { return s.set.is_saved(); },
                        [](const SearchAnd& n) {
                          for (const auto& k : n.keys) {
                            if (contains_unsupported_keys(k))
                              return true;
                          }
                          return false;
                        },
                        [](const SearchOr& n) {
                          for (const auto& k : n.keys) {
                            if (contains_unsupported_keys(k))
                              return true;
                          }
                          return false;
                        },
                        [](const SearchNot& n) {
                          return !n.key.empty() && contains_unsupported_keys(n.key.front());
                        },
                        [](const auto&) { return false; },
                    },
                    key.node);
}

std::vector<std::size_t> evaluate_search(const SearchKey& key, const Snapshot& snapshot,
                                         std::int64_t now) {
  Evaluator e(snapshot, now);
  const auto bits = e.eval(key);
  std::vector<std::size_t> out;
  for (std::size_t i = 0; i < bits.size(); ++i) {
    if (bits[i] != 0)
      out.push_back(i);
  }
  return out;
}

}  // namespace mailvault::imapd
