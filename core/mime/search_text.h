// The "search text" sidecar: a ParsedMessage serialised next to the message's blob, so that
// SEARCH verification and re-indexing never have to parse MIME again (docs: ARCHITECTURE.md,
// "Index"). The blob store compresses it; this format does not.
//
// Format, version 2 (all integers are unsigned LEB128 varints unless noted):
//   magic     4 bytes  "MVst"
//   version   1 byte   1
//   fields, in this order:
//     string message_id, string subject,
//     addresses from, sender, reply_to, to, cc, bcc   (count, then name and email strings)
//     date      1 byte presence flag (0/1), then the value zigzag-encoded when present
//     string in_reply_to, strings references (count, then each), string list_id,
//     headers   (count, then name and value strings)
//     string body_text
//     attachments (count, then filename, content_type strings and size varint)
//     string attachment_text
//     has_attachments 1 byte (0/1)
//     strings problems (count, then each)
//     date_zone_minutes  zigzag varint                      (version 2 on)
//     string other_text                                      (version 2 on)
//     string nested_header_text                              (version 2 on)
//   crc32     4 bytes little-endian, CRC-32 (IEEE) of everything before it
// A string is its byte length followed by its bytes. body_html is not stored: readers that
// need HTML parse the blob. Any change to this layout bumps the version; every older version
// stays readable (version 1 records decode with date_zone_minutes 0 and empty other_text and
// nested_header_text).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/base/result.h"
#include "core/mime/parsed_message.h"

namespace mailvault::mime {

inline constexpr std::uint8_t kSearchTextVersion = 2;

// Serialises every field of `message` except body_html. Deterministic: equal messages give
// equal bytes. Pure; thread-safe; throws only std::bad_alloc.
[[nodiscard]] std::string encode_search_text(const ParsedMessage& message);

// Parses what encode_search_text produced. Errors (never exceptions, never a crash, whatever
// the input):
//   Code::kDataLoss       wrong magic, truncated, trailing bytes, bad checksum, impossible
//                         lengths or counts, flags other than 0/1;
//   Code::kUnimplemented  a version this build does not know (written by a newer mailvault).
// The result's body_html is always empty. Pure; thread-safe.
[[nodiscard]] Result<ParsedMessage> decode_search_text(std::string_view bytes);

}  // namespace mailvault::mime
