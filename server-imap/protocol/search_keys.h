// IMAP SEARCH keys as a protocol-neutral tree (the role of Dovecot's mail_search_arg): the
// session evaluates it against the archive (Xapian for text, value slots and PostgreSQL for
// dates, sizes, flags and UIDs) without knowing IMAP syntax.
//
// Grammar: RFC 3501 §6.4.4 search-key, the RFC 9051 changes clients send, WITHIN (RFC 5032:
// OLDER/YOUNGER), SEARCHRES `$` (RFC 5182), ESEARCH RETURN options (RFC 4731).
//
// Tree shape: keys side by side (at the top level or inside parentheses) become one SearchAnd
// (a single key stays itself); NEW is SearchAnd{RECENT, UNSEEN}; OLD is NOT RECENT; UNANSWERED
// and friends are SearchFlag{..., set = false}. Strings are bytes as the client sent them (the
// charset is validated, the bytes are not).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "server-imap/protocol/limits.h"
#include "server-imap/protocol/sequence_set.h"

namespace mailvault::imapd {

// A calendar day as written in a search key (d-Mon-yyyy), validated (29-Feb only in leap years).
struct Date {
  int year = 1970;
  int month = 1;  // 1..12
  int day = 1;    // 1..31
  friend bool operator==(const Date&, const Date&) = default;
};

// Days since 1970-01-01 (negative before), for comparisons against archive timestamps.
std::int64_t days_since_epoch(const Date& date) noexcept;

enum class MessageFlag : std::uint8_t { kAnswered, kDeleted, kDraft, kFlagged, kSeen, kRecent };

struct SearchKey;

struct SearchAll {};

struct SearchAnd {
  std::vector<SearchKey> keys;
};

struct SearchOr {
  std::vector<SearchKey> keys;  // exactly two from IMAP
};

struct SearchNot {
  std::vector<SearchKey> key;  // exactly one element
};

// ANSWERED / UNANSWERED and the other system flags; set = false for the UN- forms.
struct SearchFlag {
  MessageFlag flag = MessageFlag::kSeen;
  bool set = true;
};

struct SearchKeyword {
  std::string keyword;
  bool set = true;  // false for UNKEYWORD
};

// FROM, TO, CC, BCC, SUBJECT and HEADER: case-insensitive substring of the decoded field.
// `name` is the header field name (upper-cased for the named keys, as sent for HEADER).
struct SearchHeader {
  enum class Field : std::uint8_t { kFrom, kTo, kCc, kBcc, kSubject, kOther };
  Field field = Field::kOther;
  std::string name;
  std::string value;  // empty: the header is present
};

// BODY (body only) and TEXT (header and body).
struct SearchText {
  enum class Scope : std::uint8_t { kBody, kText };
  Scope scope = Scope::kText;
  std::string value;
};

// BEFORE/ON/SINCE compare INTERNALDATE, SENTBEFORE/SENTON/SENTSINCE the Date: header; the date
// only, no time or zone.
struct SearchDate {
  enum class Source : std::uint8_t { kInternal, kSent };
  enum class Cmp : std::uint8_t { kBefore, kOn, kSince };
  Source source = Source::kInternal;
  Cmp cmp = Cmp::kOn;
  Date date;
};

// LARGER (strictly greater) and SMALLER (strictly less) than RFC822.SIZE.
struct SearchSize {
  enum class Cmp : std::uint8_t { kLarger, kSmaller };
  Cmp cmp = Cmp::kLarger;
  std::uint64_t size = 0;
};

// A bare sequence set (sequence numbers, even in UID SEARCH), `UID set`, or `$`.
struct SearchSet {
  SequenceSet set;
};

// OLDER n / YOUNGER n (RFC 5032): INTERNALDATE more / less than n seconds ago.
struct SearchWithin {
  bool older = true;
  std::uint32_t seconds = 0;
};

struct SearchKey {
  std::variant<SearchAll, SearchAnd, SearchOr, SearchNot, SearchFlag, SearchKeyword, SearchHeader,
               SearchText, SearchDate, SearchSize, SearchSet, SearchWithin>
      node;
};

// ESEARCH RETURN (...) options. `RETURN ()` means ALL.
struct SearchReturn {
  bool min = false;
  bool max = false;
  bool count = false;
  bool all = false;
  bool save = false;
  friend bool operator==(const SearchReturn&, const SearchReturn&) = default;
};

// What follows SEARCH (and the search part of SORT and THREAD).
struct SearchProgram {
  std::optional<SearchReturn> returns;  // set: answer with ESEARCH
  std::string charset;                  // "UTF-8" or "US-ASCII" (upper-cased); "" if absent
  SearchKey key;
};

// Charsets a search may name; anything else is refused with this response code.
inline constexpr std::string_view kBadCharsetCode = "BADCHARSET (UTF-8 US-ASCII)";

// True for UTF-8 and US-ASCII, case-insensitively.
bool is_supported_charset(std::string_view charset) noexcept;

// An s-expression for tests and logs, stable: (and (from "alice") (not (flag \Seen))).
std::string to_string(const SearchKey& key);

// Parses `text` as the arguments of SEARCH (everything after "SEARCH "), `uid` telling whether
// the command was UID SEARCH (it changes what `$` refers to). Pure and thread-safe. Errors are
// returned as in parse_command() (see command_parser.h): a message with a byte offset into
// `text`, and the BADCHARSET code for an unsupported charset.
struct SearchParseError {
  std::string message;
  std::size_t offset = 0;
  std::string response_code;
  bool is_no = false;
};

std::variant<SearchProgram, SearchParseError> parse_search(std::string_view text, bool uid,
                                                           const Limits& limits = {});

}  // namespace mailvault::imapd
