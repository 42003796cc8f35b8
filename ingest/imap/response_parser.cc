#include "ingest/imap/response_parser.h"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <limits>

namespace mailvault::ingest::imap {

const char* condition_name(Condition condition) noexcept {
  switch (condition) {
    case Condition::kOk:
      return "OK";
    case Condition::kNo:
      return "NO";
    case Condition::kBad:
      return "BAD";
    case Condition::kPreauth:
      return "PREAUTH";
    case Condition::kBye:
      return "BYE";
  }
  return "?";
}

namespace {

constexpr std::size_t kPrefixBytes = 60;

// The start of a line, safe to put into an error message or a log: control bytes and 8-bit
// bytes become '?'.
std::string printable_prefix(std::string_view text) {
  std::string out;
  const std::size_t n = std::min(text.size(), kPrefixBytes);
  out.reserve(n + 3);
  for (std::size_t i = 0; i < n; ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    out.push_back(c >= 0x20 && c < 0x7f ? static_cast<char>(c) : '?');
  }
  if (text.size() > n) {
    out += "...";
  }
  return out;
}

char ascii_upper(char c) noexcept {
  return c >= 'a' && c <= 'z' ? static_cast<char>(c - 32) : c;
}

std::string to_upper(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), ascii_upper);
  return out;
}

bool is_ctl(char c) noexcept {
  const auto u = static_cast<unsigned char>(c);
  return u < 0x20 || u == 0x7f;
}

// ATOM-CHAR (RFC 3501 §9), plus 8-bit bytes (UTF8=ACCEPT servers put UTF-8 into atoms).
bool is_atom_char(char c) noexcept {
  if (is_ctl(c)) {
    return false;
  }
  switch (c) {
    case ' ':
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
  return is_atom_char(c) || c == ']';
}

bool is_digit(char c) noexcept {
  return c >= '0' && c <= '9';
}

template <typename T>
std::optional<T> parse_digits(std::string_view s) noexcept {
  if (s.empty() || !std::all_of(s.begin(), s.end(), is_digit)) {
    return std::nullopt;
  }
  T value{};
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc{} || end != s.data() + s.size()) {
    return std::nullopt;
  }
  return value;
}

Error syntax_error(std::string_view what, std::size_t pos, std::string_view text) {
  return make_error(Code::kInvalidArgument, "IMAP response: " + std::string(what) + " at byte " +
                                                std::to_string(pos) + " of \"" +
                                                printable_prefix(text) + "\"");
}

Error limit_error(std::string_view what, std::string_view text) {
  return make_error(Code::kResourceExhausted, "IMAP response: " + std::string(what) + " in \"" +
                                                  printable_prefix(text) + "\"");
}

// The same message whichever way the bytes were chunked: only the first bytes of the line are
// shown, and a line over the limit always has that many.
Error line_too_long(std::string_view line, std::size_t max_line) {
  return make_error(Code::kResourceExhausted,
                    "IMAP response: line longer than " + std::to_string(max_line) + " bytes: \"" +
                        printable_prefix(line.substr(0, std::min(kPrefixBytes, max_line))) +
                        "...\"");
}

// Reads one raw response left to right. Every method either advances and returns a value, or
// returns an error naming the position; literal contents are moved out of the raw response.
class Cursor {
 public:
  Cursor(RawResponse& raw, const ParserLimits& limits) : raw_(raw), limits_(limits) {}

  [[nodiscard]] bool at_end() const noexcept { return pos_ >= raw_.text.size(); }

  [[nodiscard]] char peek() const noexcept { return at_end() ? '\0' : raw_.text[pos_]; }

  [[nodiscard]] std::size_t pos() const noexcept { return pos_; }

  bool consume(char c) noexcept {
    if (peek() == c && !at_end()) {
      ++pos_;
      return true;
    }
    return false;
  }

  [[nodiscard]] Error error(std::string_view what) const {
    return syntax_error(what, pos_, raw_.text);
  }

  [[nodiscard]] Error error_at(std::string_view what, std::size_t pos) const {
    return syntax_error(what, pos, raw_.text);
  }

  Status expect(char c) {
    if (!consume(c)) {
      return error(std::string("expected '") + c + "'");
    }
    return {};
  }

  Status sp() { return expect(' '); }

