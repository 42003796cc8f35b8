// The Xapian index schema: every term prefix, value slot and metadata key mailvault writes.
// Changing anything here that changes what is on disk bumps kSchemaVersion; an index of another
// version is refused (kFailedPrecondition) until `mailvault reindex` rebuilds it.
//
// ─── Documents ───────────────────────────────────────────────────────────────────────────────
// One document per distinct message (one `messages.id`), keyed by the unique boolean term
// Q<decimal message id> and written with replace_document(term, doc), so re-indexing is
// idempotent. Xapian docids are never stored anywhere. Document data is empty: the body is not
// stored in the index (snippets take the text from the archive).
//
// ─── Term prefixes (Omega/notmuch conventions) ───────────────────────────────────────────────
//   prefix     field             kind       contents
//   Q          id                boolean    Q<decimal MessageId>, one per document
//   (none)     body              free text  ParsedMessage::body_text and other_text
//   S          subject           free text  Subject (every Subject field's decoded value)
//   XFROM      from              free text  From and Sender: names and addresses, and every
//                                           From and Sender field's decoded value;
//                                address    plus XFROM<full lower-case address>
//   XTO        to                free text  likewise for To
//   XCC        cc                free text  likewise for Cc
//   XBCC       bcc               free text  likewise for Bcc
//   XFN        filename          free text  attachment file names
//   XAT        attachment text   free text  ParsedMessage::attachment_text
//   XMID       msgid             boolean    Message-ID, lower-case, no <>
//   XLIST      list              boolean    List-Id, lower-case
//   XACCOUNT   account           boolean    source account names, lower-case
//   XFOLDER    folder            boolean    source folder names, lower-case
//   XHAS       has               boolean    XHASattachment when it has attachments
//   XUNINDEXED (one term)        boolean    a field with substring candidates (below) has
//                                           text that is in no term: clipped at the
//                                           builder's byte limit, or a possibly skipped long
//                                           word (may_skip_words)
//   XUNINDEXEDMID (one term)     boolean    a Message-ID field has an ASCII letter/digit run
//                                           that is not inside the XMID term (a comment,
//                                           a second Message-ID, non-ASCII, a bounded term)
//   XNONLITERALBODY (one term)   boolean    a body or XAT term has an ASCII letter/digit run
//                                           that is not a whole run of the text it came from
//                                           (the TermGenerator joined "U.S.A." into "usa",
//                                           dropped a soft hyphen, ...)
//   XNONLITERALSUBJECT (one)     boolean    likewise for an S term and the Subject fields
//
// No term has positions and there are no stemmed (Z) terms (schema version 5; version 1 stored
// positions, version 2 stored Z<prefix><stem> terms, version 3 had no other_text and no
// XUNINDEXED, version 4 no XUNINDEXEDMID and no XNONLITERAL* terms).
//
// Substring candidates (indexer/substring_narrower.h, IMAP SEARCH BODY, SUBJECT, FROM, TO, CC,
// BCC): every ASCII letter or digit of a document's body, other and attachment text lies
// inside one of its body or XAT terms, and every one of each Subject, From, Sender, To, Cc and
// Bcc field's decoded value inside one of that field's terms, unless the document has
// XUNINDEXED; so a document whose field terms contain none of a needle's ASCII letter/digit
// runs cannot contain the needle there. Likewise every ASCII letter/digit run of each
// Message-ID field lies inside the XMID term unless the document has XUNINDEXEDMID (IMAP
// HEADER Message-ID).
//
// Definite matches (the converse, body and Subject only): every ASCII letter/digit run of a
// body, XAT or S term is a whole run of the text it was made from, unless the document has
// XNONLITERALBODY or XNONLITERALSUBJECT. So when a needle is a single run of ASCII letters and
// digits and a document holds a term of the field that contains it, the document's text
// contains the needle (case-insensitively): the IMAP server answers it without reading the
// text. The words of simple pieces (term_generation.h for_each_piece) are literal by
// construction; the builder checks the terms the TermGenerator made from the other runs.
//
// Positions were half of the index and a large share of the single writer thread's time, and
// served only phrases. A phrase (and a word the TermGenerator splits, such as foo-bar or CJK
// runs) is found as all of its words' exact terms, filtered by the document's adjacent-pair
// filter (slot kPhrasePairs below), then verified on the candidate's decoded text
// (indexer/phrase_check.h): the words, split and lower-cased exactly as the TermGenerator does,
// must occur contiguously inside one field (one address name, one address, one file name),
// never across two. Without a text loader the search falls back to all of the words.
//
// Stemmed terms were a quarter of all postings and more than half of the time spent building a
// document (the stemmer ran on every word). Stemming now happens at query time: the index
// records, once per word, the stem class the word belongs to (the synonym table, below), and a
// query word w with stem s asks for the exact terms of every indexed word whose stem is s
// (<prefix>t for each t in the class, plus <prefix>s when s is its own stem, plus <prefix>w):
// exactly the documents that version 2 found through Z<prefix>s.
//
// Free-text terms come from Xapian::TermGenerator::index_text_without_positions (lower-cased
// words, FLAG_CJK_NGRAM: CJK text as unigrams plus bigrams, words longer than kMaxWordBytes
// skipped); boolean and address terms longer than kMaxTermBytes are shortened by
// bounded_term().
//
// There is no unprefixed copy of the header fields: the query compiler expands "anywhere"
// (search::Field::kAll) into an OR over every free-text prefix instead, so the body is indexed
// once and the index stays small. Term values never start with an upper-case ASCII letter
// (the TermGenerator and bounded_term() lower-case them) and no prefix is a prefix of another,
// so prefixes never collide and OP_WILDCARD on <prefix><text> stays inside its field.
//
// ─── Value slots ─────────────────────────────────────────────────────────────────────────────
//   0  kDate      Date: header, Xapian::sortable_serialise(seconds since the epoch, UTC);
//                 absent when the message has no parseable Date:
//   1  kArchived  time first archived (MessageMeta::archived_at), sortable_serialise(seconds)
//   2  kSize      RFC822.SIZE in bytes, sortable_serialise(bytes)
//   3  kSortKey   sort date (Date: header, or archive time when missing) then the message id,
//                 each 8 bytes big-endian with the sign bit flipped (encode_sort_key): sorting
//                 by this one slot orders by date with ties broken by id, and the id of a hit
//                 is read back from it (decode_sort_key_id)
//   4  kPhrasePairs  Bloom filter of the adjacent word pairs of every free-text piece
//                 (indexer/pair_filter.h); absent or empty: unknown. Pairs with a CJK word are
//                 left out (phrases with one are not filtered)
//
// ─── Synonym table: stem classes ─────────────────────────────────────────────────────────────
//   Z<stem> -> word   every word the TermGenerator wrote as a free-text term (in any field)
//                     whose stem is <stem> and differs from it (stem_class_key()). The stem is
//                     the one Xapian's TermGenerator STEM_SOME would write: only for words
//                     whose first character is a letter; a word with an empty stem has none.
//                     Written in the same transaction as the first document holding the word;
//                     never removed (a word no longer in any document only costs a query term)
//
// ─── Metadata keys ───────────────────────────────────────────────────────────────────────────
//   mailvault.schema         decimal kSchemaVersion
//   mailvault.stem_language  the stemmer the index was built with ("english", "none", ...):
//                            queries must stem the same way, so a writer configured for another
//                            language is refused and readers use this one
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "core/base/ids.h"
#include "core/search/query.h"

