#include "server-imap/session/rfc822_lexer.h"

#include <string_view>

namespace mailvault::imapd {

namespace {

bool is_special(char c) noexcept {
  return std::string_view{"()<>@,;:\\\".[]"}.find(c) != std::string_view::npos;
}

bool is_tspecial(char c) noexcept {
  return std::string_view{"()<>@,;:\\\"/[]?="}.find(c) != std::string_view::npos;
}

bool is_blank_or_ctl(char c) noexcept {
  const auto u = static_cast<unsigned char>(c);
  return u <= 0x20 || u == 0x7f;
}

}  // namespace

bool Rfc822Lexer::skip_cfws() {
  while (p_ < s_.size()) {
    const char c = s_[p_];
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
      ++p_;
      continue;
    }
    if (c != '(')
      return true;
    // A comment; nesting and quoted-pairs as RFC 5322 3.2.2. Unterminated: to the end.
    last_comment_.clear();
    int depth = 0;
    while (p_ < s_.size()) {
      const char d = s_[p_++];
      if (d == '\\' && p_ < s_.size()) {
        if (depth > 0)
          last_comment_ += s_[p_];
        ++p_;
      } else if (d == '(') {
        if (depth++ > 0)
          last_comment_ += d;
      } else if (d == ')') {
        if (--depth == 0)
          break;
        last_comment_ += d;
      } else if (d != '\r' && d != '\n') {
        last_comment_ += d;
      }
    }
  }
  return false;
}

bool Rfc822Lexer::atom(std::string& out) {
  const std::size_t start = p_;
  while (p_ < s_.size() && !is_blank_or_ctl(s_[p_]) && !is_special(s_[p_]))
    ++p_;
  out.append(s_.substr(start, p_ - start));
  return p_ > start;
}

bool Rfc822Lexer::mime_token(std::string& out) {
  const std::size_t start = p_;
  while (p_ < s_.size() && !is_blank_or_ctl(s_[p_]) && !is_tspecial(s_[p_]))
    ++p_;
  out.append(s_.substr(start, p_ - start));
  return p_ > start;
}

bool Rfc822Lexer::quoted_string(std::string& out) {
  if (peek() != '"')
    return false;
  ++p_;
  while (p_ < s_.size()) {
    const char c = s_[p_++];
    if (c == '"')
      return true;
    if (c == '\\' && p_ < s_.size()) {
      out += s_[p_++];
    } else if (c != '\r' && c != '\n') {
      out += c;
    }
  }
  return true;
}

bool Rfc822Lexer::phrase(std::string& out) {
  bool any = false;
  while (!at_end()) {
    const char c = peek();
    std::string word;
    if (c == '"') {
      quoted_string(word);
    } else if (c == '.') {
      // obs-phrase: a dot continues the phrase (never starts it).
      if (!any)
        break;
      ++p_;
      out += '.';
      skip_cfws();
      continue;
    } else if (!atom(word)) {
      break;
    }
    if (any && !(out.size() > 0 && out.back() == '.'))
      out += ' ';
    out += word;
    any = true;
    skip_cfws();
  }
  return any;
}

bool Rfc822Lexer::dot_atom(std::string& out) {
  bool any = false;
  while (!at_end()) {
    if (peek() == '.') {
      out += '.';
      ++p_;
      any = true;
      continue;
    }
    if (!atom(out))
      break;
    any = true;
    const std::size_t save = p_;
    skip_cfws();
    if (peek() != '.') {
      p_ = save;
      break;
    }
  }
  return any;
}

bool Rfc822Lexer::domain(std::string& out) {
  skip_cfws();
  if (peek() == '[') {
    const std::size_t start = p_;
    while (p_ < s_.size() && s_[p_] != ']')
      p_ += (s_[p_] == '\\' && p_ + 1 < s_.size()) ? 2 : 1;
    if (p_ < s_.size())
      ++p_;
    for (std::size_t i = start; i < p_; ++i) {
      if (s_[i] != '\r' && s_[i] != '\n')
        out += s_[i];
    }
    skip_cfws();
    return true;
  }
  const bool ok = dot_atom(out);
  skip_cfws();
  return ok;
}

}  // namespace mailvault::imapd
