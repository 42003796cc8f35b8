#include "core/search/query_parser.h"

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "core/base/utf8.h"

namespace mailvault::search {
namespace {

// ─── Characters ──────────────────────────────────────────────────────────────────────────────

// Length in bytes of the white space character at s[i], or 0. ASCII controls count as white
// space; so do NO-BREAK SPACE, the U+2000 family and IDEOGRAPHIC SPACE (CJK input methods type
// it). Only called on valid UTF-8.
std::size_t space_length(std::string_view s, std::size_t i) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  if (b0 <= 0x20 || b0 == 0x7f) {
    return 1;
  }
  auto byte = [&](std::size_t k) {
    return i + k < s.size() ? static_cast<unsigned char>(s[i + k]) : 0;
  };
  if (b0 == 0xc2 && byte(1) == 0xa0) {
    return 2;  // U+00A0
  }
  if (b0 == 0xe3 && byte(1) == 0x80 && byte(2) == 0x80) {
    return 3;  // U+3000
  }
  if (b0 == 0xe2 && byte(1) == 0x80 && (byte(2) <= 0x8a || byte(2) == 0xaf)) {
    return 3;  // U+2000..200A, 202F
  }
  if (b0 == 0xe2 && byte(1) == 0x81 && byte(2) == 0x9f) {
    return 3;  // U+205F
  }
  return 0;
}

char ascii_lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

std::string ascii_lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    c = ascii_lower(c);
  }
  return out;
}

// ─── Tokens ──────────────────────────────────────────────────────────────────────────────────

struct Token {
  enum class Kind : std::uint8_t {
    kWord,
    kQuoted,
    kLParen,
    kRParen,
    kMinus,
    kAnd,
    kOr,
    kNot,
    kEnd
  };
  Kind kind = Kind::kEnd;
  std::string text;        // kWord: as written; kQuoted: unescaped content
  std::size_t offset = 0;  // byte offset of the first character
  bool glued = false;      // no white space between the previous token and this one
};

// ─── Field names ─────────────────────────────────────────────────────────────────────────────

enum class Special : std::uint8_t { kText, kHas, kDate, kBefore, kAfter, kLarger, kSmaller };

struct FieldName {
  std::string_view name;
  Special special;
  Field field;  // for Special::kText
};

constexpr std::array<FieldName, 18> kFieldNames{{
    {"from", Special::kText, Field::kFrom},
    {"to", Special::kText, Field::kTo},
    {"cc", Special::kText, Field::kCc},
    {"bcc", Special::kText, Field::kBcc},
    {"subject", Special::kText, Field::kSubject},
    {"body", Special::kText, Field::kBody},
    {"attachment", Special::kText, Field::kAttachment},
    {"filename", Special::kText, Field::kFilename},
    {"msgid", Special::kText, Field::kMessageId},
    {"list", Special::kText, Field::kListId},
    {"account", Special::kText, Field::kAccount},
    {"folder", Special::kText, Field::kFolder},
    {"has", Special::kHas, Field::kAll},
    {"date", Special::kDate, Field::kAll},
    {"before", Special::kBefore, Field::kAll},
    {"after", Special::kAfter, Field::kAll},
    {"larger", Special::kLarger, Field::kAll},
    {"smaller", Special::kSmaller, Field::kAll},
}};

const FieldName* find_field(std::string_view name) {
  const std::string lower = ascii_lower(name);
  for (const FieldName& f : kFieldNames) {
    if (f.name == lower) {
      return &f;
    }
  }
  return nullptr;
}

// ─── Dates and sizes ─────────────────────────────────────────────────────────────────────────

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2 ? 1 : 0;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