namespace mailvault::index {

inline constexpr int kSchemaVersion = 5;
inline constexpr std::string_view kSchemaVersionKey = "mailvault.schema";
inline constexpr std::string_view kStemLanguageKey = "mailvault.stem_language";

// Value slot numbers (Xapian::valueno).
enum class Slot : std::uint32_t {
  kDate = 0,
  kArchived = 1,
  kSize = 2,
  kSortKey = 3,
  kPhrasePairs = 4,
};

constexpr std::uint32_t slot_number(Slot slot) {
  return static_cast<std::uint32_t>(slot);
}

inline constexpr std::size_t kMaxTermBytes = 240;  // Xapian's hard limit is 245
inline constexpr unsigned kMaxWordBytes = 64;      // TermGenerator::set_max_word_length

// What is indexed, one entry per prefix. The order is IndexField's order.
enum class IndexField : std::uint8_t {
  kId,
  kBody,
  kSubject,
  kFrom,
  kTo,
  kCc,
  kBcc,
  kFilename,
  kAttachmentText,
  kMessageId,
  kListId,
  kAccount,
  kFolder,
  kHas,
};

enum FieldFlag : std::uint8_t {
  kBoolean = 1 << 0,   // exact terms (add_boolean_term), compared lower-cased
  kFreeText = 1 << 1,  // TermGenerator terms (no positions, no stemmed forms)
  kAddress = 1 << 2,   // also one exact term per full lower-cased address
};

struct FieldSpec {
  IndexField field;
  std::string_view name;
  std::string_view prefix;
  std::uint8_t flags;
};

inline constexpr std::array<FieldSpec, 14> kFields{{
    {IndexField::kId, "id", "Q", kBoolean},
    {IndexField::kBody, "body", "", kFreeText},
    {IndexField::kSubject, "subject", "S", kFreeText},
    {IndexField::kFrom, "from", "XFROM", kFreeText | kAddress},
    {IndexField::kTo, "to", "XTO", kFreeText | kAddress},
    {IndexField::kCc, "cc", "XCC", kFreeText | kAddress},
    {IndexField::kBcc, "bcc", "XBCC", kFreeText | kAddress},
    {IndexField::kFilename, "filename", "XFN", kFreeText},
    {IndexField::kAttachmentText, "attachment_text", "XAT", kFreeText},
    {IndexField::kMessageId, "msgid", "XMID", kBoolean},
    {IndexField::kListId, "list", "XLIST", kBoolean},
    {IndexField::kAccount, "account", "XACCOUNT", kBoolean},
    {IndexField::kFolder, "folder", "XFOLDER", kBoolean},
    {IndexField::kHas, "has", "XHAS", kBoolean},
}};

constexpr const FieldSpec& field_spec(IndexField field) {
  return kFields[static_cast<std::size_t>(field)];
}

constexpr std::string_view prefix_of(IndexField field) {
  return field_spec(field).prefix;
}

// The term of documents with text of a has_substring_candidates() field not entirely in terms.
inline constexpr std::string_view kUnindexedTextTerm = "XUNINDEXED";
// The term of documents with a Message-ID field not entirely inside their XMID term.
inline constexpr std::string_view kUnindexedMessageIdTerm = "XUNINDEXEDMID";
// The terms of documents whose body (body, other and attachment text) or Subject terms are not
// all literal runs of that text (see "Definite matches" above).
inline constexpr std::string_view kNonLiteralBodyTerm = "XNONLITERALBODY";
inline constexpr std::string_view kNonLiteralSubjectTerm = "XNONLITERALSUBJECT";

// The fields whose terms give substring candidates (see above).
constexpr bool has_substring_candidates(IndexField field) {
  switch (field) {
    case IndexField::kBody:
    case IndexField::kAttachmentText:
    case IndexField::kSubject:
    case IndexField::kFrom:
    case IndexField::kTo:
    case IndexField::kCc:
    case IndexField::kBcc:
      return true;
    default:
      return false;
  }
}

// The value of the XHAS term for messages with attachments.
inline constexpr std::string_view kHasAttachmentValue = "attachment";

// The index fields a query field searches (search::Field::kAll: every free-text field).
std::span<const IndexField> fields_for(search::Field field);

// Q<decimal id>.
std::string unique_term(MessageId id);

// The synonym-table key of a stem class: Z<stem>.
std::string stem_class_key(std::string_view stem);

// prefix + value; when that would exceed kMaxTermBytes, value is cut at a UTF-8 boundary and
// suffixed with '#' and 16 hex digits of a 64-bit FNV-1a hash of the full value. Deterministic,
// so the query compiler finds what the document builder wrote. Case is left alone: the
// indexer lower-cases boolean values first (indexer/term_generation.h, exact_term).
std::string bounded_term(std::string_view prefix, std::string_view value);

// kSortKey value: 16 bytes, sorts bytewise as (sort_date, id).
std::string encode_sort_key(std::int64_t sort_date, MessageId id);
std::optional<MessageId> decode_sort_key_id(std::string_view value);

// Compile-time checks of kFields: order matches IndexField, prefixes are upper-case ASCII and
// unique, none is a prefix of another (only the body may be unprefixed), none starts with 'Z'
// (reserved: version 2's stemmed terms, stem-class keys) and flags are consistent.
constexpr bool validate_fields() {
  for (std::size_t i = 0; i < kFields.size(); ++i) {
    const FieldSpec& f = kFields[i];
    if (static_cast<std::size_t>(f.field) != i) {
      return false;
    }
    const bool boolean = (f.flags & kBoolean) != 0;
    const bool text = (f.flags & kFreeText) != 0;
    if (boolean == text) {
      return false;
    }
    if ((f.flags & kAddress) != 0 && !text) {
      return false;
    }
    if (f.prefix.empty()) {
      if (f.field != IndexField::kBody) {
        return false;
      }
      continue;
    }
    if (f.prefix.front() == 'Z') {
      return false;
    }
    for (const char c : f.prefix) {
      if (c < 'A' || c > 'Z') {
        return false;
      }
    }
    for (std::size_t j = 0; j < kFields.size(); ++j) {
      const std::string_view other = kFields[j].prefix;
      if (j == i || other.empty()) {
        continue;
      }
      if (other.substr(0, f.prefix.size()) == f.prefix) {
        return false;
      }
    }
  }
  return true;
}

static_assert(validate_fields(), "index schema table is inconsistent");

}  // namespace mailvault::index
