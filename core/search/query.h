// The search Query AST: the protocol-neutral tree that the user query language (gRPC Search,
// CLI search) and the IMAP SEARCH translator both produce, and that only the indexer turns into
// a Xapian query (indexer/query_compiler.h). Pure values, no third-party types.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace mailvault::search {

// Which part of a message a text condition looks at.
enum class Field : std::uint8_t {
  kAll,   // subject, addresses, body, attachment names and text
  kFrom,  // From and Sender: display names and addresses
  kTo,
  kCc,
  kBcc,
  kSubject,
  kBody,
  kAttachment,  // attachment file names and attachment text
  kFilename,    // attachment file names only
  kMessageId,   // exact Message-ID (without angle brackets)
  kListId,
  kAccount,  // exact source account name
  kFolder,   // exact source folder name
};

// A text condition. kWords: every word must occur (stemmed and exact forms both match);
// kPhrase: the words in this order; kPrefix: a word starting with `text`.
struct Text {
  enum class Kind : std::uint8_t { kWords, kPhrase, kPrefix };
  Field field = Field::kAll;
  std::string text;
  Kind kind = Kind::kWords;
};

// Half-open range [begin, end) of seconds since the epoch (UTC); either end may be open.
struct DateRange {
  enum class Of : std::uint8_t { kSent, kArchived };  // Date: header, or time archived
  Of of = Of::kSent;
  std::optional<std::int64_t> begin;
  std::optional<std::int64_t> end;
};

// Inclusive range of RFC822.SIZE in bytes; either end may be open.
struct SizeRange {
  std::optional<std::uint64_t> min;
  std::optional<std::uint64_t> max;
};

struct HasAttachment {};

struct MatchAll {};

struct Query;

struct And {
  std::vector<Query> children;
};

struct Or {
  std::vector<Query> children;
};

struct Not {
  std::vector<Query> child;  // exactly one element
};

struct Query {
  std::variant<MatchAll, Text, DateRange, SizeRange, HasAttachment, And, Or, Not> node;
};

// An s-expression rendering, stable, for tests and logs: (and (from "alice") (not (body "x"))).
std::string to_string(const Query& query);

}  // namespace mailvault::search
