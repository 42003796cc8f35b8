// The pure part of the POP3 client: functions from the bytes of server lines to values, and the
// bytes of a few commands. No I/O, no state, no allocation beyond the returned values, so every
// function is tested byte by byte and could be fuzzed.
//
// RFC 1939 (POP3), RFC 2449 (CAPA, extended response codes), RFC 5034 (AUTH, SASL PLAIN),
// RFC 2595 (STLS). "line" always means one line without its CRLF (net::Connection::read_line).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/result.h"

namespace mailvault::ingest::pop3 {

// A message number of RFC 1939 ("msg"): 1-based position in the maildrop of this session.
// Valid only for one session; never stored (the UIDL is what identifies a message).
enum class MessageNumber : std::uint32_t {};

constexpr std::uint32_t to_int(MessageNumber n) noexcept {
  return static_cast<std::uint32_t>(n);
}

// A status line: "+OK text" or "-ERR [CODE] text".
struct Reply {
  bool ok = false;
  // RFC 2449 §8 response code without the brackets ("AUTH", "IN-USE", "SYS/TEMP"), as sent
  // (upper-cased); empty when the line has none.
  std::string code;
  std::string text;  // the rest of the line, after the indicator, the code and one space
};

// Parses a status line. The indicator is matched case-insensitively ("+ok" from some servers)
// and must be followed by a space or the end of the line. Anything else (garbage, a line of a
// different protocol, "+ " continuation) is kInternal naming the line (escaped, shortened).
Result<Reply> parse_reply(std::string_view line);

// Maps a -ERR reply to an Error for the caller: [AUTH] -> kUnauthenticated; [IN-USE],
// [LOGIN-DELAY], [SYS/TEMP] -> kUnavailable (retry later); [SYS/PERM] -> kFailedPrecondition;
// no or another code -> `fallback`. The message is "<what>: -ERR [CODE] text".
Error error_from_reply(const Reply& reply, std::string_view what, Code fallback);

// One line of a multi-line response (RFC 1939 §3). Returns true, appending nothing, when the
// line is the terminating "."; otherwise removes one leading "." (dot-unstuffing: "..x" -> ".x")
// and appends the line plus CRLF to `out`. A line that ended in a bare LF on the wire therefore
// comes out with CRLF; a CR before the CRLF stays ("a\r" -> "a\r\r\n").
bool append_multiline(std::string_view line, std::string& out);

// A whole multi-line body on the wire (status line excluded), lines ended by CRLF or bare LF.
// Returns the number of bytes consumed, terminating line included, with the decoded bytes
// appended to `out`; nullopt when the terminator has not arrived yet (`out` then holds the
// complete lines decoded so far). Same semantics as append_multiline line by line.
std::optional<std::size_t> decode_multiline(std::string_view wire, std::string& out);

// The bytes of `message` as a POP3 server sends them in a multi-line response: dot-stuffed,
// line endings kept as they are (a final line without one gets CRLF), plus ".\r\n".
// For fake servers in tests and round-trip checks.
std::string encode_multiline(std::string_view message);

struct MaildropStat {
  std::uint32_t count = 0;
  std::uint64_t size = 0;  // octets, as the server counts them (CRLF)
};

struct ListEntry {
  MessageNumber number{};
  std::uint64_t size = 0;
};

struct UidlEntry {
  MessageNumber number{};
  std::string uid;  // 1 to 70 characters 0x21-0x7E (RFC 1939 §7)
};

// "count size" of a STAT reply's text (anything after the two numbers is ignored, RFC 1939 §5).
Result<MaildropStat> parse_stat(std::string_view text);
// "msg size" of a LIST line (or the text of "+OK msg size" for LIST n); trailing text after a
// space is ignored (RFC 1939 allows more information there). kInternal on anything else.
Result<ListEntry> parse_list_entry(std::string_view line);
// "msg unique-id" of a UIDL line. The id must be 1-70 characters in 0x21-0x7E; text after a
// further space is ignored. kInternal on anything else.
Result<UidlEntry> parse_uidl_entry(std::string_view line);

// What CAPA told us (RFC 2449 §6). Mechanism and capability names are upper-cased.
struct Capabilities {
  bool known = false;  // the server answered CAPA; otherwise everything below is false/empty
  bool top = false;
  bool user = false;
  bool uidl = false;
  bool stls = false;
  bool pipelining = false;
  bool resp_codes = false;
  bool auth_resp_code = false;
  std::vector<std::string> sasl;   // SASL mechanisms
  std::vector<std::string> lines;  // every capability line as received

  [[nodiscard]] bool has_sasl(std::string_view mechanism) const;
};

Capabilities parse_capabilities(const std::vector<std::string>& lines);

// The APOP timestamp of a greeting's text: the first "<...>" containing "@" and only printable
// ASCII without spaces (RFC 1939 §7 msg-id); nullopt when there is none.
std::optional<std::string> apop_timestamp(std::string_view greeting_text);

// The APOP digest: MD5 of timestamp + password as 32 lowercase hex digits.
std::string apop_digest(std::string_view timestamp, std::string_view password);

// The initial response of SASL PLAIN (RFC 4616) with an empty authorization identity:
// base64("\0" user "\0" password).
std::string sasl_plain_response(std::string_view user, std::string_view password);

std::string base64_encode(std::string_view bytes);

// `line` for an error message: printable ASCII kept, other bytes as \xNN, cut after `max`
// characters with "...".
std::string printable(std::string_view line, std::size_t max = 100);

}  // namespace mailvault::ingest::pop3
