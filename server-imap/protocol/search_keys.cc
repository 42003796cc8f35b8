#include "server-imap/protocol/search_keys.h"

#include <array>
#include <string>
#include <utility>
#include <vector>

#include "core/base/utf8.h"
#include "server-imap/protocol/cursor.h"
#include "server-imap/protocol/search_grammar.h"

namespace mailvault::imapd {

std::int64_t days_since_epoch(const Date& date) noexcept {
  // H. Hinnant's days_from_civil.
  std::int64_t y = date.year;
  const auto m = static_cast<unsigned>(date.month);
  const auto d = static_cast<unsigned>(date.day);
  y -= m <= 2 ? 1 : 0;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

bool is_supported_charset(std::string_view charset) noexcept {
  return detail::iequals(charset, "UTF-8") || detail::iequals(charset, "US-ASCII");
}

namespace detail {
namespace {

using Parse = SearchKey (*)(Cursor&, int depth, bool uid);

SearchKey read_key(Cursor& c, int depth, bool uid);

std::string arg(Cursor& c) {
  c.expect_sp();
  return c.astring();
}

// A string the text keys match: must be UTF-8 (RFC 3501 allows only the CHARSET given, and
// mailvault supports UTF-8 and its subset US-ASCII).
std::string text_arg(Cursor& c) {
  c.expect_sp();
  const std::size_t start = c.offset();
  std::string s = c.astring();
  if (const std::size_t bad = find_invalid_utf8(s); bad != std::string_view::npos) {
    throw SyntaxError{"search string is not valid UTF-8 (byte " + std::to_string(bad) + ")", start,
                      "", false};
  }
  return s;
}

Date arg_date(Cursor& c) {
  c.expect_sp();
  const Cursor::DateParts p = c.date();
  return Date{p.year, p.month, p.day};
}

SearchKey flag(MessageFlag f, bool set) {
  return SearchKey{SearchFlag{f, set}};
}

SearchKey header(SearchHeader::Field field, std::string name, Cursor& c) {
  return SearchKey{SearchHeader{field, std::move(name), text_arg(c)}};
}

SearchKey date(SearchDate::Source source, SearchDate::Cmp cmp, Cursor& c) {
  return SearchKey{SearchDate{source, cmp, arg_date(c)}};
}

struct KeySpec {
  std::string_view name;
  Parse parse;
};

using F = MessageFlag;
using H = SearchHeader::Field;
using DS = SearchDate::Source;
using DC = SearchDate::Cmp;

// Every search key this server understands, by name (RFC 3501 order, then extensions).
constexpr auto kKeys = std::to_array<KeySpec>({
    {"ALL",
     [](Cursor&, int, bool) {
       return SearchKey{SearchAll{}};
     }},
    {"ANSWERED",
     [](Cursor&, int, bool) {
       return flag(F::kAnswered, true);
     }},
    {"BCC",
     [](Cursor& c, int, bool) {
       return header(H::kBcc, "BCC", c);
     }},
    {"BEFORE",
     [](Cursor& c, int, bool) {
       return date(DS::kInternal, DC::kBefore, c);
     }},
    {"BODY",
     [](Cursor& c, int, bool) {
       return SearchKey{SearchText{SearchText::Scope::kBody, text_arg(c)}};
     }},
    {"CC",
     [](Cursor& c, int, bool) {
       return header(H::kCc, "CC", c);
     }},
    {"DELETED",
     [](Cursor&, int, bool) {
       return flag(F::kDeleted, true);
     }},
    {"DRAFT",
     [](Cursor&, int, bool) {
       return flag(F::kDraft, true);
     }},
    {"FLAGGED",
     [](Cursor&, int, bool) {
       return flag(F::kFlagged, true);
     }},
    {"FROM",
     [](Cursor& c, int, bool) {
       return header(H::kFrom, "FROM", c);
     }},
    {"HEADER",
     [](Cursor& c, int, bool) {
       std::string name = arg(c);
       return SearchKey{SearchHeader{H::kOther, std::move(name), text_arg(c)}};
     }},
    {"KEYWORD",
     [](Cursor& c, int, bool) {
       c.expect_sp();
       return SearchKey{SearchKeyword{std::string(c.atom()), true}};
     }},
    {"LARGER",
     [](Cursor& c, int, bool) {
       c.expect_sp();
       return SearchKey{SearchSize{SearchSize::Cmp::kLarger, c.number64()}};
     }},
    {"NEW",
     [](Cursor&, int, bool) {
       SearchAnd a;
       a.keys.push_back(flag(F::kRecent, true));
       a.keys.push_back(flag(F::kSeen, false));
       return SearchKey{std::move(a)};
     }},
    {"NOT",
     [](Cursor& c, int depth, bool uid) {
       c.expect_sp();
       SearchNot n;
       n.key.push_back(read_key(c, depth + 1, uid));
       return SearchKey{std::move(n)};
     }},
    {"OLD",
     [](Cursor&, int, bool) {
       SearchNot n;
       n.key.push_back(flag(F::kRecent, true));
       return SearchKey{std::move(n)};
     }},
    {"ON",
     [](Cursor& c, int, bool) {
       return date(DS::kInternal, DC::kOn, c);
     }},
    {"OR",
     [](Cursor& c, int depth, bool uid) {
       SearchOr o;
       c.expect_sp();
       o.keys.push_back(read_key(c, depth + 1, uid));
       c.expect_sp();
       o.keys.push_back(read_key(c, depth + 1, uid));
       return SearchKey{std::move(o)};
     }},
    {"RECENT",
     [](Cursor&, int, bool) {
       return flag(F::kRecent, true);
     }},
    {"SEEN",
     [](Cursor&, int, bool) {
       return flag(F::kSeen, true);
     }},
    {"SENTBEFORE",
     [](Cursor& c, int, bool) {
       return date(DS::kSent, DC::kBefore, c);
     }},
    {"SENTON",
     [](Cursor& c, int, bool) {
       return date(DS::kSent, DC::kOn, c);
     }},
    {"SENTSINCE",
     [](Cursor& c, int, bool) {
       return date(DS::kSent, DC::kSince, c);
     }},
    {"SINCE",
     [](Cursor& c, int, bool) {
       return date(DS::kInternal, DC::kSince, c);
     }},
    {"SMALLER",
     [](Cursor& c, int, bool) {
       c.expect_sp();
       return SearchKey{SearchSize{SearchSize::Cmp::kSmaller, c.number64()}};
     }},
    {"SUBJECT",
     [](Cursor& c, int, bool) {
       return header(H::kSubject, "SUBJECT", c);
     }},
    {"TEXT",
     [](Cursor& c, int, bool) {
       return SearchKey{SearchText{SearchText::Scope::kText, text_arg(c)}};
     }},
    {"TO",
     [](Cursor& c, int, bool) {
       return header(H::kTo, "TO", c);
     }},
    {"UID",
     [](Cursor& c, int, bool) {
       c.expect_sp();
       return SearchKey{SearchSet{c.sequence_set(SequenceSet::Kind::kUid)}};
     }},
    {"UNANSWERED",
     [](Cursor&, int, bool) {
       return flag(F::kAnswered, false);
     }},
    {"UNDELETED",
     [](Cursor&, int, bool) {
       return flag(F::kDeleted, false);
     }},
    {"UNDRAFT",
     [](Cursor&, int, bool) {
       return flag(F::kDraft, false);
     }},
    {"UNFLAGGED",
     [](Cursor&, int, bool) {
       return flag(F::kFlagged, false);
     }},
    {"UNKEYWORD",
     [](Cursor& c, int, bool) {
       c.expect_sp();
       return SearchKey{SearchKeyword{std::string(c.atom()), false}};
     }},
    {"UNSEEN",
     [](Cursor&, int, bool) {
       return flag(F::kSeen, false);
     }},
    // RFC 5032 WITHIN.
    {"OLDER",
     [](Cursor& c, int, bool) {
       c.expect_sp();
       return SearchKey{SearchWithin{true, c.nz_number()}};
     }},
    {"YOUNGER",
     [](Cursor& c, int, bool) {
       c.expect_sp();
       return SearchKey{SearchWithin{false, c.nz_number()}};
     }},
    // RFC 8514 SAVEDATE: recognised, so that the error names the key.
    {"SAVEDBEFORE", nullptr},
    {"SAVEDON", nullptr},
    {"SAVEDSINCE", nullptr},
});

SearchKey read_key(Cursor& c, int depth, bool uid) {
  if (depth > c.limits().max_search_depth) {
    c.fail("search keys nested too deeply");
  }
  c.count_argument();
  if (c.peek() == '(') {
    c.open_list();
    SearchAnd group;
    group.keys.push_back(read_key(c, depth + 1, uid));
    while (c.try_sp()) {
      group.keys.push_back(read_key(c, depth + 1, uid));
    }
    c.close_list();
    if (group.keys.size() == 1) {
      return std::move(group.keys.front());
    }
    return SearchKey{std::move(group)};
  }
  if (c.at_sequence_set()) {
    const bool saved = c.peek() == '$';
    return SearchKey{SearchSet{
        c.sequence_set(saved && uid ? SequenceSet::Kind::kUid : SequenceSet::Kind::kSeq)}};
  }
  const std::size_t start = c.offset();
  const std::string_view name = c.atom();
  for (const KeySpec& k : kKeys) {
    if (iequals(name, k.name)) {
      if (k.parse == nullptr) {
        fail_at(start, "search key " + std::string(k.name) + " is not supported");
      }
      return k.parse(c, depth, uid);
    }
  }
  fail_at(start, "unknown search key " + ascii_upper(name));
}

SearchKey read_keys(Cursor& c, bool uid) {
  SearchAnd all;
  all.keys.push_back(read_key(c, 0, uid));
  while (c.try_sp()) {
    all.keys.push_back(read_key(c, 0, uid));
  }
  c.expect_end();
  if (all.keys.size() == 1) {
    return std::move(all.keys.front());
  }
  return SearchKey{std::move(all)};
}

std::string read_charset(Cursor& c) {
  const std::size_t start = c.offset();
  std::string charset = c.astring();
  if (!is_supported_charset(charset)) {
    throw SyntaxError{"unsupported charset " + printable(charset, 64), start,
                      std::string(kBadCharsetCode), true};
  }
  return ascii_upper(charset);
}

SearchReturn read_return_options(Cursor& c) {
  SearchReturn r;
  c.open_list();
  bool any = false;
  while (c.peek() != ')') {
    if (any) {
      c.expect_sp();
    }
    const std::size_t start = c.offset();
    const std::string opt = ascii_upper(c.atom());
    bool* field = opt == "MIN"     ? &r.min
                  : opt == "MAX"   ? &r.max
                  : opt == "COUNT" ? &r.count
                  : opt == "ALL"   ? &r.all
                  : opt == "SAVE"  ? &r.save
                                   : nullptr;
    if (field == nullptr) {
      fail_at(start, "unknown search return option " + opt);
    }
    *field = true;
    any = true;
  }
  c.close_list();
  if (!any) {
    r.all = true;
  }
  return r;
}

}  // namespace

SearchProgram read_search_program(Cursor& c, bool uid) {
  SearchProgram p;
  if (iequals(c.peek_atom(), "RETURN")) {
    c.atom();
    c.expect_sp();
    p.returns = read_return_options(c);
    c.expect_sp();
  }
  if (iequals(c.peek_atom(), "CHARSET")) {
    c.atom();
    c.expect_sp();
    p.charset = read_charset(c);
    c.expect_sp();
  }
  p.key = read_keys(c, uid);
  return p;
}

SearchProgram read_charset_and_keys(Cursor& c, bool uid) {
  SearchProgram p;
  p.charset = read_charset(c);
  c.expect_sp();
  p.key = read_keys(c, uid);
  return p;
}

}  // namespace detail

std::variant<SearchProgram, SearchParseError> parse_search(std::string_view text, bool uid,
                                                           const Limits& limits) {
  detail::Cursor c(text, limits);
  try {
    return detail::read_search_program(c, uid);
  } catch (detail::SyntaxError& e) {
    return SearchParseError{std::move(e.message), e.offset, std::move(e.response_code), e.is_no};
  }
}

// ─── Rendering ───────────────────────────────────────────────────────────────────────────────

namespace {

void quote(std::string& out, std::string_view s) {
  out += '"';
  for (const char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
    }
    out += c;
  }
  out += '"';
}

std::string_view flag_name(MessageFlag f) {
  static constexpr std::array<std::string_view, 6> kNames = {"\\Answered", "\\Deleted", "\\Draft",
                                                             "\\Flagged",  "\\Seen",    "\\Recent"};
  return kNames[static_cast<std::size_t>(f)];
}

std::string date_string(const Date& d) {
  static constexpr std::array<std::string_view, 12> kMonths = {
      "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  return std::to_string(d.day) + "-" + std::string(kMonths[static_cast<std::size_t>(d.month - 1)]) +
         "-" + std::to_string(d.year);
}

template <class... Ts>
struct Overloaded : Ts... {
  using Ts::operator()...;
};
template <class... Ts>
Overloaded(Ts...) -> Overloaded<Ts...>;

void render(std::string& out, const SearchKey& key) {
  auto list = [&](std::string_view op, const std::vector<SearchKey>& keys) {
    out += '(';
    out += op;
    for (const SearchKey& k : keys) {
      out += ' ';
      render(out, k);
    }
    out += ')';
  };
  std::visit(
      Overloaded{
          [&](const SearchAll&) { out += "(all)"; },
          [&](const SearchAnd& a) { list("and", a.keys); },
          [&](const SearchOr& o) { list("or", o.keys); },
          [&](const SearchNot& n) { list("not", n.key); },
          [&](const SearchFlag& f) {
            out += f.set ? "(flag " : "(unflag ";
            out += flag_name(f.flag);
            out += ')';
          },
          [&](const SearchKeyword& k) {
            out += k.set ? "(keyword " : "(unkeyword ";
            out += k.keyword;
            out += ')';
          },
          [&](const SearchHeader& h) {
            static constexpr std::array<std::string_view, 6> kNames = {"from", "to",      "cc",
                                                                       "bcc",  "subject", "header"};
            out += '(';
            out += kNames[static_cast<std::size_t>(h.field)];
            if (h.field == SearchHeader::Field::kOther) {
              out += ' ';
              quote(out, h.name);
            }
            out += ' ';
            quote(out, h.value);
            out += ')';
          },
          [&](const SearchText& t) {
            out += t.scope == SearchText::Scope::kBody ? "(body " : "(text ";
            quote(out, t.value);
            out += ')';
          },
          [&](const SearchDate& d) {
            static constexpr std::array<std::string_view, 3> kCmp = {"before", "on", "since"};
            out += '(';
            out += d.source == SearchDate::Source::kSent ? "sent" : "";
            out += kCmp[static_cast<std::size_t>(d.cmp)];
            out += ' ';
            out += date_string(d.date);
            out += ')';
          },
          [&](const SearchSize& s) {
            out += s.cmp == SearchSize::Cmp::kLarger ? "(larger " : "(smaller ";
            out += std::to_string(s.size);
            out += ')';
          },
          [&](const SearchSet& s) {
            out += s.set.is_uid() ? "(uid " : "(seq ";
            out += s.set.to_string();
            out += ')';
          },
          [&](const SearchWithin& w) {
            out += w.older ? "(older " : "(younger ";
            out += std::to_string(w.seconds);
            out += ')';
          },
      },
      key.node);
}

}  // namespace

std::string to_string(const SearchKey& key) {
  std::string out;
  render(out, key);
  return out;
}

}  // namespace mailvault::imapd
