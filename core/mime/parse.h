// RFC 5322 / MIME message -> ParsedMessage, over GMime 3. The only entry point other
// components need from core/mime; no GMime type crosses this header.
#pragma once

#include <cstddef>
#include <string_view>

#include "core/mime/parsed_message.h"

namespace mailvault::mime {

// Limits against hostile input. Whatever lies beyond them is skipped and a problem recorded.
inline constexpr int kMaxMimeDepth = 100;               // multipart / message/rfc822 nesting
inline constexpr std::size_t kMaxMimeParts = 100'000;   // MIME parts visited in one message
inline constexpr std::size_t kMaxAttachments = 10'000;  // entries in ParsedMessage::attachments
inline constexpr std::size_t kMaxProblems = 100;        // in ParsedMessage::problems, + 1 "N more"

// Parses one message (raw bytes as stored, CRLF or LF line endings, an optional leading mbox
// "From " line) into a ParsedMessage; see parsed_message.h for what each field holds. Text
// parts: text/plain (and other inline text/*) go to body_text; in a multipart/alternative the
// first non-blank text/plain wins, else the HTML alternative is converted (html_to_text.h); a
// leaf is an attachment when its disposition says so, when it is not text, or when it has a
// filename and is not explicitly inline; signatures and encrypted content are neither.
//
// Never fails and never throws for any input (only std::bad_alloc can escape): a message GMime
// cannot read at all (binary garbage) still yields a ParsedMessage whose body_text holds the
// input as text; blank input yields an empty one with the problem "empty message". Every
// deviation noticed on the way ("unterminated multipart boundary", "invalid Date header",
// "undecodable charset x-foo", "raw 8-bit bytes in header Subject", the limits above) is
// recorded in `problems`, each message once. All strings are valid UTF-8 without NUL.
//
// Cost: linear in the input (GMime's boundary scan adds a factor of the nesting depth, which
// GMime caps at 1024); memory a small multiple of the input; `raw` is not copied and need only
// live for the duration of the call.
//
// Thread-safe: may run concurrently on different inputs (GMime is initialised on first use;
// every GMime object is created and destroyed inside the call).
[[nodiscard]] ParsedMessage parse_message(std::string_view raw);

}  // namespace mailvault::mime
