// Internal to indexer/ (includes <xapian.h>): ParsedMessage + MessageMeta -> Xapian::Document,
// following the schema in indexer/schema.h.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include <xapian.h>

#include "core/archive/message_meta.h"
#include "core/mime/parsed_message.h"
#include "indexer/schema.h"

namespace mailvault::index {

// A word's stem class (schema.h, synonym table): add_synonym(stem_class_key(stem), word).
struct StemLink {
  std::string stem;
  std::string word;

  bool operator==(const StemLink&) const = default;
};

// Not thread-safe: one builder per thread (it owns its Stem and TermGenerator).
class DocumentBuilder {
 public:
  // Throws Xapian::InvalidArgumentError for an unknown language. Each free-text field is indexed
  // up to `max_text_bytes` (cut at a character boundary).
  DocumentBuilder(const std::string& language, std::size_t max_text_bytes);
  ~DocumentBuilder();
  DocumentBuilder(const DocumentBuilder&) = delete;
  DocumentBuilder& operator=(const DocumentBuilder&) = delete;
  DocumentBuilder(DocumentBuilder&&) = delete;
  DocumentBuilder& operator=(DocumentBuilder&&) = delete;

  // The complete document for one message. Throws only Xapian::Error / std::bad_alloc.
  // `new_stems` (may be null) receives the stem classes of the document's words that this
  // builder has not reported before (each word once per builder, until forget_words()): the
  // writer must add them in the same transaction as the document.
  Xapian::Document build(const MessageMeta& meta, const mime::ParsedMessage& parsed,
                         std::vector<StemLink>* new_stems = nullptr);

  // Forgets which words were reported: the next documents report their words again. Call when
  // reported stem classes were not committed (a failed write).
  void forget_words();

 private:
  class WordRecorder;

  void text(IndexField field, std::string_view value);
  void addresses(IndexField field, const std::vector<const mime::Address*>& list);
  void header_values(const mime::ParsedMessage& parsed);
  void check_literal(const mime::ParsedMessage& parsed);
  void check_message_id(const mime::ParsedMessage& parsed, std::string_view message_id);
  // The field of a header that header_values() indexes (Subject, From, Sender, To, Cc, Bcc).
  static std::optional<IndexField> header_field(std::string_view name);
  void on_word(const std::string& word);
  void next_pair(std::string_view word);
  void check_known(std::string_view word);

  Xapian::Stem stem_;  // the index's stemmer; used once per new word
  std::unique_ptr<WordRecorder> recorder_;
  Xapian::TermGenerator tg_;
  std::size_t max_text_bytes_;
  Xapian::Document* doc_ = nullptr;

  // Words reported already, by their PairFilter::word_hash (a colliding word is simply
  // reported again: adding a stem class twice is harmless). Bounded: cleared when full.
  std::unordered_map<std::uint64_t, std::string> known_;
  std::vector<StemLink>* new_stems_ = nullptr;
  std::unordered_map<std::string, Xapian::termcount> wdf_;  // fast-path terms of this document
  std::string term_;                                        // scratch
  // Lower-cased whole ASCII runs of the text the TermGenerator indexed (not the simple
  // pieces), for check_literal(): body/XAT and Subject.
  std::unordered_set<std::string> body_runs_;
  std::unordered_set<std::string> subject_runs_;
  std::vector<std::uint64_t> pairs_;  // adjacent-pair hashes of the document being built
  std::uint64_t previous_ = 0;        // hash of the previous word of the current piece
  bool unindexed_text_ = false;       // kUnindexedTextTerm added to the current document
  bool has_previous_ = false;
};

}  // namespace mailvault::index
