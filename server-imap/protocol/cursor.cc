#include "server-imap/protocol/cursor.h"

#include <array>
#include <limits>
#include <string>
#include <utility>
#include <vector>

namespace mailvault::imapd::detail {

bool is_atom_char(char c) noexcept {
  const auto b = static_cast<unsigned char>(c);
  if (b >= 0x80) {
    return true;
  }
  if (b <= 0x20 || b == 0x7f) {
    return false;  // CTL and SP
  }
  switch (c) {
    case '(':
    case ')':
    case '{':
    case '%':
    case '*':
    case '"':
    case '\\':
    case ']':
      return false;
    default:
      return true;
  }
}

bool is_astring_char(char c) noexcept {
  return c == ']' || is_atom_char(c);
}

namespace {

bool is_list_char(char c) noexcept {
  return c == '%' || c == '*' || is_astring_char(c);
}

bool is_digit(char c) noexcept {
  return c >= '0' && c <= '9';
}

char upper(char c) noexcept {
  return c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c;
}

}  // namespace

std::string ascii_upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    c = upper(c);
  }
  return out;
}

bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) {
    return false;
  }
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (upper(a[i]) != upper(b[i])) {
      return false;
    }
  }
  return true;
}

std::string printable(std::string_view s, std::size_t max) {
  std::string out;
  for (const char c : s.substr(0, max)) {
    const auto b = static_cast<unsigned char>(c);
    out += b >= 0x20 && b < 0x7f ? c : '?';
  }
  if (s.size() > max) {
    out += "...";
  }
  return out;
}

void Cursor::fail(std::string_view message) const {
  fail_at(pos_, message);
}

void fail_at(std::size_t offset, std::string_view message) {
  throw SyntaxError{printable(message), offset, {}, false};
}

bool Cursor::try_char(char c) {
  if (!at_end() && text_[pos_] == c) {
    ++pos_;
    return true;
  }
  return false;
}

void Cursor::expect_char(char c, std::string_view what) {
  if (!try_char(c)) {
    fail("expected " + std::string(what));
  }
}

void Cursor::expect_sp() {
  if (!try_char(' ')) {
    fail(at_end() ? "missing argument" : "expected a space");
  }
}

void Cursor::expect_end() const {
  if (!at_end()) {
    fail("unexpected characters after the command");
  }
}

std::string_view Cursor::peek_atom() const {
  std::size_t end = pos_;
  while (end < text_.size() && is_atom_char(text_[end])) {
    ++end;
  }
  return text_.substr(pos_, end - pos_);
}

std::string_view Cursor::atom() {
  const std::string_view a = peek_atom();
  if (a.empty()) {
    fail(at_end() ? "missing argument" : "expected an atom");
  }
  pos_ += a.size();
  count_argument();
  return a;
}

std::string_view Cursor::astring_atom() {
  const std::size_t start = pos_;
  while (!at_end() && is_astring_char(text_[pos_])) {
    ++pos_;
  }
  if (pos_ == start) {
    fail(at_end() ? "missing argument" : "expected an atom or string");
  }
  count_argument();
  return text_.substr(start, pos_ - start);
}

std::string Cursor::quoted() {
  const std::size_t start = pos_;
  expect_char('"', "\"");
  std::string out;
  while (true) {
    if (at_end()) {
      fail_at(start, "unterminated quoted string");
    }
    const char c = text_[pos_++];
    if (c == '"') {
      break;
    }
    if (c == '\r' || c == '\n' || c == '\0') {
      fail_at(pos_ - 1, "CR, LF or NUL in a quoted string");
    }
    if (c == '\\') {
      if (at_end() || (text_[pos_] != '"' && text_[pos_] != '\\')) {
        fail_at(pos_ - 1, R"(only \" and \\ may be escaped in a quoted string)");
      }
      out += text_[pos_++];
      continue;
    }
    out += c;
  }
  count_argument();
  return out;
}

