// Pure text helpers of the IMAP client: modified UTF-7 mailbox names (RFC 3501 §5.1.3),
// mailbox glob patterns, INTERNALDATE, base64 and SASL initial responses. No I/O; all functions
// are thread-safe (no shared state).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/base/result.h"
#include "core/base/utf8.h"  // is_valid_utf8, used with these

namespace mailvault::ingest::imap {

// --- Modified UTF-7 (RFC 3501 §5.1.3) ---

// Modified UTF-7 of core/base/mutf7.h, as the client needs it: encoding refuses invalid UTF-8
// (kInvalidArgument: a configured folder name must be a real name), and decoding accepts
// adjacent encoded runs ("&AOQ-&AOQ-"), which a sloppy server may send.
Result<std::string> mutf7_encode(std::string_view utf8);
Result<std::string> mutf7_decode(std::string_view mutf7);

// The UTF-8 display name of a mailbox name as a server sent it: a name with 8-bit bytes that is
// valid UTF-8 is taken as is (servers with UTF8=ACCEPT, or sloppy ones); otherwise the modified
// UTF-7 decoding; if that fails too (a server that sends "R&D" unencoded), the wire name itself.
std::string decode_mailbox_name(std::string_view wire);

// --- Mailbox glob patterns ---

// True if `name` matches `pattern`: '*' matches any sequence (delimiter included), '%' any
// sequence without `delimiter` ('\0' = no hierarchy: '%' behaves as '*'); every other byte
// matches itself (case-sensitive, except that a leading "INBOX" component matches any case, as
// the INBOX name is case-insensitive in IMAP). O(|pattern| * |name|).
bool glob_match(std::string_view pattern, std::string_view name, char delimiter) noexcept;

// --- INTERNALDATE ---

// Seconds since the epoch (UTC) of an IMAP date-time ("17-Jul-1996 02:44:25 -0700"; the day may
// be " 7", "07" or "7"; the month is case-insensitive), or nullopt when it is not one.
std::optional<std::int64_t> parse_internal_date(std::string_view text) noexcept;

// --- base64 (RFC 4648, standard alphabet, padded) and SASL ---

std::string base64_encode(std::string_view bytes);

// Decodes padded or unpadded base64; whitespace is not allowed. nullopt if malformed.
std::optional<std::string> base64_decode(std::string_view text);

// SASL PLAIN (RFC 4616) initial response, base64: [authzid] NUL authcid NUL password.
std::string sasl_plain_response(std::string_view user, std::string_view password);

// XOAUTH2 initial response, base64: "user=" user ^A "auth=Bearer " token ^A ^A.
std::string sasl_xoauth2_response(std::string_view user, std::string_view token);

}  // namespace mailvault::ingest::imap
