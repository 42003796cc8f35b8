// Internal to indexer/ (includes <xapian.h>): search::Query -> Xapian::Query, following the
// schema in indexer/schema.h. Text is tokenised by the same TermGenerator set-up as the document
// builder (indexer/term_generation.h), so query words and indexed words always agree.
//
//   Text kWords     each white-space-separated word: OP_OR of <prefix><w> for every word w of
//                   its stem class (schema.h: read from the index's synonym table) and the word
//                   itself, in each field of the query field (OR over fields for "anywhere"); a
//                   word that the TermGenerator splits (foo-bar, a.b@c, CJK runs) is a phrase of
//                   its pieces; an address (a@b.c) in an address field is its exact address term
//   Text kPhrase    per field: OP_AND of the exact terms and a PhraseCheck leaf
//                   (indexer/phrase_check.h) that verifies adjacency on the message text, in
//                   that one field (OR over fields for "anywhere", so never across two); one
//                   word: its exact term, not stemmed. Without a TextLoader there is no
//                   PhraseCheck: a phrase is then all of its words
//   Text kPrefix    OP_WILDCARD on <prefix><text> (the most frequent kWildcardLimit terms)
//   boolean fields  their exact lower-cased term, as a filter (no weight)
//   DateRange       OP_VALUE_RANGE / _GE / _LE on the Date (or archive-time) slot
//   SizeRange       likewise on the size slot
//   HasAttachment   XHASattachment
//   And             scored children AND-ed, filters via OP_FILTER, negated children via AND_NOT
//   Or              OP_OR;  Not: MatchAll AND_NOT x, MatchAll built as Query(std::string())
// Text with no indexable word (only punctuation) constrains nothing (MatchAll).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include <xapian.h>

#include "core/search/query.h"
#include "indexer/phrase_check.h"
#include "indexer/schema.h"
#include "indexer/term_generation.h"

namespace mailvault::index {

inline constexpr Xapian::termcount kWildcardLimit = 1000;

// Not thread-safe (owns a tokenizer): one per thread.
class QueryCompiler {
 public:
  // `language` must be the one the index was built with (metadata mailvault.stem_language).
  // Throws Xapian::InvalidArgumentError for an unknown language.
  explicit QueryCompiler(const std::string& language);

  // Throws only Xapian::Error / std::bad_alloc. Matches only documents of our schema. Weights:
  // free-text conditions are scored (BM25); a query of filters only gives every match weight 0.
  // `loader` gives the text phrases are verified on (it is called while the query runs, on
  // that thread; the query keeps a copy); empty: phrases match as all of their words.
  // `db` is the index the query will run on: its stem classes expand each word to the indexed
  // words of the same stem (read during this call only). Null: a word matches only itself and
  // its stem.
  Xapian::Query compile(const search::Query& query, TextLoader loader = {},
                        const Xapian::Database* db = nullptr);

  const Xapian::Stem& stemmer() const { return stem_; }

 private:
  struct Compiled {
    Xapian::Query query;
    bool filter = false;  // unweighted condition (boolean term, value range, negation)
  };

  Compiled node(const search::Query& query);
  Compiled text(const search::Text& text);
  static Compiled boolean_text(const search::Text& text);
  Xapian::Query word_in(const QueryTerm& t, const std::string& prefix, bool exact_only);
  const std::vector<std::string>& stem_class(const std::string& stem);
  Xapian::Query sequence_in(const std::vector<QueryTerm>& terms, IndexField f);
  std::optional<Xapian::Query> chunk_in(const QueryChunk& chunk, IndexField f, bool exact_only);
  Compiled all_of(const std::vector<search::Query>& children);
  Compiled any_of(const std::vector<search::Query>& children);

  Xapian::Stem stem_;
  QueryTokenizer tokenizer_;
  std::shared_ptr<PhraseTexts> texts_;    // during compile(), when there is a loader
  const Xapian::Database* db_ = nullptr;  // during compile()
  std::unordered_map<std::string, std::vector<std::string>>
      classes_;  // stem -> words, per compile()
};

}  // namespace mailvault::index