std::string Cursor::literal(bool allow_literal8) {
  const std::size_t start = pos_;
  const bool is8 = try_char('~');
  if (is8 && !allow_literal8) {
    fail_at(start, "literal8 (~{n}) is only allowed for binary data");
  }
  expect_char('{', "{");
  if (!is_digit(peek())) {
    fail("expected the literal size");
  }
  const std::uint64_t size = number64();
  try_char('+');
  expect_char('}', "}");
  if (!try_char('\r') || !try_char('\n')) {
    fail("a literal announcement must end the line");
  }
  if (size > text_.size() - pos_) {
    fail_at(start, "literal data is truncated");
  }
  std::string out(text_.substr(pos_, size));
  pos_ += size;
  if (!is8 && out.find('\0') != std::string::npos) {
    fail_at(start, "NUL in a literal (use literal8)");
  }
  count_argument();
  return out;
}

bool Cursor::at_string() const noexcept {
  const char c = peek();
  return c == '"' || c == '{' || (c == '~' && pos_ + 1 < text_.size() && text_[pos_ + 1] == '{');
}

std::string Cursor::string() {
  const char c = peek();
  if (c == '"') {
    return quoted();
  }
  if (at_string()) {
    return literal(false);  // reports a literal8 (~{n}) as an error
  }
  fail(at_end() ? "missing argument" : "expected a quoted string or literal");
}

std::string Cursor::astring() {
  if (at_string()) {
    return string();
  }
  return std::string(astring_atom());
}

std::optional<std::string> Cursor::nstring() {
  if (iequals(peek_atom(), "NIL")) {
    atom();
    return std::nullopt;
  }
  return string();
}

std::string Cursor::mailbox() {
  std::string name = astring();
  if (iequals(name, "INBOX")) {
    return "INBOX";
  }
  return name;
}

std::string Cursor::list_mailbox() {
  if (at_string()) {
    return string();
  }
  const std::size_t start = pos_;
  while (!at_end() && is_list_char(text_[pos_])) {
    ++pos_;
  }
  if (pos_ == start) {
    fail(at_end() ? "missing argument" : "expected a mailbox pattern");
  }
  count_argument();
  return std::string(text_.substr(start, pos_ - start));
}

std::string Cursor::literal_or_literal8() {
  if (!at_string() || peek() == '"') {
    fail("expected a literal");
  }
  return literal(true);
}

std::uint64_t Cursor::number64() {
  const std::size_t start = pos_;
  std::uint64_t value = 0;
  // RFC 9051 number64 is at most 2^63 - 1.
  constexpr std::uint64_t kMax = std::numeric_limits<std::int64_t>::max();
  while (!at_end() && is_digit(text_[pos_])) {
    const auto digit = static_cast<std::uint64_t>(text_[pos_] - '0');
    if (value > (kMax - digit) / 10) {
      fail_at(start, "number too large");
    }
    value = value * 10 + digit;
    ++pos_;
  }
  if (pos_ == start) {
    fail(at_end() ? "missing argument" : "expected a number");
  }
  return value;
}

std::uint32_t Cursor::number() {
  const std::size_t start = pos_;
  const std::uint64_t v = number64();
  if (v > std::numeric_limits<std::uint32_t>::max()) {
    fail_at(start, "number too large");
  }
  count_argument();
  return static_cast<std::uint32_t>(v);
}

std::uint32_t Cursor::nz_number() {
  const std::size_t start = pos_;
  const std::uint32_t v = number();
  if (v == 0) {
    fail_at(start, "0 is not allowed here");
  }
  return v;
}

bool Cursor::at_sequence_set() const noexcept {
  const char c = peek();
  return is_digit(c) || c == '*' || c == '$';
}

SequenceSet Cursor::sequence_set(SequenceSet::Kind kind) {
  if (try_char('$')) {
    count_argument();
    return SequenceSet::saved(kind);
  }
  auto seq_number = [&]() -> std::uint32_t {
    if (try_char('*')) {
      return SequenceSet::kStar;
    }
    if (!is_digit(peek())) {
      fail(at_end() ? "missing sequence set" : "expected a sequence number or *");
    }
    const std::size_t start = pos_;
    const std::uint64_t v = number64();
    if (v == 0) {
      fail_at(start, "0 is not a valid message number");
    }
    if (v > std::numeric_limits<std::uint32_t>::max()) {
      fail_at(start, "message number too large");
    }
    return static_cast<std::uint32_t>(v);
  };
  std::vector<SequenceSet::Range> ranges;
  do {
    std::uint32_t first = seq_number();
    std::uint32_t last = first;
    if (try_char(':')) {
      last = seq_number();
    }
    // n:m = m:n; `*` is the largest, so it goes last.
    if (first == SequenceSet::kStar || (last != SequenceSet::kStar && first > last)) {
      std::swap(first, last);
    }
    ranges.push_back({first, last});
  } while (try_char(','));
  count_argument();
  return {kind, std::move(ranges)};
}

