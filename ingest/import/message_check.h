// Content sniffing for files that are supposed to hold one RFC 5322 message: the archive keeps
// malformed mail byte for byte, but refuses files that are clearly not mail (empty, binary, no
// header field at the start). Pure functions of the bytes.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace mailvault::ingest {

// How much of a file is examined for NUL bytes.
inline constexpr std::size_t kSniffBytes = std::size_t{64} * 1024;

// `bytes` without a leading UTF-8 byte order mark (some Windows tools write one before the
// first header field or From_ line).
std::string_view skip_utf8_bom(std::string_view bytes) noexcept;

// True if `line` starts with a header field name followed by a colon: one or more printable
// US-ASCII characters other than ':' (RFC 5322 ftext), then optional SP/HTAB (obsolete syntax,
// RFC 5322 4.5), then ':'. Only the start of `line` is examined.
bool looks_like_header_field(std::string_view line) noexcept;

// True if `line` starts with "From " (an mbox From_ line).
bool starts_with_from_line(std::string_view line) noexcept;

// Why a file that should hold one message is refused, or nullopt if it is accepted. `bytes` is
// the whole file (or at least its first kSniffBytes bytes). Reasons:
//   "empty file"; "not an RFC 5322 message (binary data)" for a NUL byte in the first
//   kSniffBytes; "not an RFC 5322 message (no header fields)" when the first line (after an
//   optional UTF-8 BOM) is neither a header field nor a From_ line.
std::optional<std::string> check_single_message(std::string_view bytes);

}  // namespace mailvault::ingest
