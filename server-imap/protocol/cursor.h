// Internal to server-imap/protocol: the token reader shared by the command parser and the
// search-key parser. Not for use by the session.
//
// A Cursor walks one complete command as the CommandReader delivered it (literals inline:
// "{5}\r\nhello"). Each method reads one grammar element of RFC 3501 §9 / RFC 9051 §9 or throws
// SyntaxError; parse_command() is the one place where SyntaxError becomes a value. Throwing
// keeps each grammar rule a straight line that reads like the ABNF.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "server-imap/protocol/limits.h"
#include "server-imap/protocol/sequence_set.h"

namespace mailvault::imapd::detail {

struct SyntaxError {
  std::string message;
  std::size_t offset = 0;
  std::string response_code;  // "" or e.g. "BADCHARSET (UTF-8 US-ASCII)"
  bool is_no = false;         // answer NO rather than BAD
};

// RFC 3501 ATOM-CHAR; bytes >= 0x80 are accepted as well (clients send raw UTF-8 atoms and
// they are passed through as bytes).
bool is_atom_char(char c) noexcept;

// ASTRING-CHAR: ATOM-CHAR or "]".
bool is_astring_char(char c) noexcept;

std::string ascii_upper(std::string_view s);

bool iequals(std::string_view a, std::string_view b) noexcept;

// For error messages: bytes outside printable ASCII become '?', and at most `max` are kept.
std::string printable(std::string_view s, std::size_t max = 200);

// Throws SyntaxError at a byte offset; the message is made printable.
[[noreturn]] void fail_at(std::size_t offset, std::string_view message);

class Cursor {
 public:
  Cursor(std::string_view text, const Limits& limits) : text_(text), limits_(limits) {}

  [[nodiscard]] std::size_t offset() const noexcept { return pos_; }

  [[nodiscard]] bool at_end() const noexcept { return pos_ >= text_.size(); }

  // The next byte, or '\0' at the end.
  [[nodiscard]] char peek() const noexcept { return at_end() ? '\0' : text_[pos_]; }

  [[nodiscard]] const Limits& limits() const noexcept { return limits_; }

  // Throws SyntaxError at the cursor; the message is made printable.
  [[noreturn]] void fail(std::string_view message) const;

  bool try_char(char c);
  void expect_char(char c, std::string_view what);

  bool try_sp() { return try_char(' '); }

  void expect_sp();

  // Fails unless the whole command has been read.
  void expect_end() const;

  // The longest run of bytes at the cursor for which pred(byte) holds (possibly empty),
  // consumed.
  template <typename Pred>
  std::string_view take_while(Pred pred) {
    const std::size_t start = pos_;
    while (pos_ < text_.size() && pred(text_[pos_])) {
      ++pos_;
    }
    return text_.substr(start, pos_ - start);
  }

  // 1*ATOM-CHAR.
  std::string_view atom();
  // The atom at the cursor without consuming it; empty if none.
  [[nodiscard]] std::string_view peek_atom() const;
  // 1*ASTRING-CHAR as a raw token (tag, astring atom form).
  std::string_view astring_atom();

  // A quoted string, literal or literal8 starts here.
  [[nodiscard]] bool at_string() const noexcept;

  // astring = 1*ASTRING-CHAR / string.
  std::string astring();
  // string = quoted / literal.
  std::string string();
  // nstring = string / NIL.
  std::optional<std::string> nstring();
  // mailbox = "INBOX" / astring; any case of INBOX is returned as "INBOX".
  std::string mailbox();
  // list-mailbox = 1*list-char / string (list-char adds % * ] to ATOM-CHAR).
  std::string list_mailbox();
  // A literal8 (~{n}) as used by APPEND with BINARY; also accepts a plain literal.
  std::string literal_or_literal8();

  // number (32-bit), nz-number, number64 (63-bit as in RFC 9051).
  std::uint32_t number();
  std::uint32_t nz_number();
  std::uint64_t number64();

  // sequence-set (RFC 3501) or "$" (RFC 5182); "n:m" is stored with first <= last.
  SequenceSet sequence_set(SequenceSet::Kind kind);
  [[nodiscard]] bool at_sequence_set() const noexcept;

  // date = date-text / DQUOTE date-text DQUOTE; date-text = d-Mon-yyyy.
  struct DateParts {
    int year;
    int month;
    int day;
  };

  DateParts date();

  // flag = "\" atom / atom (keywords); returns the text including a leading "\".
  std::string flag();

  // Skips one tagged-ext-val (atom, number, string, or a parenthesised list of them), for
  // extension parameters this server accepts but ignores.
  void skip_value();

  // Parenthesised lists: counts nesting against Limits::max_nesting.
  void open_list();
  void close_list();

  // One more argument; fails beyond Limits::max_arguments.
  void count_argument();

 private:
  std::string quoted();
  std::string literal(bool allow_literal8);

  std::string_view text_;
  const Limits& limits_;
  std::size_t pos_ = 0;
  int depth_ = 0;
  std::size_t arguments_ = 0;
};

}  // namespace mailvault::imapd::detail