  // Everything up to the end (status text, unknown responses). Trailing CR/LF never reach here.
  std::string_view rest() noexcept {
    std::string_view out = std::string_view(raw_.text).substr(std::min(pos_, raw_.text.size()));
    pos_ = raw_.text.size();
    return out;
  }

  std::string_view take_while(bool (*pred)(char)) noexcept {
    const std::size_t start = pos_;
    while (!at_end() && pred(raw_.text[pos_])) {
      ++pos_;
    }
    return std::string_view(raw_.text).substr(start, pos_ - start);
  }

  Result<std::string_view> atom() {
    auto out = take_while(is_atom_char);
    if (out.empty()) {
      return error("expected an atom");
    }
    return out;
  }

  template <typename T>
  Result<T> number() {
    const std::size_t start = pos_;
    auto digits = take_while(is_digit);
    auto value = parse_digits<T>(digits);
    if (!value) {
      pos_ = start;
      return error(digits.empty() ? "expected a number" : "number out of range");
    }
    switch (peek()) {
      case '\0':
      case ' ':
      case '(':
      case ')':
      case ']':
      case '}':
      case '>':
        break;
      default:
        return error("bad number");
    }
    return *value;
  }

  Result<std::string> quoted() {
    if (!consume('"')) {
      return error("expected '\"'");
    }
    std::string out;
    while (true) {
      if (at_end()) {
        return error("unterminated quoted string");
      }
      const char c = raw_.text[pos_++];
      if (c == '"') {
        return out;
      }
      if (c == '\\') {
        if (at_end()) {
          return error("unterminated quoted string");
        }
        out.push_back(raw_.text[pos_++]);
      } else {
        out.push_back(c);
      }
    }
  }

  [[nodiscard]] bool at_literal() const noexcept {
    return peek() == '{' ||
           (peek() == '~' && pos_ + 1 < raw_.text.size() && raw_.text[pos_ + 1] == '{');
  }

  Result<std::string> literal() {
    consume('~');
    if (!consume('{')) {
      return error("expected a literal");
    }
    auto size = number<std::uint64_t>();
    if (!size) {
      return size.error();
    }
    if (auto s = expect('}'); !s) {
      return s.error();
    }
    if (next_literal_ >= raw_.literals.size() || raw_.literals[next_literal_].first != pos_) {
      return error("literal marker not at the end of a line");
    }
    std::string out = std::move(raw_.literals[next_literal_++].second);
    if (out.size() != *size) {
      return error("literal size mismatch");
    }
    return out;
  }

  // string = quoted / literal
  Result<std::string> string() {
    if (peek() == '"') {
      return quoted();
    }
    if (at_literal()) {
      return literal();
    }
    return error("expected a string");
  }

  // nstring: nullopt for NIL.
  Result<std::optional<std::string>> nstring() {
    if (peek() == '"' || at_literal()) {
      auto s = string();
      if (!s) {
        return s.error();
      }
      return std::optional<std::string>(std::move(*s));
    }
    if (consume_word("NIL")) {
      return std::optional<std::string>();
    }
    return error("expected a string or NIL");
  }

  // astring, leniently: an unquoted mailbox name may hold any non-space printable byte.
  Result<std::string> astring() {
    if (peek() == '"' || at_literal()) {
      return string();
    }
    auto word = take_while([](char c) { return !is_ctl(c) && c != ' ' && c != '(' && c != ')'; });
    if (word.empty()) {
      return error("expected a string or atom");
    }
    return std::string(word);
  }

  // The next word (atom chars) if it equals `word` case-insensitively, and not followed by
  // another atom char.
  bool consume_word(std::string_view word) noexcept {
    const std::size_t n = word.size();
    if (raw_.text.size() - std::min(pos_, raw_.text.size()) < n) {
      return false;
    }
    for (std::size_t i = 0; i < n; ++i) {
      if (ascii_upper(raw_.text[pos_ + i]) != word[i]) {
        return false;
      }
    }
    if (pos_ + n < raw_.text.size() && is_atom_char(raw_.text[pos_ + n])) {
      return false;
    }
    pos_ += n;
    return true;
  }

