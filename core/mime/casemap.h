// The comparison key of the i;unicode-casemap collation (RFC 5051), which IMAP SORT and THREAD
// (RFC 5256) use: every character titlecased, then fully decomposed (canonical and
// compatibility mappings, recursively) with the parts titlecased again, so that "é", "É" and "e" +
// U+0301 compare equal and sort next to "E", and "ﬁ" compares as "FI". Ordering is then the byte
// order of the keys (which is code point order in UTF-8). Uses GLib's Unicode tables (GMime's
// dependency), so the rest of the program needs no Unicode data of its own.
//
// Bytes that are not valid UTF-8 are copied unchanged. Pure; thread-safe; throws only
// std::bad_alloc.
#pragma once

#include <string>
#include <string_view>

namespace mailvault::mime {

[[nodiscard]] std::string unicode_casemap_key(std::string_view utf8);

}  // namespace mailvault::mime