Cursor::DateParts Cursor::date() {
  const std::size_t start = pos_;
  const bool quoted_form = try_char('"');
  auto digits = [&](std::size_t min, std::size_t max) {
    int v = 0;
    std::size_t n = 0;
    while (n < max && is_digit(peek())) {
      v = v * 10 + (text_[pos_++] - '0');
      ++n;
    }
    if (n < min) {
      fail_at(start, "invalid date (expected d-Mon-yyyy)");
    }
    return v;
  };
  const int day = digits(1, 2);
  expect_char('-', "- in date");
  static constexpr std::array<std::string_view, 12> kMonths = {
      "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};
  if (text_.size() - pos_ < 3) {
    fail_at(start, "invalid date (expected d-Mon-yyyy)");
  }
  const std::string_view mon = text_.substr(pos_, 3);
  int month = 0;
  for (std::size_t i = 0; i < kMonths.size(); ++i) {
    if (iequals(mon, kMonths[i])) {
      month = static_cast<int>(i) + 1;
    }
  }
  if (month == 0) {
    fail_at(start, "invalid month in date");
  }
  pos_ += 3;
  expect_char('-', "- in date");
  const int year = digits(4, 4);
  if (is_digit(peek())) {
    fail_at(start, "invalid date (year has more than 4 digits)");
  }
  if (quoted_form) {
    expect_char('"', "closing \" of the date");
  }
  static constexpr std::array<int, 12> kDays = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  const int days = month == 2 && !leap ? 28 : kDays[static_cast<std::size_t>(month - 1)];
  if (day < 1 || day > days || year < 1) {
    fail_at(start, "invalid date (day out of range)");
  }
  count_argument();
  return {year, month, day};
}

std::string Cursor::flag() {
  const std::size_t start = pos_;
  const bool system = try_char('\\');
  if (system && try_char('*')) {
    count_argument();
    return "\\*";  // flag-perm, harmless in a flag list
  }
  const std::string_view name = peek_atom();
  if (name.empty()) {
    fail_at(start, "expected a flag");
  }
  pos_ += name.size();
  count_argument();
  return (system ? "\\" : "") + std::string(name);
}

void Cursor::skip_value() {
  // Iterative so that hostile nesting costs no stack; depth still counts against the limit.
  const int base = depth_;
  do {
    if (try_char('(')) {
      ++depth_;
      if (depth_ > limits_.max_nesting) {
        fail("parentheses nested too deeply");
      }
      if (try_char(')')) {
        --depth_;
      } else {
        continue;
      }
    } else if (at_string()) {
      string();
    } else if (at_sequence_set()) {
      // tagged-ext-simple: sequence-set / number / number64 (modseqs exceed 32 bits)
      const std::size_t start = pos_;
      while (!at_end() && (is_digit(peek()) || peek() == ':' || peek() == ',' || peek() == '*' ||
                           peek() == '$')) {
        ++pos_;
      }
      if (pos_ - start > 100) {
        fail_at(start, "number too large");
      }
      count_argument();
    } else if (peek() == '\\') {
      flag();  // RFC 6154 CREATE (USE (\Sent))
    } else {
      astring_atom();
    }
    while (depth_ > base && try_char(')')) {
      --depth_;
    }
    if (depth_ > base) {
      expect_sp();
    }
  } while (depth_ > base);
}

void Cursor::open_list() {
  expect_char('(', "(");
  ++depth_;
  if (depth_ > limits_.max_nesting) {
    fail("parentheses nested too deeply");
  }
}

void Cursor::close_list() {
  expect_char(')', ")");
  --depth_;
}

void Cursor::count_argument() {
  if (++arguments_ > limits_.max_arguments) {
    fail("too many arguments");
  }
}

}  // namespace mailvault::imapd::detail