  // flag = "\" atom / atom / "\*"
  Result<std::string> flag() {
    const std::size_t start = pos_;
    if (consume('\\')) {
      if (!consume('*')) {
        take_while(is_atom_char);
      }
    } else {
      take_while(is_atom_char);
    }
    if (pos_ == start || (pos_ == start + 1 && raw_.text[start] == '\\')) {
      return error("expected a flag");
    }
    return raw_.text.substr(start, pos_ - start);
  }

  // "(" [flag *(SP flag)] ")"; extra spaces are tolerated.
  Result<std::vector<std::string>> flag_list() {
    if (auto s = expect('('); !s) {
      return s.error();
    }
    std::vector<std::string> out;
    while (true) {
      while (consume(' ')) {
      }
      if (consume(')')) {
        return out;
      }
      auto f = flag();
      if (!f) {
        return f.error();
      }
      out.push_back(std::move(*f));
    }
  }

  // Any value: list, string, literal, NIL, number or atom. Literal contents are dropped.
  Status skip_value(std::size_t depth = 0) {
    if (peek() == '(') {
      if (depth + 1 > limits_.max_depth) {
        return limit_error("lists nested deeper than " + std::to_string(limits_.max_depth),
                           raw_.text);
      }
      ++pos_;
      while (true) {
        while (consume(' ')) {
        }
        if (consume(')')) {
          return {};
        }
        if (at_end()) {
          return error("unterminated list");
        }
        if (auto s = skip_value(depth + 1); !s) {
          return s;
        }
      }
    }
    if (peek() == '"' || at_literal()) {
      auto s = string();
      if (!s) {
        return s.error();
      }
      return {};
    }
    auto word = take_while([](char c) { return !is_ctl(c) && c != ' ' && c != '(' && c != ')'; });
    if (word.empty()) {
      return error("expected a value");
    }
    return {};
  }

 private:
  RawResponse& raw_;
  const ParserLimits& limits_;
  std::size_t pos_ = 0;
  std::size_t next_literal_ = 0;
};

std::vector<std::string> split_words(std::string_view s) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && s[i] == ' ') {
      ++i;
    }
    const std::size_t start = i;
    while (i < s.size() && s[i] != ' ') {
      ++i;
    }
    if (i > start) {
      out.emplace_back(s.substr(start, i - start));
    }
  }
  return out;
}

Result<ResponseCode> parse_code(Cursor& in) {
  // "[" already consumed.
  auto name = in.atom();
  if (!name) {
    return name.error();
  }
  ResponseCode code;
  code.name = to_upper(*name);
  if (in.consume(' ')) {
    code.text = std::string(in.take_while([](char c) { return c != ']' && !is_ctl(c); }));
  }
  if (auto s = in.expect(']'); !s) {
    return s.error();
  }
  if (code.name == "UIDVALIDITY" || code.name == "UIDNEXT" || code.name == "UNSEEN") {
    code.number = parse_digits<std::uint32_t>(code.text);
    if (!code.number) {
      return in.error("bad number in [" + code.name + "]");
    }
  } else if (code.name == "CAPABILITY") {
    code.items = split_words(code.text);
  } else if (code.name == "PERMANENTFLAGS" || code.name == "BADCHARSET") {
    std::string_view list = code.text;
    if (list.starts_with('(') && list.ends_with(')')) {
      list = list.substr(1, list.size() - 2);
    }
    code.items = split_words(list);
  }
  return code;
}

// resp-text = ["[" resp-text-code "]" SP] text, leniently (no SP, no text at all).
Result<StatusResponse> parse_status(Cursor& in, Condition condition) {
  StatusResponse out;
  out.condition = condition;
  if (in.at_end()) {
    return out;
  }
  if (auto s = in.sp(); !s) {
    return s.error();
  }
  if (in.consume('[')) {
    auto code = parse_code(in);
    if (!code) {
      return code.error();
    }
    out.code = std::move(*code);
    in.consume(' ');
  }
  out.text = std::string(in.rest());
  return out;
}

std::optional<Condition> condition_from(std::string_view upper) noexcept {
  if (upper == "OK") {
    return Condition::kOk;
  }
  if (upper == "NO") {
    return Condition::kNo;
  }
  if (upper == "BAD") {
    return Condition::kBad;
  }
  if (upper == "PREAUTH") {
    return Condition::kPreauth;
  }
  if (upper == "BYE") {
    return Condition::kBye;
  }
  return std::nullopt;
}

