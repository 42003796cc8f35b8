#include "server-imap/protocol/mutf7.h"

#include <cstdint>
#include <string>
#include <vector>

#include "core/base/utf8.h"

namespace mailvault::imapd {
namespace {

constexpr std::string_view kAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

int alphabet_index(char c) {
  const std::size_t i = kAlphabet.find(c);
  return i == std::string_view::npos ? -1 : static_cast<int>(i);
}

bool is_direct(unsigned char c) {
  return c >= 0x20 && c <= 0x7e && c != '&';
}

void flush_run(std::string& out, const std::vector<std::uint16_t>& units) {
  out += '&';
  std::uint32_t bits = 0;
  int nbits = 0;
  for (const std::uint16_t u : units) {
    bits = (bits << 16U) | u;
    nbits += 16;
    while (nbits >= 6) {
      nbits -= 6;
      out += kAlphabet[(bits >> static_cast<unsigned>(nbits)) & 0x3fU];
    }
    bits &= (1U << static_cast<unsigned>(nbits)) - 1U;
  }
  if (nbits > 0) {
    out += kAlphabet[(bits << static_cast<unsigned>(6 - nbits)) & 0x3fU];
  }
  out += '-';
}

Error invalid(std::string_view what) {
  return make_error(Code::kInvalidArgument,
                    "invalid modified UTF-7 mailbox name: " + std::string(what));
}

}  // namespace

std::string mutf7_encode(std::string_view utf8) {
  std::string out;
  std::vector<std::uint16_t> run;
  std::size_t i = 0;
  while (i < utf8.size()) {
    const auto b = static_cast<unsigned char>(utf8[i]);
    if (is_direct(b) || b == '&') {
      if (!run.empty()) {
        flush_run(out, run);
        run.clear();
      }
      out += b == '&' ? "&-" : std::string(1, static_cast<char>(b));
      ++i;
      continue;
    }
    char32_t cp = 0xFFFD;  // an invalid sequence counts as U+FFFD, one byte long
    const std::size_t len = decode_utf8(utf8, i, cp);
    i += len == 0 ? 1 : len;
    if (len == 0)
      cp = 0xFFFD;
    if (cp >= 0x10000) {
      const char32_t v = cp - 0x10000;
      run.push_back(static_cast<std::uint16_t>(0xd800U + (v >> 10U)));
      run.push_back(static_cast<std::uint16_t>(0xdc00U + (v & 0x3ffU)));
    } else {
      run.push_back(static_cast<std::uint16_t>(cp));
    }
  }
  if (!run.empty()) {
    flush_run(out, run);
  }
  return out;
}

Result<std::string> mutf7_decode(std::string_view mutf7) {
  const std::string_view s = mutf7;
  std::string out;
  std::size_t i = 0;
  bool previous_was_run = false;
  while (i < s.size()) {
    const auto b = static_cast<unsigned char>(s[i]);
    if (b != '&') {
      if (!is_direct(b)) {
        return invalid("byte " + std::to_string(b) + " at " + std::to_string(i));
      }
      out += static_cast<char>(b);
      ++i;
      previous_was_run = false;
      continue;
    }
    const std::size_t start = i++;
    if (i < s.size() && s[i] == '-') {
      out += '&';
      ++i;
      previous_was_run = false;
      continue;
    }
    if (previous_was_run) {
      return invalid("adjacent encoded runs at " + std::to_string(start));
    }
    std::uint32_t bits = 0;
    int nbits = 0;
    char32_t high = 0;  // pending high surrogate
    bool any = false;
    while (true) {
      if (i >= s.size()) {
        return invalid("unterminated & at " + std::to_string(start));
      }
      if (s[i] == '-') {
        ++i;
        break;
      }
      const int v = alphabet_index(s[i]);
      if (v < 0) {
        return invalid("bad base64 at " + std::to_string(i));
      }
      ++i;
      bits = (bits << 6U) | static_cast<std::uint32_t>(v);
      nbits += 6;
      if (nbits >= 16) {
        nbits -= 16;
        const auto unit = static_cast<char32_t>((bits >> static_cast<unsigned>(nbits)) & 0xffffU);
        bits &= (1U << static_cast<unsigned>(nbits)) - 1U;
        any = true;
        if (high != 0) {
          if (unit < 0xdc00 || unit > 0xdfff) {
            return invalid("unpaired surrogate");
          }
          append_utf8(out, 0x10000 + ((high - 0xd800) << 10U) + (unit - 0xdc00));
          high = 0;
        } else if (unit >= 0xd800 && unit <= 0xdbff) {
          high = unit;
        } else if (unit >= 0xdc00 && unit <= 0xdfff) {
          return invalid("unpaired surrogate");
        } else if (unit == 0 || unit == '&' ||
                   (unit < 0x80 && is_direct(static_cast<unsigned char>(unit)))) {
          return invalid("NUL, & or printable ASCII encoded at " + std::to_string(start));
        } else {
          append_utf8(out, unit);
        }
      }
    }
    if (!any || high != 0 || nbits >= 6 || bits != 0) {
      return invalid("bad encoded run at " + std::to_string(start));
    }
    previous_was_run = true;
  }
  return out;
}

}  // namespace mailvault::imapd
