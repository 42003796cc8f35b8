// RFC 5322 / RFC 2045 lexical helpers for the FETCH renderers (envelope.cc, body_structure.cc):
// CFWS skipping, atoms, MIME tokens, quoted strings, phrases and domains over one unfolded
// header value. Lenient like Dovecot's rfc822-parser: never fails hard, never reads past the
// end, linear in the input. Not thread-safe per object (a small value type over a view).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace mailvault::imapd {

class Rfc822Lexer {
 public:
  explicit Rfc822Lexer(std::string_view text) : s_(text) {}

  [[nodiscard]] bool at_end() const noexcept { return p_ >= s_.size(); }

  [[nodiscard]] char peek() const noexcept { return at_end() ? '\0' : s_[p_]; }

  [[nodiscard]] std::size_t pos() const noexcept { return p_; }

  void set_pos(std::size_t p) noexcept { p_ = p; }

  void advance() noexcept { ++p_; }

  // Skips blanks, line breaks and (nested) comments; the text of the last comment skipped is
  // kept in last_comment(). False at the end of the input.
  bool skip_cfws();

  [[nodiscard]] const std::string& last_comment() const noexcept { return last_comment_; }

  void clear_last_comment() { last_comment_.clear(); }

  // Appends an RFC 5322 atom (atext run); false when none is there.
  bool atom(std::string& out);
  // Appends an RFC 2045 token (no tspecials); false when none is there.
  bool mime_token(std::string& out);
  // Appends the contents of a quoted string (escapes removed, line breaks dropped); false when
  // the input is not at '"'. An unterminated string runs to the end.
  bool quoted_string(std::string& out);
  // Appends a phrase: words (atoms, quoted strings, obs-phrase dots) joined by one space, then
  // skips CFWS. False when no word was there.
  bool phrase(std::string& out);
  // Appends a dot-atom (lenient about empty labels); false when none is there.
  bool dot_atom(std::string& out);
  // Appends a domain: a dot-atom or a [domain literal] as written.
  bool domain(std::string& out);

 private:
  std::string_view s_;
  std::size_t p_ = 0;
  std::string last_comment_;
};

}  // namespace mailvault::imapd