Result<ListData> parse_list(Cursor& in, bool lsub) {
  ListData out;
  out.lsub = lsub;
  if (auto s = in.sp(); !s) {
    return s.error();
  }
  auto attributes = in.flag_list();
  if (!attributes) {
    return attributes.error();
  }
  out.attributes = std::move(*attributes);
  if (auto s = in.sp(); !s) {
    return s.error();
  }
  if (in.peek() == '"') {
    auto d = in.quoted();
    if (!d) {
      return d.error();
    }
    if (d->size() != 1) {
      return in.error("hierarchy delimiter must be one character");
    }
    out.delimiter = (*d)[0];
  } else if (!in.consume_word("NIL")) {
    return in.error("expected a quoted delimiter or NIL");
  }
  if (auto s = in.sp(); !s) {
    return s.error();
  }
  auto name = in.astring();
  if (!name) {
    return name.error();
  }
  out.name = std::move(*name);
  // LIST-EXTENDED mbox-list-extended: "(" ... ")" after the name; skipped.
  while (in.consume(' ')) {
    if (in.at_end()) {
      break;
    }
    if (auto s = in.skip_value(); !s) {
      return s.error();
    }
  }
  if (!in.at_end()) {
    return in.error("unexpected data after the mailbox name");
  }
  return out;
}

Result<SearchData> parse_search(Cursor& in) {
  SearchData out;
  while (in.consume(' ')) {
    if (in.at_end()) {
      break;
    }
    if (in.peek() == '(') {  // CONDSTORE "(MODSEQ n)"
      if (auto s = in.skip_value(); !s) {
        return s.error();
      }
      continue;
    }
    auto n = in.number<std::uint32_t>();
    if (!n) {
      return n.error();
    }
    out.numbers.push_back(*n);
  }
  if (!in.at_end()) {
    return in.error("expected a number");
  }
  return out;
}

Result<EsearchData> parse_esearch(Cursor& in) {
  EsearchData out;
  if (!in.consume(' ')) {
    if (!in.at_end()) {
      return in.error("expected SP");
    }
    return out;
  }
  if (in.consume('(')) {
    if (!in.consume_word("TAG")) {
      return in.error("expected TAG");
    }
    if (auto s = in.sp(); !s) {
      return s.error();
    }
    auto tag = in.string();
    if (!tag) {
      return tag.error();
    }
    out.tag = std::move(*tag);
    if (auto s = in.expect(')'); !s) {
      return s.error();
    }
    if (!in.consume(' ')) {
      if (!in.at_end()) {
        return in.error("expected SP");
      }
      return out;
    }
  }
  if (in.consume_word("UID")) {
    out.uid = true;
    if (!in.consume(' ')) {
      if (!in.at_end()) {
        return in.error("expected SP");
      }
      return out;
    }
  }
  while (!in.at_end()) {
    auto name = in.atom();
    if (!name) {
      return name.error();
    }
    const std::string upper = to_upper(*name);
    if (auto s = in.sp(); !s) {
      return s.error();
    }
    if (upper == "MIN" || upper == "MAX" || upper == "COUNT") {
      auto n = in.number<std::uint32_t>();
      if (!n) {
        return n.error();
      }
      (upper == "MIN" ? out.min : upper == "MAX" ? out.max : out.count) = *n;
    } else if (upper == "ALL") {
      const std::size_t start = in.pos();
      auto set = in.take_while([](char c) { return is_digit(c) || c == ':' || c == ','; });
      auto ranges = parse_number_set(set);
      if (!ranges) {
        return in.error_at("bad sequence set in ESEARCH ALL", start);
      }
      out.all = std::move(*ranges);
    } else if (auto s = in.skip_value(); !s) {
      return s.error();
    }
    if (!in.consume(' ')) {
      break;
    }
  }
  if (!in.at_end()) {
    return in.error("unexpected data in ESEARCH");
  }
  return out;
}

