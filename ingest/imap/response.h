// IMAP server responses as values (RFC 3501 §7, RFC 4731 ESEARCH, RFC 5258 LIST-EXTENDED).
//
// The response parser (response_parser.h) produces these; the client (client.h) consumes them.
// Only what an archiving client needs is typed: status responses with their codes, CAPABILITY,
// LIST/LSUB, EXISTS/RECENT/EXPUNGE, FLAGS, SEARCH, ESEARCH, FETCH (UID, BODY[], INTERNALDATE,
// FLAGS, RFC822.SIZE; other items are skipped) and continuation requests. Any other untagged
// response (ID, NAMESPACE, ENABLED, STATUS, VANISHED, ...) is kept as its name and raw text.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace mailvault::ingest::imap {

// Strong types for the two kinds of message numbers (STYLE.md §7): a sequence number can never
// be passed where a UID is meant.
enum class Uid : std::uint32_t {};
enum class SeqNum : std::uint32_t {};

constexpr std::uint32_t to_int(Uid uid) noexcept {
  return static_cast<std::uint32_t>(uid);
}

constexpr std::uint32_t to_int(SeqNum seq) noexcept {
  return static_cast<std::uint32_t>(seq);
}

enum class Condition { kOk, kNo, kBad, kPreauth, kBye };

const char* condition_name(Condition condition) noexcept;

// "[NAME args]" of a status response. `name` is upper-cased; `text` is the raw argument text
// (everything after "NAME " up to ']'). Typed views for the codes the client uses:
//  * UIDVALIDITY, UIDNEXT, UNSEEN: `number` (validated as a 32-bit number; a bad number is a
//    parse error);
//  * CAPABILITY: `items` (the capability names);
//  * PERMANENTFLAGS, BADCHARSET: `items` (the parenthesised list's members).
// Every other code (ALERT, READ-ONLY, AUTHENTICATIONFAILED, TRYCREATE, unknown ones) is just
// name + text.
struct ResponseCode {
  std::string name;
  std::string text;
  std::optional<std::uint32_t> number;
  std::vector<std::string> items;

  bool operator==(const ResponseCode&) const = default;
};

// Tagged OK/NO/BAD, or untagged OK/NO/BAD/PREAUTH/BYE.
struct StatusResponse {
  Condition condition = Condition::kOk;
  std::optional<ResponseCode> code;
  std::string text;  // human-readable text after the code

  bool operator==(const StatusResponse&) const = default;
};

struct CapabilityData {
  std::vector<std::string> items;  // every atom as sent (case preserved), IMAP4rev1 included

  bool operator==(const CapabilityData&) const = default;
};

struct ListData {
  bool lsub = false;
  std::vector<std::string> attributes;  // "\HasNoChildren", "\Sent", ... as sent
  char delimiter = '\0';                // '\0' = NIL
  std::string name;                     // as on the wire (modified UTF-7 or UTF-8), unescaped

  bool operator==(const ListData&) const = default;
};

// "* n EXISTS", "* n RECENT", "* n EXPUNGE".
struct ExistsData {
  std::uint32_t count = 0;
  bool operator==(const ExistsData&) const = default;
};

struct RecentData {
  std::uint32_t count = 0;
  bool operator==(const RecentData&) const = default;
};

struct ExpungeData {
  SeqNum seq{};
  bool operator==(const ExpungeData&) const = default;
};

struct FlagsData {
  std::vector<std::string> flags;
  bool operator==(const FlagsData&) const = default;
};

struct SearchData {
  std::vector<std::uint32_t> numbers;  // in the order sent
  bool operator==(const SearchData&) const = default;
};

// An inclusive range of a sequence set ("3:7" -> {3, 7}; "5" -> {5, 5}).
struct NumberRange {
  std::uint32_t first = 0;
  std::uint32_t last = 0;
  bool operator==(const NumberRange&) const = default;
};

struct EsearchData {
  std::string tag;  // the (TAG "x") correlator, empty if absent
  bool uid = false;
  std::optional<std::uint32_t> min;
  std::optional<std::uint32_t> max;
  std::optional<std::uint32_t> count;
  std::vector<NumberRange> all;  // ALL, as sent ("*" is not allowed here)

  bool operator==(const EsearchData&) const = default;
};

// "* n FETCH (...)". Items not listed here are parsed (so the response stays in sync) and
// dropped. `body` holds BODY[] / BODY.PEEK[] / BINARY[] / RFC822 content: moved from the literal,
// never copied. `body_nil` is set when the server sent NIL for it.
struct FetchData {
  SeqNum seq{};
  std::optional<Uid> uid;
  std::optional<std::string> body;
  bool body_nil = false;
  std::optional<std::string> internal_date;
  std::optional<std::vector<std::string>> flags;
  std::optional<std::uint64_t> rfc822_size;
  std::optional<std::uint64_t> modseq;

  bool operator==(const FetchData&) const = default;
};

// "+ text": a command continuation request (text may be base64 for AUTHENTICATE).
struct ContinuationData {
  std::string text;
  bool operator==(const ContinuationData&) const = default;
};

// Any other untagged response: `name` upper-cased ("ID", "NAMESPACE", "ENABLED", "STATUS"),
// `text` the raw rest of the response (literal contents are not included).
struct OtherData {
  std::string name;
  std::string text;
  bool operator==(const OtherData&) const = default;
};

enum class ResponseKind { kTagged, kUntagged, kContinuation };

struct Response {
  ResponseKind kind = ResponseKind::kUntagged;
  std::string tag;  // tagged responses only
  std::variant<StatusResponse, CapabilityData, ListData, ExistsData, RecentData, ExpungeData,
               FlagsData, SearchData, EsearchData, FetchData, ContinuationData, OtherData>
      data;

  bool operator==(const Response&) const = default;

  // Convenience accessors: nullptr if the response holds something else.
  template <typename T>
  [[nodiscard]] const T* get() const noexcept {
    return std::get_if<T>(&data);
  }

  template <typename T>
  [[nodiscard]] T* get() noexcept {
    return std::get_if<T>(&data);
  }
};

}  // namespace mailvault::ingest::imap
