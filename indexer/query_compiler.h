// Internal to indexer/ (includes <xapian.h>): search::Query -> Xapian::Query, following the
// schema in indexer/schema.h. Text is tokenised by the same TermGenerator set-up as the document
// builder (indexer/term_generation.h), so query words and indexed words always agree.
//
//   Text kWords     each white-space-separated word: (Z<prefix><stem> OR <prefix><word>) in
//                   each field of the query field (OR over fields for "anywhere"); a word that
//                   the TermGenerator splits (foo-bar, a.b@c, CJK runs) is a phrase of its
//                   pieces; an address (a@b.c) in an address field is its exact address term
//   Text kPhrase    OP_PHRASE over the exact terms (one term: the exact term, not stemmed); in a
//                   field without positions (attachment text) all of the exact terms, and only
//                   when that field is named (attachment:"a b"), not for an unfielded phrase
//   Text kPrefix    OP_WILDCARD on <prefix><text> (the most frequent kWildcardLimit terms)
//   boolean fields  their exact lower-cased term, as a filter (no weight)
//   DateRange       OP_VALUE_RANGE / _GE / _LE on the Date (or archive-time) slot
//   SizeRange       likewise on the size slot
//   HasAttachment   XHASattachment
//   And             scored children AND-ed, filters via OP_FILTER, negated children via AND_NOT
//   Or              OP_OR;  Not: MatchAll AND_NOT x, MatchAll built as Query(std::string())
// Text with no indexable word (only punctuation) constrains nothing (MatchAll).
#pragma once

#include <string>

#include <xapian.h>

#include "core/search/query.h"
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
  Xapian::Query compile(const search::Query& query);

  const Xapian::Stem& stemmer() const { return stem_; }

 private:
  struct Compiled {
    Xapian::Query query;
    bool filter = false;  // unweighted condition (boolean term, value range, negation)
  };

  Compiled node(const search::Query& query);
  Compiled text(const search::Text& text);
  static Compiled boolean_text(const search::Text& text);
  Compiled all_of(const std::vector<search::Query>& children);
  Compiled any_of(const std::vector<search::Query>& children);

  Xapian::Stem stem_;
  QueryTokenizer tokenizer_;
};

}  // namespace mailvault::index
