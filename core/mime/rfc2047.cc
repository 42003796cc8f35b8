#include "core/mime/rfc2047.h"

#include <cstddef>
#include <cstdint>
#include <optional>

#include "core/mime/base64.h"
#include "core/mime/charset.h"

namespace mailvault::mime {
namespace {

constexpr std::size_t kMaxCharsetLength = 75;  // RFC 2047 caps a whole encoded-word at 75

int hex_value(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'A' && c <= 'F') {
    return c - 'A' + 10;
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  return -1;
}

// RFC 2047 "Q": '_' is a space, "=XX" a byte. A triplet split across two encoded-words is
// joined; a malformed one is kept literally.
class QDecoder {
 public:
  void feed(std::string_view in, std::string& out) {
    for (const char ch : in) {
      step(ch, out);
    }
  }

  void finish(std::string& out) {
    if (state_ >= 1) {
      out.push_back('=');
    }
    if (state_ == 2) {
      out.push_back(first_);
    }
    state_ = 0;
  }

 private:
  void step(char ch, std::string& out) {
    if (state_ == 1) {
      if (hex_value(ch) >= 0) {
        first_ = ch;
        state_ = 2;
        return;
      }
      finish(out);
    } else if (state_ == 2) {
      if (hex_value(ch) >= 0) {
        out.push_back(static_cast<char>(hex_value(first_) * 16 + hex_value(ch)));
        state_ = 0;
        return;
      }
      finish(out);
    }
    if (ch == '=') {
      state_ = 1;
    } else if (ch == '_') {
      out.push_back(' ');
    } else {
      out.push_back(ch);
    }
  }

  int state_ = 0;  // 0: plain, 1: after '=', 2: after '=' and one hex digit
  char first_ = 0;
};

bool is_blank(char c) {
  return c == ' ' || c == '\t';
}

bool equal_ignore_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) {
    return false;
  }
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i];
    char y = b[i];
    x = (x >= 'A' && x <= 'Z') ? static_cast<char>(x - 'A' + 'a') : x;
    y = (y >= 'A' && y <= 'Z') ? static_cast<char>(y - 'A' + 'a') : y;
    if (x != y) {
      return false;
    }
  }
  return true;
}

struct EncodedWord {
  std::string_view charset;
  char encoding = 'B';  // 'B' or 'Q'
  std::string_view payload;
  std::size_t end = 0;  // one past the closing "?="
};

// Recognises encoded-words in one left-to-right pass. The positions of the next "?=", "=?" and
// blank are remembered, so input full of unterminated "=?" openers stays linear
// instead of searching to the end of a megabyte header for every one of them.
class WordMatcher {
 public:
  explicit WordMatcher(std::string_view s) : s_(s) {}

  // `pos` must point at "=?" and never decrease between calls.
  std::optional<EncodedWord> match(std::size_t pos) {
    std::size_t i = pos + 2;
    const std::size_t charset_begin = i;
    while (i < s_.size() && s_[i] != '?' && !is_blank(s_[i]) &&
           i - charset_begin <= kMaxCharsetLength) {
      ++i;
    }
    if (i >= s_.size() || s_[i] != '?' || i == charset_begin) {
      return std::nullopt;
    }
    EncodedWord word;
    word.charset = s_.substr(charset_begin, i - charset_begin);
    if (i + 2 >= s_.size() || s_[i + 2] != '?') {
      return std::nullopt;
    }
    const char enc = s_[i + 1];
    if (enc == 'B' || enc == 'b') {
      word.encoding = 'B';
    } else if (enc == 'Q' || enc == 'q') {
      word.encoding = 'Q';
    } else {
      return std::nullopt;
    }
    const std::size_t payload_begin = i + 3;
    const std::size_t term = terminator_at_or_after(payload_begin);
    if (term == std::string_view::npos) {
      return std::nullopt;
    }
    word.payload = s_.substr(payload_begin, term - payload_begin);
    // Base64 never contains blanks: a blank means the "?=" belongs to something else. Broken
    // mailers do put raw spaces in Q words (GMime accepts them too), but not when another
    // encoded-word starts after the blank: "=?UTF-8?Q?x =?UTF-8?B?SGk=?=" is two words, the
    // first of them unterminated.
    const std::size_t blank = blank_at_or_after(payload_begin);
    if (blank < term && (word.encoding == 'B' || opener_at_or_after(blank) < term)) {
      return std::nullopt;
    }
    word.end = term + 2;
    return word;
  }

