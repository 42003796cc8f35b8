#include "server-imap/session/mailbox_view.h"

#include <algorithm>
#include <array>
#include <map>

namespace mailvault::imapd {

namespace {

bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size())
    return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    auto lower = [](char c) {
      return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    };
    if (lower(a[i]) != lower(b[i]))
      return false;
  }
  return true;
}

}  // namespace

std::string mailbox_name(const MailboxRef& ref) {
  switch (ref.kind) {
    case MailboxRef::Kind::kAllMail:
      return std::string{kAllMailName};
    case MailboxRef::Kind::kImportFolder:
      return ref.folder.empty() ? std::string{kImportedName}
                                : std::string{kImportedName} + kDelimiter + ref.folder;
    case MailboxRef::Kind::kAccountFolder:
      break;
  }
  return ref.account + kDelimiter + ref.folder;
}

std::vector<MailboxRef> parse_mailbox_name(std::string_view name) {
  std::vector<MailboxRef> out;
  // INBOX (any case, RFC 3501 §5.1) is an unlisted alias of All Mail: clients such as mutt
  // open it first; listing it too would make folder-syncing clients copy everything twice.
  const bool inbox = iequals(name, "INBOX");
  if (name == kAllMailName || inbox) {
    out.push_back(MailboxRef{});
    return out;
  }
  if (name == kImportedName) {
    out.push_back(MailboxRef{MailboxRef::Kind::kImportFolder, "", ""});
    return out;
  }
  const auto slash = name.find(kDelimiter);
  if (slash == std::string_view::npos || slash == 0 || slash + 1 == name.size())
    return out;
  const auto first = name.substr(0, slash);
  const auto rest = std::string{name.substr(slash + 1)};
  if (first == kImportedName)
    out.push_back(MailboxRef{MailboxRef::Kind::kImportFolder, "", rest});
  out.push_back(MailboxRef{MailboxRef::Kind::kAccountFolder, std::string{first}, rest});
  return out;
}

namespace {

struct SystemFlag {
  std::string_view name;
  bool MessageFlags::*field;
};

constexpr std::array<SystemFlag, 5> kSystemFlags = {{
    {"\\Answered", &MessageFlags::answered},
    {"\\Flagged", &MessageFlags::flagged},
    {"\\Deleted", &MessageFlags::deleted},
    {"\\Seen", &MessageFlags::seen},
    {"\\Draft", &MessageFlags::draft},
}};

}  // namespace

MessageFlags parse_flags(std::string_view text) {
  MessageFlags flags;
  std::size_t pos = 0;
  while (pos < text.size()) {
    const auto start = text.find_first_not_of(" \t\r\n()", pos);
    if (start == std::string_view::npos)
      break;
    auto end = text.find_first_of(" \t\r\n()", start);
    if (end == std::string_view::npos)
      end = text.size();
    const auto token = text.substr(start, end - start);
    pos = end;
    if (token.front() == '\\') {
      for (const auto& f : kSystemFlags) {
        if (iequals(token, f.name))
          flags.*(f.field) = true;
      }
      continue;  // \Recent, \* and unknown system flags are dropped
    }
    if (!has_keyword(flags, token))
      flags.keywords.emplace_back(token);
  }
  return flags;
}

std::string format_flags(const MessageFlags& flags) {
  std::string out;
  auto add = [&out](std::string_view s) {
    if (!out.empty())
      out += ' ';
    out += s;
  };
  for (const auto& f : kSystemFlags) {
    if (flags.*(f.field))
      add(f.name);
  }
  for (const auto& k : flags.keywords)
    add(k);
  return out;
}

bool has_keyword(const MessageFlags& flags, std::string_view keyword) noexcept {
  return std::any_of(flags.keywords.begin(), flags.keywords.end(),
                     [&](const std::string& k) { return iequals(k, keyword); });
}

std::vector<std::size_t> Snapshot::resolve(const SequenceSet& set) const {
  std::vector<std::size_t> out;
  if (set.is_saved())
    return saved;
  if (messages.empty())
    return out;
  if (!set.is_uid()) {
    for (const auto& r : set.resolve(SeqNum{exists()})) {
      for (std::uint32_t n = to_int(r.first); n <= to_int(r.last); ++n) {
        out.push_back(n - 1);
        if (n == UINT32_MAX)
          break;
      }
    }
    return out;
  }
  for (const auto& r : set.resolve(max_uid())) {
    auto it = std::lower_bound(messages.begin(), messages.end(), r.first,
                               [](const MessageEntry& e, Uid u) { return e.uid < u; });
    for (; it != messages.end() && it->uid <= r.last; ++it)
      out.push_back(static_cast<std::size_t>(it - messages.begin()));
  }
  return out;
}

void normalise(std::vector<MessageEntry>& messages) {
  std::stable_sort(messages.begin(), messages.end(),
                   [](const MessageEntry& a, const MessageEntry& b) { return a.uid < b.uid; });
  messages.erase(
      std::unique(messages.begin(), messages.end(),
                  [](const MessageEntry& a, const MessageEntry& b) { return a.uid == b.uid; }),
      messages.end());
}

bool list_matches(std::string_view pattern, std::string_view name) noexcept {
  // Dynamic programming over (pattern prefix, name prefix), O(|pattern| * |name|): a recursive
  // glob is exponential on hostile patterns such as "*a*a*a*a*b". Patterns longer than any
  // sensible mailbox name match nothing, which bounds the work per name.
  constexpr std::size_t kMaxPattern = 1024;
  if (pattern.size() > kMaxPattern)
    return false;
  // row[j]: pattern[0, i) matches name[0, j).
  std::vector<char> row(name.size() + 1, 0);
  std::vector<char> next(name.size() + 1, 0);
  row[0] = 1;
  for (const char p : pattern) {
    std::fill(next.begin(), next.end(), 0);
    if (p == '*' || p == '%') {
      // next[j] = row[k] for some k <= j with name[k, j) free of the delimiter for '%'.
      char reach = 0;
      for (std::size_t j = 0; j <= name.size(); ++j) {
        if (p == '%' && j > 0 && name[j - 1] == kDelimiter)
          reach = 0;
        reach = static_cast<char>(reach | row[j]);
        next[j] = reach;
      }
    } else {
      for (std::size_t j = 1; j <= name.size(); ++j)
        next[j] = static_cast<char>(row[j - 1] && name[j - 1] == p);
    }
    row.swap(next);
  }
  return row[name.size()] != 0;
}

std::vector<ListEntry> list_tree(const std::vector<std::string>& names) {
  std::map<std::string, ListEntry> tree;
  for (const auto& n : names) {
    auto& e = tree[n];
    e.name = n;
    e.selectable = true;
    e.all = n == kAllMailName;
    for (auto slash = n.find(kDelimiter); slash != std::string::npos;
         slash = n.find(kDelimiter, slash + 1)) {
      auto parent = n.substr(0, slash);
      auto [it, inserted] = tree.try_emplace(parent);
      if (inserted) {
        it->second.name = parent;
        it->second.selectable = false;
      }
      it->second.has_children = true;
    }
  }
  std::vector<ListEntry> out;
  out.reserve(tree.size());
  if (auto it = tree.find(std::string{kAllMailName}); it != tree.end()) {
    out.push_back(it->second);
    tree.erase(it);
  }
  for (auto& [name, e] : tree)
    out.push_back(std::move(e));
  return out;
}

}  // namespace mailvault::imapd
