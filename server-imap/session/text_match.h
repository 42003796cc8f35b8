// The exact side of IMAP SEARCH text keys (FROM TO CC BCC SUBJECT HEADER BODY TEXT): RFC 3501
// semantics, a case-insensitive *substring* of the decoded text, never word matching. Pure
// functions and values; the session feeds them the archive's search-text sidecar
// (core/mime/search_text.h), never a MIME re-parse.
//
// Case folding (fold()): simple Unicode lower-casing of UTF-8, code point by code point (ASCII
// by table, the rest through glibc's towlower in the C.UTF-8 locale); bytes that are not valid
// UTF-8 are copied unchanged, so folding never fails and folding a needle and a haystack the
// same way makes `contains` a plain byte search. No normalisation (NFC/NFD) and no full case
// folding (ß stays ß): RFC 3501 requires ASCII case-insensitivity only.
//
// What each key searches, in a message's decoded text (mime::ParsedMessage):
//   FROM TO CC BCC SUBJECT  every occurrence of that header field, decoded (RFC 2047) and
//                           unfolded: display names and addresses as written
//   HEADER name value       every occurrence of the field `name` (ASCII case-insensitive);
//                           an empty value matches when the field is present
//   BODY                    body_text (text/plain parts, text of HTML parts without a plain
//                           alternative, nested messages' text and main header fields),
//                           attachment_text (text/* attachments) and other_text (the
//                           alternatives not chosen); other attachments are skipped, as RFC
//                           3501 allows; like Dovecot, not the other header fields of nested
//                           messages. HTML is searched as
//                           the text a reader sees (tags dropped, entities decoded), not as
//                           its source as Dovecot does
//   TEXT                    the header ("Name: value" per field), the header fields of
//                           nested messages, or the BODY text
// A match never spans two header fields or the header and the body.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/mime/parsed_message.h"
#include "indexer/substring_narrower.h"
#include "server-imap/protocol/search_keys.h"
#include "server-imap/session/message_keys.h"

namespace mailvault::imapd {

// Simple Unicode lower-casing of UTF-8 (see above). Pure; thread-safe.
std::string fold(std::string_view utf8);

// True when `needle` occurs in `haystack` (both already folded); the empty needle occurs
// everywhere. Pure.
bool contains(std::string_view haystack, std::string_view needle) noexcept;

// One message's searchable text, folded once and then matched by many keys, with the keys
// SORT and THREAD use (message_keys.h).
struct SearchableMessage {
  struct Field {
    std::string name;   // ASCII lower-case field name
    std::string value;  // folded, decoded value
  };

  std::vector<Field> fields;   // top-level header fields in message order
  std::string header_text;     // "name: value\n" for every field (TEXT)
  std::string nested_headers;  // folded nested_header_text (TEXT only)
  std::string body;            // folded body_text, attachment_text, other_text ("\n" between)
  MessageKeys keys;            // for SORT and THREAD, cached with the text

  // Approximate heap bytes, for cache accounting.
  [[nodiscard]] std::size_t bytes() const noexcept;
};

// Folds what the text keys search. Pure; throws only std::bad_alloc.
SearchableMessage make_searchable(const mime::ParsedMessage& message);

// The header half of a SearchableMessage, compact (about the size of the header itself): what
// TEXT's header half and the field keys (FROM ... HEADER) match. Kept in its own cache, so
// that header scans of a large mailbox stay in memory when the bodies do not fit.
struct SearchableHeader {
  std::string text;                  // SearchableMessage::header_text
  std::vector<std::uint32_t> ends;   // end (past the '\n') of each field's line in `text`
  std::vector<std::uint16_t> names;  // length of each field's name
  std::string nested_headers;        // SearchableMessage::nested_headers

  [[nodiscard]] std::size_t bytes() const noexcept;

  // f(name, value) for each field in message order, until f returns true; true if it did.
  template <typename F>
  bool any_field(F&& f) const {
    std::size_t begin = 0;
    for (std::size_t i = 0; i < ends.size(); ++i) {
      const std::string_view line = std::string_view(text).substr(begin, ends[i] - begin);
      begin = ends[i];
      const std::size_t name_end = std::min<std::size_t>(names[i], line.size());
      const std::size_t value_begin = std::min(line.size(), name_end + 2);   // ": "
      const std::size_t value_end = std::max(value_begin, line.size() - 1);  // the '\n'
      if (f(line.substr(0, name_end), line.substr(value_begin, value_end - value_begin)))
        return true;
    }
    return false;
  }
};

// The header half of `message`. Pure; throws only std::bad_alloc.
SearchableHeader make_searchable_header(const SearchableMessage& message);

// The top-level header fields of a raw header block (the bytes up to the empty line; see
// message_text.h split_header), unfolded and decoded as core/mime does (decode_header_text):
// for messages whose sidecar kept no header fields. Lines that are not fields are skipped.
// Pure.
std::vector<mime::Header> parse_header_block(std::string_view header);

// A text key with its needle folded once.
struct TextKey {
  enum class Where : std::uint8_t { kField, kBody, kText };
  Where where = Where::kText;
  std::string field;   // ASCII lower-case field name for kField
  std::string needle;  // folded
};

// FROM/TO/CC/BCC/SUBJECT/HEADER -> kField, BODY -> kBody, TEXT -> kText.
TextKey make_text_key(const SearchHeader& key);
TextKey make_text_key(const SearchText& key);

// The exact RFC 3501 answer for one message. Pure.
bool matches(const TextKey& key, const SearchableMessage& message) noexcept;

// The index field whose substring candidates (indexer/substring_narrower.h) cover a key: the
// body for BODY and TEXT, the field for SUBJECT/FROM/TO/CC/BCC and HEADER on Subject, From,
// Sender, To, Cc, Bcc or Message-ID; nullopt for any other HEADER. Pure.
std::optional<index::TextField> narrowing_field(const TextKey& key) noexcept;

// The header half of a TEXT key: the needle in the header text (within one field). Pure.
bool matches_header_text(const TextKey& key, const SearchableMessage& message) noexcept;
bool matches_header_text(const TextKey& key, const SearchableHeader& header) noexcept;

// A kField key (FROM TO CC BCC SUBJECT HEADER) on the header half: the same answer as
// matches(key, message) for the message the header came from. Pure.
bool matches_field(const TextKey& key, const SearchableHeader& header) noexcept;

}  // namespace mailvault::imapd
