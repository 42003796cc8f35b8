// RFC 2047 header decoding: the one place where header text becomes UTF-8.
//
// Why not g_mime_utils_header_decode_text? GMime 3.2.13 (Debian 12) has gmime#133: in a run of
// adjacent base64 encoded-words with the same charset, everything after the first *padded*
// word is lost ("=?UTF-8?B?SGVsbG8=?= =?UTF-8?B?IHdvcmxk?=" decodes to "Hello"). We decode
// encoded-words ourselves, with GMime's tolerance for broken mailers but without the bug.
//
// Thread safety: pure functions, safe to call concurrently. They never throw except
// std::bad_alloc, run in time linear in the input, and always return valid UTF-8 without NUL.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace mailvault::mime {

// Decodes an unstructured header value (Subject, a display name, a filename):
//  - unfolds it: CR and LF are dropped (RFC 5322 unfolding), and surrounding blanks trimmed;
//  - decodes encoded-words "=?charset[*lang]?B|Q?payload?=", also when glued to other text;
//    whitespace between adjacent encoded-words is dropped (RFC 2047 section 6.2); adjacent
//    words in one charset are decoded as one byte sequence, so a character split across words
//    survives; padding ends a base64 quantum, so padded words do not swallow the next ones;
//  - leaves malformed encoded-words as they are;
//  - keeps raw 8-bit text that is valid UTF-8 and reads any other raw byte as windows-1252;
//  - decodes words in an unknown charset as raw 8-bit text (never drops them).
[[nodiscard]] std::string decode_header_text(std::string_view raw);

// As above; when `problems` is not null, appends one message per encoded-word charset that
// could not be decoded ("undecodable charset x-foo").
[[nodiscard]] std::string decode_header_text(std::string_view raw,
                                             std::vector<std::string>* problems);

// Prepares a structured header (an address list) for GMime's parser, which would otherwise
// decode encoded-words itself and hit gmime#133: unfolds the value, replaces every run of
// adjacent encoded-words by a single "=?UTF-8?B?...?=" word holding our decoding of the run,
// and turns raw 8-bit text into UTF-8 (as decode_header_text does). Everything else, quotes,
// comments and specials included, is left in place, so GMime still sees the structure.
[[nodiscard]] std::string reencode_header_for_gmime(std::string_view raw,
                                                    std::vector<std::string>* problems);

}  // namespace mailvault::mime
