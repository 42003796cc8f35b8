// UTF-8 decoding, strictly as RFC 3629 defines it: no overlong forms, no surrogates
// (U+D800..U+DFFF), nothing above U+10FFFF, no stray continuation bytes. The one decoder of the
// code base (the query parser, the IMAP client and server, SEARCH case folding all use it);
// core/mime/charset.h keeps its own fast validator for whole message bodies. Pure functions.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace mailvault {

// Decodes the sequence starting at s[i] (i < s.size()): returns its length in bytes (1 to 4)
// and sets `cp`, or returns 0 when the bytes there are not a valid sequence (`cp` is then
// unspecified).
std::size_t decode_utf8(std::string_view s, std::size_t i, char32_t& cp) noexcept;

// Byte offset of the first invalid sequence, or std::string_view::npos when `s` is valid.
std::size_t find_invalid_utf8(std::string_view s) noexcept;

inline bool is_valid_utf8(std::string_view s) noexcept {
  return find_invalid_utf8(s) == std::string_view::npos;
}

// Appends the encoding of `cp`, which must be a Unicode scalar value (U+FFFD otherwise).
void append_utf8(std::string& out, char32_t cp);

}  // namespace mailvault