// A msg-att name: an atom, optionally followed by "[section]" (which may contain spaces and
// parentheses: BODY[HEADER.FIELDS (FROM TO)]) and "<origin>".
Result<std::string> fetch_item_name(Cursor& in) {
  std::string name =
      to_upper(in.take_while([](char c) { return is_atom_char(c) && c != '[' && c != '<'; }));
  if (name.empty()) {
    return in.error("expected a FETCH item name");
  }
  if (in.consume('[')) {
    name += '[';
    name += to_upper(in.take_while([](char c) { return c != ']' && !is_ctl(c); }));
    if (auto s = in.expect(']'); !s) {
      return s.error();
    }
    name += ']';
    if (in.consume('<')) {
      auto origin = in.number<std::uint64_t>();
      if (!origin) {
        return origin.error();
      }
      if (auto s = in.expect('>'); !s) {
        return s.error();
      }
    }
  }
  return name;
}

Result<FetchData> parse_fetch(Cursor& in, std::uint32_t seq) {
  FetchData out;
  out.seq = SeqNum{seq};
  if (auto s = in.sp(); !s) {
    return s.error();
  }
  if (auto s = in.expect('('); !s) {
    return s.error();
  }
  while (true) {
    while (in.consume(' ')) {
    }
    if (in.consume(')')) {
      break;
    }
    if (in.at_end()) {
      return in.error("unterminated FETCH list");
    }
    auto name = fetch_item_name(in);
    if (!name) {
      return name.error();
    }
    if (auto s = in.sp(); !s) {
      return s.error();
    }
    if (*name == "UID") {
      auto uid = in.number<std::uint32_t>();
      if (!uid) {
        return uid.error();
      }
      out.uid = Uid{*uid};
    } else if (*name == "FLAGS") {
      auto flags = in.flag_list();
      if (!flags) {
        return flags.error();
      }
      out.flags = std::move(*flags);
    } else if (*name == "INTERNALDATE") {
      auto date = in.nstring();
      if (!date) {
        return date.error();
      }
      out.internal_date = std::move(*date);
    } else if (*name == "RFC822.SIZE") {
      auto size = in.number<std::uint64_t>();
      if (!size) {
        return size.error();
      }
      out.rfc822_size = *size;
    } else if (*name == "MODSEQ") {
      if (auto s = in.expect('('); !s) {
        return s.error();
      }
      auto modseq = in.number<std::uint64_t>();
      if (!modseq) {
        return modseq.error();
      }
      out.modseq = *modseq;
      if (auto s = in.expect(')'); !s) {
        return s.error();
      }
    } else if (*name == "BODY[]" || *name == "BINARY[]" || *name == "RFC822") {
      auto body = in.nstring();
      if (!body) {
        return body.error();
      }
      out.body = std::move(*body);
      out.body_nil = !out.body.has_value();
    } else if (auto s = in.skip_value(); !s) {
      return s.error();
    }
  }
  if (!in.at_end()) {
    return in.error("unexpected data after the FETCH list");
  }
  return out;
}

bool is_tag_char(char c) noexcept {
  return is_astring_char(c) && c != '+';
}

Result<Response> parse_untagged(Cursor& in) {
  Response out;
  out.kind = ResponseKind::kUntagged;
  if (is_digit(in.peek())) {
    auto n = in.number<std::uint32_t>();
    if (!n) {
      return n.error();
    }
    if (auto s = in.sp(); !s) {
      return s.error();
    }
    auto name = in.atom();
    if (!name) {
      return name.error();
    }
    const std::string upper = to_upper(*name);
    if (upper == "EXISTS") {
      out.data = ExistsData{*n};
    } else if (upper == "RECENT") {
      out.data = RecentData{*n};
    } else if (upper == "EXPUNGE") {
      out.data = ExpungeData{SeqNum{*n}};
    } else if (upper == "FETCH") {
      auto fetch = parse_fetch(in, *n);
      if (!fetch) {
        return fetch.error();
      }
      out.data = std::move(*fetch);
      return out;
    } else {
      in.consume(' ');
      out.data = OtherData{upper, std::to_string(*n) + " " + std::string(in.rest())};
      return out;
    }
    if (!in.at_end()) {
      return in.error("unexpected data after " + upper);
    }
    return out;
  }
  auto name = in.atom();
  if (!name) {
    return name.error();
  }
  const std::string upper = to_upper(*name);
  if (auto condition = condition_from(upper)) {
    auto status = parse_status(in, *condition);
    if (!status) {
      return status.error();
    }
    out.data = std::move(*status);
  } else if (upper == "CAPABILITY") {
    out.data = CapabilityData{split_words(in.rest())};
  } else if (upper == "LIST" || upper == "LSUB") {
    auto list = parse_list(in, upper == "LSUB");
    if (!list) {
      return list.error();
    }
    out.data = std::move(*list);
  } else if (upper == "FLAGS") {
    if (auto s = in.sp(); !s) {
      return s.error();
    }
    auto flags = in.flag_list();
    if (!flags) {
      return flags.error();
    }
    out.data = FlagsData{std::move(*flags)};
  } else if (upper == "SEARCH") {
    auto search = parse_search(in);
    if (!search) {
      return search.error();
    }
    out.data = std::move(*search);
  } else if (upper == "ESEARCH") {
    auto esearch = parse_esearch(in);
    if (!esearch) {
      return esearch.error();
    }
    out.data = std::move(*esearch);
  } else {
    in.consume(' ');
    out.data = OtherData{upper, std::string(in.rest())};
  }
  return out;
}

}  // namespace

