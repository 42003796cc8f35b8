#include "core/base/mutf7.h"

#include <cstdint>
#include <vector>

#include "core/base/utf8.h"

namespace mailvault {
namespace {

constexpr std::string_view kAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

int alphabet_index(char c) {
  const std::size_t i = kAlphabet.find(c);
  return i == std::string_view::npos ? -1 : static_cast<int>(i);
}

bool is_printable_ascii(std::uint32_t c) {
  return c >= 0x20 && c <= 0x7e;
}

void flush_run(std::string& out, std::vector<std::uint16_t>& units) {
  if (units.empty()) {
    return;
  }
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
  units.clear();
}

Error invalid(std::string_view name, const std::string& what) {
  std::string shown;
  for (const char c : name.substr(0, 60)) {
    shown.push_back(is_printable_ascii(static_cast<unsigned char>(c)) ? c : '?');
  }
  return make_error(Code::kInvalidArgument,
                    "invalid modified UTF-7 mailbox name \"" + shown + "\": " + what);
}

}  // namespace

std::string mutf7_encode(std::string_view utf8) {
  std::string out;
  out.reserve(utf8.size() + 8);
  std::vector<std::uint16_t> run;
  std::size_t i = 0;
  while (i < utf8.size()) {
    char32_t cp = 0;
    const std::size_t len = decode_utf8(utf8, i, cp);
    i += len == 0 ? 1 : len;
    if (len == 0) {
      cp = 0xFFFD;  // an invalid byte counts as U+FFFD
    }
    if (is_printable_ascii(cp)) {
      flush_run(out, run);
      out += static_cast<char>(cp);
      if (cp == '&') {
        out += '-';
      }
    } else if (cp >= 0x10000) {
      const char32_t v = cp - 0x10000;
      run.push_back(static_cast<std::uint16_t>(0xd800U + (v >> 10U)));
      run.push_back(static_cast<std::uint16_t>(0xdc00U + (v & 0x3ffU)));
    } else {
      run.push_back(static_cast<std::uint16_t>(cp));
    }
  }
  flush_run(out, run);
  return out;
}

Result<std::string> mutf7_decode(std::string_view s, Mutf7Rules rules) {
  std::string out;
  out.reserve(s.size());
  std::size_t i = 0;
  bool previous_was_run = false;
  while (i < s.size()) {
    const auto b = static_cast<unsigned char>(s[i]);
    if (!is_printable_ascii(b)) {
      return invalid(s, "byte " + std::to_string(b) + " at " + std::to_string(i) +
                            " is outside printable US-ASCII");
    }
    if (b != '&') {
      out += static_cast<char>(b);
      ++i;
      previous_was_run = false;
      continue;
    }
    const std::size_t start = i++;
    if (i < s.size() && s[i] == '-') {  // "&-"
      out += '&';
      ++i;
      previous_was_run = false;
      continue;
    }
    if (previous_was_run && !rules.allow_adjacent_runs) {
      return invalid(s, "adjacent encoded runs at " + std::to_string(start));
    }
    std::uint32_t bits = 0;
    int nbits = 0;
    char32_t high = 0;  // pending high surrogate
    bool any = false;
    while (true) {
      if (i >= s.size()) {
        return invalid(s, "unterminated '&' at " + std::to_string(start));
      }
      if (s[i] == '-') {
        ++i;
        break;
      }
      const int v = alphabet_index(s[i]);
      if (v < 0) {
        return invalid(s, "bad base64 character at " + std::to_string(i));
      }
      ++i;
      bits = (bits << 6U) | static_cast<std::uint32_t>(v);
      nbits += 6;
      if (nbits < 16) {
        continue;
      }
      nbits -= 16;
      const auto unit = static_cast<char32_t>((bits >> static_cast<unsigned>(nbits)) & 0xffffU);
      bits &= (1U << static_cast<unsigned>(nbits)) - 1U;
      any = true;
      if (high != 0) {
        if (unit < 0xdc00 || unit > 0xdfff) {
          return invalid(s, "unpaired surrogate");
        }
        append_utf8(out, 0x10000 + ((high - 0xd800) << 10U) + (unit - 0xdc00));
        high = 0;
      } else if (unit >= 0xd800 && unit <= 0xdbff) {
        high = unit;
      } else if (unit >= 0xdc00 && unit <= 0xdfff) {
        return invalid(s, "unpaired surrogate");
      } else if (unit == 0 || is_printable_ascii(unit)) {
        return invalid(s,
                       "NUL or printable US-ASCII encoded in base64 at " + std::to_string(start));
      } else {
        append_utf8(out, unit);
      }
    }
    if (!any || high != 0 || nbits >= 6 || bits != 0) {
      return invalid(s, "the encoded run at " + std::to_string(start) +
                            " does not end on a whole UTF-16 unit");
    }
    previous_was_run = true;
  }
  return out;
}

}  // namespace mailvault