bool is_leap(std::int64_t y) {
  return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

unsigned days_in_month(std::int64_t y, unsigned m) {
  static constexpr std::array<unsigned, 12> kDays{31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && is_leap(y) ? 29 : kDays[m - 1];
}

// A whole year, month or day as [begin, end) seconds since the epoch, UTC.
struct Period {
  std::int64_t begin;
  std::int64_t end;
};

bool parse_digits(std::string_view s, std::size_t count, unsigned& out) {
  if (s.size() != count) {
    return false;
  }
  out = 0;
  for (const char c : s) {
    if (c < '0' || c > '9') {
      return false;
    }
    out = out * 10 + static_cast<unsigned>(c - '0');
  }
  return true;
}

// YYYY, YYYY-MM or YYYY-MM-DD ('/' may replace '-').
std::optional<Period> parse_period(std::string_view s) {
  constexpr std::int64_t kDay = 86400;
  unsigned year = 0;
  unsigned month = 0;
  unsigned day = 0;
  if (!parse_digits(s.substr(0, 4), 4, year) || year == 0) {
    return std::nullopt;
  }
  if (s.size() == 4) {
    return Period{days_from_civil(year, 1, 1) * kDay, days_from_civil(year + 1, 1, 1) * kDay};
  }
  const char sep = s[4];
  if ((sep != '-' && sep != '/') || s.size() < 7) {
    return std::nullopt;
  }
  if (!parse_digits(s.substr(5, 2), 2, month) || month < 1 || month > 12) {
    return std::nullopt;
  }
  if (s.size() == 7) {
    const std::int64_t begin = days_from_civil(year, month, 1);
    return Period{begin * kDay, (begin + days_in_month(year, month)) * kDay};
  }
  if (s.size() != 10 || s[7] != sep) {
    return std::nullopt;
  }
  if (!parse_digits(s.substr(8, 2), 2, day) || day < 1 || day > days_in_month(year, month)) {
    return std::nullopt;
  }
  const std::int64_t begin = days_from_civil(year, month, day);
  return Period{begin * kDay, (begin + 1) * kDay};
}

enum class SizeError : std::uint8_t { kNone, kSyntax, kTooLarge };

// Digits, then an optional K/M/G (1024-based), then an optional B; case-insensitive.
SizeError parse_size(std::string_view s, std::uint64_t& out) {
  std::size_t i = 0;
  std::uint64_t n = 0;
  bool overflow = false;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
    const auto digit = static_cast<std::uint64_t>(s[i] - '0');
    if (n > (UINT64_MAX - digit) / 10) {
      overflow = true;
    }
    n = n * 10 + digit;
    ++i;
  }
  if (i == 0) {
    return SizeError::kSyntax;
  }
  unsigned shift = 0;
  if (i < s.size()) {
    switch (ascii_lower(s[i])) {
      case 'k':
        shift = 10;
        ++i;
        break;
      case 'm':
        shift = 20;
        ++i;
        break;
      case 'g':
        shift = 30;
        ++i;
        break;
      default:
        break;
    }
  }
  if (i < s.size() && ascii_lower(s[i]) == 'b') {
    ++i;
  }
  if (i != s.size()) {
    return SizeError::kSyntax;
  }
  if (overflow || (shift > 0 && n > (UINT64_MAX >> shift))) {
    return SizeError::kTooLarge;
  }
  out = n << shift;
  return SizeError::kNone;
}

// ─── Tree construction (normalising) ─────────────────────────────────────────────────────────

Query make_and(std::vector<Query> parts) {
  std::vector<Query> flat;
  flat.reserve(parts.size());
  for (Query& part : parts) {
    if (std::holds_alternative<MatchAll>(part.node)) {
      continue;
    }
    if (auto* nested = std::get_if<And>(&part.node)) {
      for (Query& child : nested->children) {
        flat.push_back(std::move(child));
      }
    } else {
      flat.push_back(std::move(part));
    }
  }
  if (flat.empty()) {
    return Query{MatchAll{}};
  }
  if (flat.size() == 1) {
    return std::move(flat.front());
  }
  return Query{And{std::move(flat)}};
}

Query make_or(std::vector<Query> parts) {
  std::vector<Query> flat;
  flat.reserve(parts.size());
  for (Query& part : parts) {
    if (std::holds_alternative<MatchAll>(part.node)) {
      return Query{MatchAll{}};
    }
    if (auto* nested = std::get_if<Or>(&part.node)) {
      for (Query& child : nested->children) {
        flat.push_back(std::move(child));
      }
    } else {
      flat.push_back(std::move(part));
    }
  }
  if (flat.size() == 1) {
    return std::move(flat.front());
  }
  return Query{Or{std::move(flat)}};
}

Query make_not(Query q) {
  if (auto* inner = std::get_if<Not>(&q.node); inner != nullptr && inner->child.size() == 1) {
    return std::move(inner->child.front());
  }
  Not n;
  n.child.push_back(std::move(q));
  return Query{std::move(n)};
}

// ─── Lexer ───────────────────────────────────────────────────────────────────────────────────

class Parser {
 public:
  explicit Parser(std::string_view src) : src_(src) {}

  Result<Query> run() {
    if (!lex()) {
      return std::move(*error_);
    }
    if (peek().kind == Token::Kind::kEnd) {
      return Query{MatchAll{}};
    }
    std::optional<Query> q = parse_or(0, Field::kAll);
    if (!q) {
      return std::move(*error_);
    }
    if (peek().kind != Token::Kind::kEnd) {
      fail(peek().offset, "unbalanced \")\"");
      return std::move(*error_);
    }
    return std::move(*q);
  }

 private:
  // Records the first error; always returns nullopt so callers can `return fail(...)`.
  std::nullopt_t fail(std::size_t offset, std::string_view problem) {
    if (!error_) {
      error_ = Error{Code::kInvalidArgument,
                     "column " + std::to_string(column(offset)) + ": " + std::string(problem)};
    }
    return std::nullopt;
  }

  // 1-based column in characters (code points) of a byte offset.
  std::size_t column(std::size_t offset) const {
    std::size_t col = 1;
    for (std::size_t i = 0; i < offset && i < src_.size(); ++i) {
      if ((static_cast<unsigned char>(src_[i]) & 0xc0) != 0x80) {
        ++col;
      }
    }
    return col;
  }

  bool lex() {
    std::size_t i = 0;
    std::size_t prev_end = 0;
    const std::size_t n = src_.size();
    auto push = [&](Token::Kind kind, std::string text, std::size_t start, std::size_t end) {
      tokens_.push_back(Token{kind, std::move(text), start, !tokens_.empty() && start == prev_end});
      prev_end = end;
    };
    auto is_delimiter = [&](std::size_t k) {
      const char c = src_[k];
      return c == '(' || c == ')' || c == '"' || space_length(src_, k) > 0;
    };
    while (true) {
      while (i < n) {
        const std::size_t sp = space_length(src_, i);
        if (sp == 0) {
          break;
        }
        i += sp;
      }
      if (i >= n) {
        tokens_.push_back(Token{Token::Kind::kEnd, {}, n, false});
        return true;
      }
      const std::size_t start = i;
      const char c = src_[i];
      if (c == '(') {
        push(Token::Kind::kLParen, {}, start, ++i);
      } else if (c == ')') {
        push(Token::Kind::kRParen, {}, start, ++i);
      } else if (c == '"') {
        std::string text;
        ++i;
        bool closed = false;
        while (i < n) {
          if (src_[i] == '\\' && i + 1 < n && (src_[i + 1] == '"' || src_[i + 1] == '\\')) {
            text += src_[i + 1];
            i += 2;
          } else if (src_[i] == '"') {
            ++i;
            closed = true;
            break;
          } else {
            text += src_[i++];
          }
        }
        if (!closed) {
          fail(start, "unterminated quoted phrase");
          return false;
        }
        push(Token::Kind::kQuoted, std::move(text), start, i);
      } else if (c == '-') {
        ++i;
        // "-" directly before a condition negates it; a lone "-" is punctuation and ignored.
        if (i < n && src_[i] != ')' && space_length(src_, i) == 0) {
          push(Token::Kind::kMinus, {}, start, i);
        }
      } else {
        while (i < n && !is_delimiter(i)) {
          ++i;
        }
        std::string word(src_.substr(start, i - start));
        Token::Kind kind = Token::Kind::kWord;
        if (word == "AND") {
          kind = Token::Kind::kAnd;
        }
        if (word == "OR") {
          kind = Token::Kind::kOr;
        }
        if (word == "NOT") {
          kind = Token::Kind::kNot;
        }
        push(kind, std::move(word), start, i);
      }
    }
  }

  // ─── Grammar ─────────────────────────────────────────────────────────────────────────────
  //   or      := and { OR and }
  //   and     := unary { [AND] unary }
  //   unary   := { NOT | "-" } primary
  //   primary := "(" or ")" | QUOTED | WORD | FIELD ":" value
  //   value   := WORD | WORD "*" | QUOTED | "(" or ")"      (FIELD:( binds bare words to FIELD)

  const Token& peek() const { return tokens_[pos_]; }

  const Token& next() { return tokens_[pos_++]; }

  static bool ends_operand(Token::Kind k) {
    return k == Token::Kind::kEnd || k == Token::Kind::kRParen || k == Token::Kind::kOr ||
           k == Token::Kind::kAnd;
  }

  static const char* operator_name(Token::Kind k) {
    switch (k) {
      case Token::Kind::kAnd:
        return "AND";
      case Token::Kind::kOr:
        return "OR";
      case Token::Kind::kNot:
        return "NOT";
      case Token::Kind::kMinus:
        return "\"-\"";
      default:
        return "?";
    }
  }

  std::optional<Query> parse_or(int depth, Field field) {
    std::vector<Query> alternatives;
    std::optional<Query> first = parse_and(depth, field);
    if (!first) {
      return std::nullopt;
    }
    alternatives.push_back(std::move(*first));
    while (peek().kind == Token::Kind::kOr) {
      const Token& op = next();
      if (ends_operand(peek().kind)) {
        return fail(op.offset, "OR needs a condition after it");
      }
      std::optional<Query> q = parse_and(depth, field);
      if (!q) {
        return std::nullopt;
      }
      alternatives.push_back(std::move(*q));
    }
    return make_or(std::move(alternatives));
  }

  std::optional<Query> parse_and(int depth, Field field) {
    std::vector<Query> parts;
    const Token::Kind k = peek().kind;
    if (k == Token::Kind::kOr || k == Token::Kind::kAnd) {
      return fail(peek().offset, std::string(operator_name(k)) + " needs a condition before it");
    }
    while (true) {
      std::optional<Query> q = parse_unary(depth, field);
      if (!q) {
        return std::nullopt;
      }
      parts.push_back(std::move(*q));
      if (peek().kind == Token::Kind::kAnd) {
        const Token& op = next();
        if (ends_operand(peek().kind)) {
          return fail(op.offset, "AND needs a condition after it");
        }
        continue;
      }
      if (ends_operand(peek().kind)) {
        break;
      }
    }
    return make_and(std::move(parts));
  }

  std::optional<Query> parse_unary(int depth, Field field) {
    std::size_t negations = 0;
    const Token* last = nullptr;
    while (peek().kind == Token::Kind::kNot || peek().kind == Token::Kind::kMinus) {
      last = &next();
      ++negations;
    }
    if (last != nullptr && ends_operand(peek().kind)) {
      return fail(last->offset,
                  std::string(operator_name(last->kind)) + " needs a condition after it");
    }
    std::optional<Query> q = parse_primary(depth, field);
    if (!q) {
      return std::nullopt;
    }
    if (negations % 2 == 1) {
      return make_not(std::move(*q));
    }
    return q;
  }

  std::optional<Query> parse_primary(int depth, Field field) {
    const Token& tok = next();
    switch (tok.kind) {
      case Token::Kind::kLParen:
        return parse_group(tok, depth, field);
      case Token::Kind::kQuoted:
        return phrase_value(field, tok.text, tok.offset);
      case Token::Kind::kWord:
        return parse_word(tok, depth, field);
      case Token::Kind::kRParen:
        return fail(tok.offset, "unbalanced \")\"");
      case Token::Kind::kAnd:
      case Token::Kind::kOr:
        return fail(tok.offset,
                    std::string(operator_name(tok.kind)) + " needs a condition before it");
      default:
        return fail(tok.offset, "unexpected end of query");
    }
  }

  // After "(" (already consumed, `open`): the group's contents and the closing ")".
  std::optional<Query> parse_group(const Token& open, int depth, Field field) {
    if (depth + 1 > kMaxQueryNesting) {
      return fail(open.offset,
                  "parentheses nested deeper than " + std::to_string(kMaxQueryNesting));
    }
    if (peek().kind == Token::Kind::kRParen) {
      return fail(open.offset, "empty parentheses");
    }
    if (peek().kind == Token::Kind::kEnd) {
      return fail(open.offset, "unbalanced \"(\"");
    }
    std::optional<Query> q = parse_or(depth + 1, field);
    if (!q) {
      return std::nullopt;
    }
    if (peek().kind != Token::Kind::kRParen) {
      return fail(open.offset, "unbalanced \"(\"");
    }
    next();
    return q;
  }

  std::optional<Query> parse_word(const Token& tok, int depth, Field field) {
    const std::string_view text = tok.text;
    const std::size_t colon = text.find(':');
    const FieldName* spec =
        colon != std::string_view::npos && colon > 0 ? find_field(text.substr(0, colon)) : nullptr;
    if (spec == nullptr) {
      return word_value(field, text, tok.offset);
    }

    const std::string name = ascii_lower(text.substr(0, colon + 1));
    const std::string_view value = text.substr(colon + 1);
    if (value.empty()) {
      const Token& after = peek();
      if (after.glued && after.kind == Token::Kind::kQuoted) {
        next();
        return field_value(*spec, after.text, /*quoted=*/true, after.offset);
      }
      if (after.glued && after.kind == Token::Kind::kLParen && spec->special == Special::kText) {
        const Token& open = next();
        return parse_group(open, depth, spec->field);
      }
      return fail(tok.offset, name + " needs a value");
    }
    return field_value(*spec, value, /*quoted=*/false, tok.offset + colon + 1);
  }

  std::optional<Query> field_value(const FieldName& spec, std::string_view value, bool quoted,
                                   std::size_t offset) {
    const std::string name = std::string(spec.name) + ":";
    switch (spec.special) {
      case Special::kText:
        return quoted ? phrase_value(spec.field, value, offset)
                      : word_value(spec.field, value, offset);
      case Special::kHas:
        if (ascii_lower(value) == "attachment") {
          return Query{HasAttachment{}};
        }
        return fail(offset,
                    "unknown has: value \"" + std::string(value) + "\" (only has:attachment)");
      case Special::kDate:
        return date_range(value, offset);
      case Special::kBefore:
      case Special::kAfter: {
        const std::optional<Period> p = parse_period(value);
        if (!p) {
          return fail(offset, "invalid date \"" + std::string(value) + "\"");
        }
        DateRange r;
        if (spec.special == Special::kBefore) {
          r.end = p->begin;
        } else {
          r.begin = p->begin;
        }
        return Query{r};
      }
      case Special::kLarger:
      case Special::kSmaller: {
        std::uint64_t n = 0;
        switch (parse_size(value, n)) {
          case SizeError::kSyntax:
            return fail(offset, "invalid size \"" + std::string(value) + "\"");
          case SizeError::kTooLarge:
            return fail(offset, "size \"" + std::string(value) + "\" is too large");
          case SizeError::kNone:
            break;
        }
        SizeRange r;
        if (spec.special == Special::kLarger) {
          if (n == UINT64_MAX) {
            return fail(offset, "size \"" + std::string(value) + "\" is too large");
          }
          r.min = n + 1;
        } else {
          if (n == 0) {
            return fail(offset, "smaller:0 can match nothing");
          }
          r.max = n - 1;
        }
        return Query{r};
      }
    }
    return fail(offset, "unknown field \"" + name + "\"");
  }

  std::optional<Query> date_range(std::string_view value, std::size_t offset) {
    const std::size_t dots = value.find("..");
    if (dots == std::string_view::npos) {
      const std::optional<Period> p = parse_period(value);
      if (!p) {
        return fail(offset, "invalid date \"" + std::string(value) + "\"");
      }
      return Query{DateRange{DateRange::Of::kSent, p->begin, p->end}};
    }
    const std::string_view left = value.substr(0, dots);
    const std::string_view right = value.substr(dots + 2);
    if (left.empty() && right.empty()) {
      return fail(offset, "empty date range \"..\"");
    }
    DateRange r;
    if (!left.empty()) {
      const std::optional<Period> p = parse_period(left);
      if (!p) {
        return fail(offset, "invalid date \"" + std::string(left) + "\"");
      }
      r.begin = p->begin;
    }
    if (!right.empty()) {
      const std::optional<Period> p = parse_period(right);
      if (!p) {
        return fail(offset + dots + 2, "invalid date \"" + std::string(right) + "\"");
      }
      r.end = p->end;
    }
    if (r.begin && r.end && *r.begin >= *r.end) {
      return fail(offset, "date range \"" + std::string(value) + "\" ends before it starts");
    }
    return Query{r};
  }

  // Message-IDs may be typed with their angle brackets.
  static std::string_view strip_angle_brackets(Field field, std::string_view v) {
    if (field != Field::kMessageId) {
      return v;
    }
    if (!v.empty() && v.front() == '<') {
      v.remove_prefix(1);
    }
    if (!v.empty() && v.back() == '>') {
      v.remove_suffix(1);
    }
    return v;
  }

  std::optional<Query> word_value(Field field, std::string_view word, std::size_t offset) {
    if (word == "*") {
      return Query{MatchAll{}};
    }
    const std::size_t star = word.find('*');
    Text::Kind kind = Text::Kind::kWords;
    if (star != std::string_view::npos) {
      if (star + 1 != word.size()) {
        return fail(offset + star, "\"*\" is only allowed at the end of a word");
      }
      word.remove_suffix(1);
      kind = Text::Kind::kPrefix;
    }
    word = strip_angle_brackets(field, word);
    if (word.empty()) {
      return fail(offset, "empty value");
    }
    return Query{Text{field, std::string(word), kind}};
  }

  std::optional<Query> phrase_value(Field field, std::string_view phrase, std::size_t offset) {
    phrase = strip_angle_brackets(field, phrase);
    std::size_t i = 0;
    while (i < phrase.size()) {
      const std::size_t sp = space_length(phrase, i);
      if (sp == 0) {
        break;
      }
      i += sp;
    }
    if (i == phrase.size()) {
      return fail(offset, "empty quoted phrase");
    }
    return Query{Text{field, std::string(phrase), Text::Kind::kPhrase}};
  }

  std::string_view src_;
  std::vector<Token> tokens_;
  std::size_t pos_ = 0;
  std::optional<Error> error_;
};

}  // namespace

Result<Query> parse_query(std::string_view text) {
  if (text.size() > kMaxQueryBytes) {
    return Error{Code::kInvalidArgument, "query is " + std::to_string(text.size()) +
                                             " bytes long; the limit is " +
                                             std::to_string(kMaxQueryBytes)};
  }
  if (const std::size_t bad = find_invalid_utf8(text); bad != std::string_view::npos) {
    std::size_t col = 1;
    for (std::size_t i = 0; i < bad; ++i) {
      if ((static_cast<unsigned char>(text[i]) & 0xc0) != 0x80) {
        ++col;
      }
    }
    return Error{Code::kInvalidArgument, "column " + std::to_string(col) + ": invalid UTF-8"};
  }
  return Parser(text).run();
}

}  // namespace mailvault::search