Result<std::vector<NumberRange>> parse_number_set(std::string_view text) {
  std::vector<NumberRange> out;
  std::size_t i = 0;
  while (true) {
    const std::size_t comma = std::min(text.find(',', i), text.size());
    std::string_view part = text.substr(i, comma - i);
    const std::size_t colon = part.find(':');
    auto first = parse_digits<std::uint32_t>(part.substr(0, colon));
    auto last = colon == std::string_view::npos
                    ? first
                    : parse_digits<std::uint32_t>(part.substr(colon + 1));
    if (!first || !last) {
      return make_error(Code::kInvalidArgument,
                        "bad sequence set \"" + printable_prefix(text) + "\"");
    }
    out.push_back({*first, *last});
    if (comma == text.size()) {
      return out;
    }
    i = comma + 1;
  }
}

Result<Response> parse_response(RawResponse& raw, const ParserLimits& limits) {
  Cursor in(raw, limits);
  if (in.consume('+')) {
    Response out;
    out.kind = ResponseKind::kContinuation;
    in.consume(' ');
    out.data = ContinuationData{std::string(in.rest())};
    return out;
  }
  if (in.consume('*')) {
    if (auto s = in.sp(); !s) {
      return s.error();
    }
    return parse_untagged(in);
  }
  Response out;
  out.kind = ResponseKind::kTagged;
  out.tag = std::string(in.take_while(is_tag_char));
  if (out.tag.empty()) {
    return in.error("expected '*', '+' or a tag");
  }
  if (auto s = in.sp(); !s) {
    return s.error();
  }
  auto name = in.atom();
  if (!name) {
    return name.error();
  }
  auto condition = condition_from(to_upper(*name));
  if (!condition || *condition == Condition::kPreauth || *condition == Condition::kBye) {
    return in.error("expected OK, NO or BAD after the tag");
  }
  auto status = parse_status(in, *condition);
  if (!status) {
    return status.error();
  }
  out.data = std::move(*status);
  return out;
}

// --- ResponseAssembler ---------------------------------------------------------------------------

namespace {

// The size announced by a "{n}" or "~{n}" at the end of `line`, if any. Errors only for a
// marker whose number does not fit (reported against the limit by the caller).
struct Marker {
  bool present = false;
  std::optional<std::uint64_t> size;  // nullopt: too many digits
};

Marker literal_marker(std::string_view line) noexcept {
  Marker out;
  if (!line.ends_with('}')) {
    return out;
  }
  const std::size_t open = line.rfind('{');
  if (open == std::string_view::npos) {
    return out;
  }
  const std::string_view digits = line.substr(open + 1, line.size() - open - 2);
  if (digits.empty() || !std::all_of(digits.begin(), digits.end(), is_digit)) {
    return out;
  }
  out.present = true;
  out.size = parse_digits<std::uint64_t>(digits);
  return out;
}

}  // namespace

Result<ResponseAssembler::Step> ResponseAssembler::fail(Error error) {
  failed_ = error;
  return error;
}

