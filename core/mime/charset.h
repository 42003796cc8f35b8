// UTF-8 validation and charset conversion: every byte that enters a ParsedMessage string goes
// through one of these functions, which is why all such strings are valid UTF-8 without NUL.
//
// Thread safety: all functions may run concurrently; iconv descriptors are cached per thread.
// Failure modes: none are reported by exception (only std::bad_alloc can escape); bytes that
// cannot be decoded become U+FFFD, and an unknown charset is reported by the return value.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace mailvault::mime {

// True when `bytes` is well-formed UTF-8 (Unicode table 3-7: no overlong forms, surrogates or
// code points above U+10FFFF). NUL counts as well-formed here.
[[nodiscard]] bool is_valid_utf8(std::string_view bytes) noexcept;

// Appends `bytes`, which claim to be UTF-8: well-formed sequences are copied, each maximal
// ill-formed subpart and each NUL becomes U+FFFD.
void append_sanitized_utf8(std::string& out, std::string_view bytes);

// Appends text in an undeclared or unknown 8-bit charset (raw bytes in headers, bodies without
// a charset): well-formed UTF-8 sequences are kept, every other byte is read as windows-1252
// (a superset of ISO-8859-1 in the printable range, and what most such mail really is).
// NUL becomes U+FFFD.
void append_lenient_utf8(std::string& out, std::string_view bytes);

[[nodiscard]] std::string lenient_utf8(std::string_view bytes);

// Converts `bytes` from the MIME charset `charset` (any case, aliases accepted; an RFC 2231
// "*language" suffix is ignored) to UTF-8 and appends the result; undecodable bytes become
// U+FFFD. An empty, US-ASCII or "unknown-8bit" charset uses append_lenient_utf8. Returns false
// when the charset is unknown or iconv cannot convert from it; the text is then still appended,
// through append_lenient_utf8, so no text is ever dropped.
[[nodiscard]] bool append_charset_to_utf8(std::string& out, std::string_view bytes,
                                          std::string_view charset);

// Appends the UTF-8 encoding of `code_point`; surrogates and values above U+10FFFF and NUL
// become U+FFFD.
void append_code_point(std::string& out, char32_t code_point);

}  // namespace mailvault::mime