 private:
  std::size_t terminator_at_or_after(std::size_t from) {
    if (!searched_ || (cached_ != std::string_view::npos && cached_ < from)) {
      cached_ = s_.find("?=", from);
      searched_ = true;
    }
    return cached_;
  }

  std::size_t blank_at_or_after(std::size_t from) {
    if (!blank_searched_ || (blank_ != std::string_view::npos && blank_ < from)) {
      blank_ = std::string_view::npos;
      for (std::size_t i = from; i < s_.size(); ++i) {
        if (is_blank(s_[i])) {
          blank_ = i;
          break;
        }
      }
      blank_searched_ = true;
    }
    return blank_;
  }

  std::size_t opener_at_or_after(std::size_t from) {
    if (!opener_searched_ || (opener_ != std::string_view::npos && opener_ < from)) {
      opener_ = s_.find("=?", from);
      opener_searched_ = true;
    }
    return opener_;
  }

  std::string_view s_;
  std::size_t cached_ = std::string_view::npos;
  bool searched_ = false;
  std::size_t blank_ = std::string_view::npos;
  bool blank_searched_ = false;
  std::size_t opener_ = std::string_view::npos;
  bool opener_searched_ = false;
};

// Walks a header value and reports text, blanks and decoded runs of encoded-words to a sink:
//   sink.text(view)   raw text between encoded-words (may contain 8-bit bytes)
//   sink.blank(view)  blanks that RFC 2047 keeps (not those between two encoded-words)
//   sink.run(utf8)    the UTF-8 decoding of one run of adjacent encoded-words
template <typename Sink>
void scan_header(std::string_view s, Sink& sink, std::vector<std::string>* problems) {
  WordMatcher matcher(s);
  std::string bytes;    // raw bytes of the current run (one charset)
  std::string decoded;  // UTF-8 of the current run
  std::string_view run_charset;
  char run_encoding = 0;
  Base64Decoder b64;
  QDecoder q;
  bool in_run = false;
  std::string_view held_blank;  // blanks after an encoded-word: dropped if another follows

  const auto flush_decoder = [&] {
    if (run_encoding == 'B') {
      b64.finish(bytes);
    } else if (run_encoding == 'Q') {
      q.finish(bytes);
    }
  };
  const auto flush_charset = [&] {
    flush_decoder();
    if (!append_charset_to_utf8(decoded, bytes, run_charset) && problems != nullptr) {
      std::string name = lenient_utf8(run_charset.substr(0, 40));
      problems->push_back("undecodable charset " + name);
    }
    bytes.clear();
  };
  const auto end_run = [&] {
    if (!in_run) {
      return;
    }
    flush_charset();
    for (char& c : decoded) {
      if (c == '\r' || c == '\n') {
        c = ' ';
      }
    }
    sink.run(decoded);
    decoded.clear();
    in_run = false;
  };

  std::size_t i = 0;
  while (i < s.size()) {
    if (is_blank(s[i])) {
      std::size_t j = i;
      while (j < s.size() && is_blank(s[j])) {
        ++j;
      }
      if (in_run) {
        held_blank = s.substr(i, j - i);
      } else {
        sink.blank(s.substr(i, j - i));
      }
      i = j;
      continue;
    }
    if (s[i] == '=' && i + 1 < s.size() && s[i + 1] == '?') {
      if (const auto word = matcher.match(i)) {
        if (in_run && equal_ignore_case(word->charset, run_charset)) {
          if (word->encoding != run_encoding) {
            flush_decoder();
          }
        } else {
          if (in_run) {
            flush_charset();  // same run (blanks dropped), new charset
          }
          run_charset = word->charset;
          in_run = true;
        }
        run_encoding = word->encoding;
        if (word->encoding == 'B') {
          b64.feed(word->payload, bytes);
        } else {
          q.feed(word->payload, bytes);
        }
        held_blank = {};
        i = word->end;
        continue;
      }
    }
    // Plain text up to the next blank or "=?" (loose mode: encoded-words glued to text count).
    std::size_t j = i + 1;
    while (j < s.size() && !is_blank(s[j]) &&
           !(s[j] == '=' && j + 1 < s.size() && s[j + 1] == '?')) {
      ++j;
    }
    end_run();
    if (!held_blank.empty()) {
      sink.blank(held_blank);
      held_blank = {};
    }
    sink.text(s.substr(i, j - i));
    i = j;
  }
  end_run();
  if (!held_blank.empty()) {
    sink.blank(held_blank);
  }
}

