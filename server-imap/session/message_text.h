// The parts of a raw message that FETCH serves without MIME parsing: the header block, the text
// after it, selected header fields, and <partial> ranges. Pure functions over the exact archived
// bytes (Archive::read_raw), so what a client receives is byte-identical to the archive.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mailvault::imapd {

// Where the header ends: `header_end` is the offset just after the empty line that ends the
// header block (the empty line belongs to the header, as RFC 3501 BODY[HEADER] requires);
// the text (BODY[TEXT]) starts there. A line is terminated by LF or CRLF. A message without an
// empty line is all header and has an empty text. Pure.
struct HeaderSplit {
  std::size_t header_end = 0;
};

HeaderSplit split_header(std::string_view raw) noexcept;

inline std::string_view header_of(std::string_view raw) noexcept {
  return raw.substr(0, split_header(raw).header_end);
}

inline std::string_view text_of(std::string_view raw) noexcept {
  return raw.substr(split_header(raw).header_end);
}

// BODY[HEADER.FIELDS (names)] (`keep` true) or HEADER.FIELDS.NOT (`keep` false): the header
// fields whose names are (not) among `names` (case-insensitive), each with its continuation
// lines, in message order, then the empty line (CRLF). Pure.
std::string header_fields(std::string_view raw, const std::vector<std::string>& names, bool keep);

// The bytes of BODY[...]<offset.length>: empty when offset is past the end. Pure.
std::string_view partial_range(std::string_view data, std::uint32_t offset,
                               std::optional<std::uint32_t> length) noexcept;

// INTERNALDATE as IMAP writes it: "17-Jul-1996 02:44:25 +0000" (UTC). Pure.
std::string format_internal_date(std::int64_t unix_seconds);

}  // namespace mailvault::imapd
