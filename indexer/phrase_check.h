// Internal to indexer/ (includes <xapian.h>): exact phrases without positions in the index
// (schema.h). The query compiler turns a phrase into all of its words' exact terms AND a
// PhraseCheck leaf, which accepts a candidate document only when the phrase occurs in the
// message's decoded text, inside one field, as a contiguous run of words.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <xapian.h>

#include "core/base/ids.h"
#include "core/mime/parsed_message.h"
#include "indexer/schema.h"
#include "indexer/term_generation.h"

namespace mailvault::index {

// The decoded text of a message (the archive's sidecar), or nullopt when it cannot be had.
// Called on the searching thread, inside Xapian's matcher: must not throw.
using TextLoader = std::function<std::optional<mime::ParsedMessage>(MessageId)>;

// The texts a phrase is looked for in, shared by every PhraseCheck of one compiled query and by
// their clones: the loader plus the last message loaded, its fields split into words on first
// use. Several phrase leaves usually test the same candidate one after another, so the message
// is loaded and each field split once. Not thread-safe: a compiled query runs on one thread.
class PhraseTexts {
 public:
  // The pieces of one field: the phrase must lie inside one piece. Subject, body and attachment
  // text are one piece each; each address name, each address and each file name is its own.
  using Pieces = std::vector<std::vector<std::string>>;

  explicit PhraseTexts(TextLoader loader);

  // nullptr when the loader has no text for `id`.
  const Pieces* pieces(MessageId id, IndexField field);

 private:
  TextLoader loader_;
  std::optional<MessageId> id_;
  std::optional<mime::ParsedMessage> message_;
  std::array<std::optional<Pieces>, kFields.size()> split_;
  WordSplitter splitter_;
};

// Whether `phrase` (non-empty) occurs in `words` as a contiguous sequence.
bool contains_phrase(const std::vector<std::string>& words, const std::vector<std::string>& phrase);

// A leaf matching the documents whose `field` contains `phrase` (exact lower-cased words, as
// QueryTokenizer makes them). Weight 0. A candidate is first tested against its adjacent-pair
// filter (indexer/pair_filter.h, slot kPhrasePairs), which rejects most non-matches without
// loading their text; the rest are verified on the text. Meant to be AND-ed with the phrase's terms
// so that Xapian drives from the terms and only calls check() on candidates: its term frequency
// estimate is the document count. next()/skip_to() still work, walking every document.
// A document whose text cannot be loaded is accepted when its pair filter passes (the search
// then falls back to all of the words and their adjacent pairs).
class PhraseCheck : public Xapian::PostingSource {
 public:
  PhraseCheck(std::shared_ptr<PhraseTexts> texts, IndexField field,
              std::vector<std::string> phrase);

  Xapian::doccount get_termfreq_min() const override { return 0; }

  Xapian::doccount get_termfreq_est() const override { return docs_; }

  Xapian::doccount get_termfreq_max() const override { return docs_; }

  void next(double min_wt) override;
  void skip_to(Xapian::docid did, double min_wt) override;
  bool check(Xapian::docid did, double min_wt) override;

  bool at_end() const override { return at_end_; }

  Xapian::docid get_docid() const override { return current_; }

  // Same texts (and cache), field and phrase; for each shard of a multi-database search.
  PhraseCheck* clone() const override;
  void init(const Xapian::Database& db) override;
  std::string get_description() const override;

 private:
  struct ValueCursor {
    Xapian::valueno slot = 0;
    Xapian::ValueIterator it;
    Xapian::docid last = 0;
    bool started = false;
  };

  std::string value_of(ValueCursor& cursor, Xapian::docid did);
  bool matches(Xapian::docid did);
  void advance_from(Xapian::docid did);

  std::shared_ptr<PhraseTexts> texts_;
  IndexField field_;
  std::vector<std::string> phrase_;
  std::vector<std::uint64_t> pairs_;  // PairFilter hashes of adjacent phrase words; empty: none

  Xapian::Database db_;
  Xapian::doccount docs_ = 0;
  Xapian::PostingIterator all_;  // every document, for next()/skip_to()
  ValueCursor pairs_cursor_;     // kPhrasePairs
  ValueCursor sort_cursor_;      // kSortKey (the message id)
  Xapian::docid current_ = 0;
  bool started_ = false;
  bool at_end_ = false;
};

}  // namespace mailvault::index