bool is_fold_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

std::string_view trim_folded(std::string_view s) {
  while (!s.empty() && is_fold_space(s.front())) {
    s.remove_prefix(1);
  }
  while (!s.empty() && is_fold_space(s.back())) {
    s.remove_suffix(1);
  }
  return s;
}

// RFC 5322 unfolding: a line break inside a header value is only ever followed by a blank,
// which stays; stray CR and LF are dropped too. Copies only when there is a break to remove.
std::string_view unfold(std::string_view raw, std::string& storage) {
  std::size_t first = 0;
  while (first < raw.size() && raw[first] != '\r' && raw[first] != '\n') {
    ++first;
  }
  if (first == raw.size()) {
    return raw;
  }
  storage.reserve(raw.size());
  storage.append(raw.substr(0, first));
  for (std::size_t i = first; i < raw.size(); ++i) {
    if (raw[i] != '\r' && raw[i] != '\n') {
      storage.push_back(raw[i]);
    }
  }
  return storage;
}

// Most header values are plain ASCII without encoded-words (Received, Message-ID, Date...).
bool needs_decoding(std::string_view s) {
  for (const char c : s) {
    if (static_cast<unsigned char>(c) >= 0x80 || c == '\0') {
      return true;
    }
  }
  return s.find("=?") != std::string_view::npos;
}

struct DecodeSink {
  std::string out;

  void text(std::string_view t) { append_lenient_utf8(out, t); }

  void blank(std::string_view b) { out.append(b); }

  void run(std::string_view utf8) { out.append(utf8); }
};

struct ReencodeSink {
  std::string out;

  void text(std::string_view t) { append_lenient_utf8(out, t); }

  void blank(std::string_view b) { out.append(b); }

  void run(std::string_view utf8) {
    if (utf8.empty()) {
      return;
    }
    static constexpr std::string_view kAlphabet =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    out.append("=?UTF-8?B?");
    std::size_t i = 0;
    const auto byte = [&](std::size_t k) {
      return static_cast<unsigned char>(utf8[k]);
    };
    for (; i + 3 <= utf8.size(); i += 3) {
      const std::uint32_t v = (byte(i) << 16) | (byte(i + 1) << 8) | byte(i + 2);
      out.push_back(kAlphabet[(v >> 18) & 63]);
      out.push_back(kAlphabet[(v >> 12) & 63]);
      out.push_back(kAlphabet[(v >> 6) & 63]);
      out.push_back(kAlphabet[v & 63]);
    }
    if (utf8.size() - i == 1) {
      const std::uint32_t v = byte(i) << 16;
      out.push_back(kAlphabet[(v >> 18) & 63]);
      out.push_back(kAlphabet[(v >> 12) & 63]);
      out.append("==");
    } else if (utf8.size() - i == 2) {
      const std::uint32_t v = (byte(i) << 16) | (byte(i + 1) << 8);
      out.push_back(kAlphabet[(v >> 18) & 63]);
      out.push_back(kAlphabet[(v >> 12) & 63]);
      out.push_back(kAlphabet[(v >> 6) & 63]);
      out.push_back('=');
    }
    out.append("?=");
  }
};

std::string trim_blanks(std::string s) {
  const auto first = s.find_first_not_of(" \t");
  if (first == std::string::npos) {
    return {};
  }
  const auto last = s.find_last_not_of(" \t");
  s.erase(last + 1);
  s.erase(0, first);
  return s;
}

}  // namespace

std::string decode_header_text(std::string_view raw) {
  return decode_header_text(raw, nullptr);
}

std::string decode_header_text(std::string_view raw, std::vector<std::string>* problems) {
  std::string storage;
  const std::string_view value = unfold(trim_folded(raw), storage);
  if (!needs_decoding(value)) {
    return std::string(value);  // already trimmed: unfolding keeps the ends
  }
  DecodeSink sink;
  sink.out.reserve(value.size());
  scan_header(value, sink, problems);
  return trim_blanks(std::move(sink.out));
}

std::string reencode_header_for_gmime(std::string_view raw, std::vector<std::string>* problems) {
  std::string storage;
  const std::string_view value = unfold(raw, storage);
  ReencodeSink sink;
  sink.out.reserve(value.size());
  scan_header(value, sink, problems);
  return std::move(sink.out);
}

}  // namespace mailvault::mime
