// Internal to indexer/ (includes <xapian.h>): the single definition of how text becomes terms,
// shared by the document builder (index side) and the query compiler (query side), so that a
// query word and the indexed word always agree on lower-casing, punctuation, CJK n-grams,
// stemming and length limits.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include <xapian.h>

#include "indexer/schema.h"

namespace mailvault::index {

// The stemmer for a language name ("english", "german", ...); "none" or "" disables stemming.
// Throws Xapian::InvalidArgumentError for an unknown language.
Xapian::Stem make_stemmer(const std::string& language);

// The same stemmer behind a bounded word -> stem cache: the TermGenerator stems every
// occurrence of a word, and mail repeats its words. Same results as make_stemmer; the cache
// makes it cheaper and not thread-safe (one per DocumentBuilder, i.e. per thread).
Xapian::Stem make_caching_stemmer(const std::string& language);

// Configures `tg` to split text into words exactly as every free-text field is indexed:
// FLAG_CJK_NGRAM, words up to kMaxWordBytes, no spelling data; and, with a `stem`, STEM_SOME
// (the query side reads the stemmed terms to learn a word's stem; the document builder never
// writes them, schema.h).
void configure_term_generator(Xapian::TermGenerator& tg, const Xapian::Stem& stem);

// The stem Xapian's TermGenerator (STEM_SOME) gives `word`, a term it generated (lower-cased,
// no prefix): empty when it writes none (stemming off, a word not starting with a letter, an
// empty stem). The stem class of the word (schema.h) when it differs from `word`.
std::string word_stem(const Xapian::Stem& stem, const std::string& word);

// prefix + Unicode-lower-cased value, bounded (schema.h bounded_term). Used for boolean terms
// and full-address terms on both sides.
std::string exact_term(std::string_view prefix, std::string_view value);

// "local@domain" shape: no white space, an '@' with something before it and, unless
// `allow_open_end` (for prefixes such as "alice@"), something after it.
bool looks_like_address(std::string_view text, bool allow_open_end = false);

// At most `max_bytes` of `text`, cut at a UTF-8 character boundary.
std::string_view clip_utf8(std::string_view text, std::size_t max_bytes);

// One word as the TermGenerator indexes it: the exact (lower-cased) term and, when the
// TermGenerator also writes a stemmed term for it, the stem (without "Z" and prefix).
struct QueryTerm {
  std::string exact;
  std::string stem;  // empty: no stemmed form (stemming off, or e.g. a word starting with a digit)
  // The stem is its own stem: the word <stem>, where indexed, is in the stem class too.
  bool stem_is_own_stem = false;
};

// One white-space-separated piece of query text and its terms in position order (CJK text gives
// one term per character; the unpositioned bigrams are left out).
struct QueryChunk {
  std::string raw;
  std::vector<QueryTerm> terms;
};

// Tokenises query text by running a TermGenerator configured by configure_term_generator over
// it into a scratch document and reading the terms back. Not thread-safe (one per thread).
class QueryTokenizer {
 public:
  explicit QueryTokenizer(Xapian::Stem stem);

  std::vector<QueryChunk> chunks(std::string_view text);
  std::vector<QueryTerm> terms(std::string_view text);

 private:
  Xapian::Stem stem_;
  Xapian::TermGenerator tg_;
};

// The word of a piece (text without white space) of the form <punct>*<ASCII letters/digits>+
// <punct>* (most of mail text: "word", "word,", "(word)."), as written (not lower-cased); empty
// when the piece has another form. The TermGenerator makes exactly this one word of such a piece.
std::string_view simple_word(std::string_view piece);

inline bool ascii_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

inline char ascii_lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

// Walks `text` in order as the TermGenerator would split it: white space is never part of a
// word, an infix or a suffix, so the words of a text are the words of its white-space-separated
// pieces in order. `simple(word)` gets the word of each simple piece (simple_word(), as written:
// the caller lower-cases ASCII) unless it is longer than kMaxWordBytes (the TermGenerator skips
// those); `other(run)` gets each maximal run of other pieces (with the white space between
// them), for the TermGenerator itself.
template <typename Simple, typename Other>
void for_each_piece(std::string_view text, Simple&& simple, Other&& other) {
  std::size_t other_begin = std::string_view::npos;
  auto flush_other = [&](std::size_t end) {
    if (other_begin != std::string_view::npos) {
      other(text.substr(other_begin, end - other_begin));
      other_begin = std::string_view::npos;
    }
  };
  std::size_t i = 0;
  while (i < text.size()) {
    if (ascii_space(text[i])) {
      ++i;
      continue;
    }
    std::size_t end = i;
    while (end < text.size() && !ascii_space(text[end])) {
      ++end;
    }
    const std::string_view word = simple_word(text.substr(i, end - i));
    if (!word.empty()) {
      flush_other(i);
      if (word.size() <= kMaxWordBytes) {
        simple(word);
      }
    } else if (other_begin == std::string_view::npos) {
      other_begin = i;
    }
    i = end;
  }
  flush_other(text.size());
}

// True when the TermGenerator may skip part of `text` as a word longer than kMaxWordBytes:
// some run of bytes that can belong to one word (ASCII letters and digits, every non-ASCII
// byte, and the characters it joins words with: . , ' & _) is longer than kMaxWordBytes.
// Conservative (a long run of CJK text or a long dotted host name counts too); false means
// every ASCII letter and digit of `text` is inside an indexed term. Pure.
bool may_skip_words(std::string_view text) noexcept;

// Splits text into words exactly as the document builder's TermGenerator does
// (configure_term_generator's word rules: Unicode lower-case, punctuation dropped, infix rules
// for "don't" or "AT&T", CJK runs one word per character, words over kMaxWordBytes skipped),
// without stemming. Used to verify phrases on a message's text (indexer/phrase_check.h); the
// query side splits with QueryTokenizer, which uses the same rules. Not thread-safe.
class WordSplitter {
 public:
  WordSplitter();

  // The words of `text` in order.
  std::vector<std::string> words(std::string_view text);

  // The same, always through the TermGenerator (slower; the reference for words()).
  std::vector<std::string> generator_words(std::string_view text);

 private:
  Xapian::TermGenerator tg_;
};

}  // namespace mailvault::index