Result<ResponseAssembler::Step> ResponseAssembler::add_line(std::string_view line) {
  if (failed_) {
    return *failed_;
  }
  if (pending_) {
    return fail(make_error(Code::kFailedPrecondition, "IMAP response: a literal of " +
                                                          std::to_string(*pending_) +
                                                          " bytes is due before the next line"));
  }
  if (line.size() > limits_.max_line) {
    return fail(
        line_too_long(raw_.text.empty() ? line : std::string_view(raw_.text), limits_.max_line));
  }
  raw_.text.append(line);
  const Marker marker = literal_marker(line);
  if (marker.present) {
    if (!marker.size || *marker.size > limits_.max_literal) {
      return fail(limit_error(
          "literal larger than " + std::to_string(limits_.max_literal) + " bytes announced",
          raw_.text));
    }
    if (raw_.literals.size() + 1 > limits_.max_literals) {
      return fail(limit_error(
          "more than " + std::to_string(limits_.max_literals) + " literals in one response",
          raw_.text));
    }
    pending_ = static_cast<std::size_t>(*marker.size);
    return Step{NeedLiteral{*pending_}};
  }
  RawResponse raw = std::move(raw_);
  raw_ = RawResponse{};
  auto response = parse_response(raw, limits_);
  if (!response) {
    return fail(std::move(response).error());
  }
  return Step{std::move(*response)};
}

Status ResponseAssembler::add_literal(std::string bytes) {
  if (failed_) {
    return *failed_;
  }
  if (!pending_ || bytes.size() != *pending_) {
    failed_ = make_error(
        Code::kInvalidArgument,
        "IMAP response: literal of " + std::to_string(bytes.size()) + " bytes where " +
            (pending_ ? std::to_string(*pending_) : std::string("none")) + " was announced");
    return *failed_;
  }
  raw_.literals.emplace_back(raw_.text.size(), std::move(bytes));
  pending_.reset();
  return {};
}

// --- ResponseParser ------------------------------------------------------------------------------

Status ResponseParser::add_line() {
  if (line_.ends_with('\r')) {
    line_.pop_back();
  }
  auto step = assembler_.add_line(line_);
  line_.clear();
  if (!step) {
    failed_ = step.error();
    return *failed_;
  }
  if (auto* need = std::get_if<ResponseAssembler::NeedLiteral>(&*step)) {
    literal_size_ = need->size;
    literal_.emplace();
    // A hostile "{huge}" within the limit must not allocate up front: grow as bytes arrive.
    literal_->reserve(std::min<std::size_t>(literal_size_, std::size_t{1} << 20));
    if (literal_size_ == 0) {
      auto s = assembler_.add_literal(std::move(*literal_));
      literal_.reset();
      if (!s) {
        failed_ = s.error();
        return s;
      }
    }
    return {};
  }
  ready_.push_back(std::move(std::get<Response>(*step)));
  return {};
}

Status ResponseParser::feed(std::string_view bytes) {
  if (failed_) {
    return *failed_;
  }
  while (!bytes.empty()) {
    if (literal_) {
      const std::size_t n = std::min(bytes.size(), literal_size_ - literal_->size());
      literal_->append(bytes.substr(0, n));
      bytes.remove_prefix(n);
      if (literal_->size() == literal_size_) {
        auto s = assembler_.add_literal(std::move(*literal_));
        literal_.reset();
        if (!s) {
          failed_ = s.error();
          return s;
        }
      }
      continue;
    }
    const std::size_t lf = bytes.find('\n');
    const std::size_t n = lf == std::string_view::npos ? bytes.size() : lf;
    // max_line + 1: the CR of a CRLF is stripped only once the LF is seen.
    if (line_.size() + n > assembler_.limits().max_line + 1) {
      line_.append(bytes.substr(0, std::min(n, kPrefixBytes)));
      failed_ = line_too_long(line_, assembler_.limits().max_line);
      return *failed_;
    }
    line_.append(bytes.substr(0, n));
    if (lf == std::string_view::npos) {
      break;
    }
    bytes.remove_prefix(lf + 1);
    if (auto s = add_line(); !s) {
      return s;
    }
  }
  return {};
}

std::optional<Response> ResponseParser::next() {
  if (ready_.empty()) {
    return std::nullopt;
  }
  Response out = std::move(ready_.front());
  ready_.pop_front();
  return out;
}

}  // namespace mailvault::ingest::imap
