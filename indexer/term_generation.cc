#include "indexer/term_generation.h"

#include <algorithm>
#include <cstdint>
#include <iterator>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "indexer/schema.h"

namespace mailvault::index {
namespace {

// Xapian's TermGenerator (1.4, STEM_SOME) stems a term only when its first character is a
// letter of one of these categories; the caller double-checks against the generated terms.
bool stemmable(const std::string& term) {
  const Xapian::Utf8Iterator it(term);
  if (it == Xapian::Utf8Iterator()) {
    return false;
  }
  switch (Xapian::Unicode::get_category(*it)) {
    case Xapian::Unicode::LOWERCASE_LETTER:
    case Xapian::Unicode::TITLECASE_LETTER:
    case Xapian::Unicode::MODIFIER_LETTER:
    case Xapian::Unicode::OTHER_LETTER:
      return true;
    default:
      return false;
  }
}

}  // namespace

std::string word_stem(const Xapian::Stem& stem, const std::string& word) {
  if (stem.is_none() || !stemmable(word)) {
    return {};
  }
  return stem(word);
}

Xapian::Stem make_stemmer(const std::string& language) {
  if (language.empty() || language == "none") {
    return {};
  }
  return Xapian::Stem(language);
}

namespace {

class CachingStemmer : public Xapian::StemImplementation {
 public:
  explicit CachingStemmer(Xapian::Stem inner) : inner_(std::move(inner)) {}

  std::string operator()(const std::string& word) override {
    if (const auto it = cache_.find(word); it != cache_.end()) {
      return it->second;
    }
    if (cache_.size() >= kMaxEntries) {
      cache_.clear();
    }
    std::string stem = inner_(word);
    cache_.emplace(word, stem);
    return stem;
  }

  std::string get_description() const override { return inner_.get_description(); }

 private:
  static constexpr std::size_t kMaxEntries = 100000;
  Xapian::Stem inner_;
  std::unordered_map<std::string, std::string> cache_;
};

}  // namespace

Xapian::Stem make_caching_stemmer(const std::string& language) {
  Xapian::Stem inner = make_stemmer(language);
  if (inner.is_none()) {
    return inner;
  }
  return Xapian::Stem(new CachingStemmer(std::move(inner)));  // Xapian::Stem takes ownership
}

void configure_term_generator(Xapian::TermGenerator& tg, const Xapian::Stem& stem) {
  tg.set_flags(Xapian::TermGenerator::FLAG_CJK_NGRAM);
  tg.set_stemmer(stem);
  tg.set_stemming_strategy(stem.is_none() ? Xapian::TermGenerator::STEM_NONE
                                          : Xapian::TermGenerator::STEM_SOME);
  tg.set_max_word_length(kMaxWordBytes);
}

std::string exact_term(std::string_view prefix, std::string_view value) {
  return bounded_term(prefix, Xapian::Unicode::tolower(std::string(value)));
}

bool looks_like_address(std::string_view text, bool allow_open_end) {
  const std::size_t at = text.find('@');
  if (at == std::string_view::npos || at == 0) {
    return false;
  }
  if (!allow_open_end && at + 1 == text.size()) {
    return false;
  }
  return std::none_of(text.begin(), text.end(),
                      [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; });
}

std::string_view clip_utf8(std::string_view text, std::size_t max_bytes) {
  if (text.size() <= max_bytes) {
    return text;
  }
  std::size_t n = max_bytes;
  while (n > 0 && (static_cast<unsigned char>(text[n]) & 0xc0) == 0x80) {
    --n;
  }
  return text.substr(0, n);
}

QueryTokenizer::QueryTokenizer(Xapian::Stem stem) : stem_(std::move(stem)) {
  configure_term_generator(tg_, stem_);
}

std::vector<QueryTerm> QueryTokenizer::terms(std::string_view text) {
  Xapian::Document scratch;
  tg_.set_document(scratch);
  tg_.set_termpos(0);
  tg_.index_text(std::string(text));

  std::vector<std::pair<Xapian::termpos, std::string>> positioned;
  std::vector<std::string> stemmed;  // "Z..." terms, sorted (termlists are sorted)
  for (auto it = scratch.termlist_begin(); it != scratch.termlist_end(); ++it) {
    const std::string term = *it;
    if (!term.empty() && term.front() == 'Z') {
      stemmed.push_back(term);
      continue;
    }
    for (auto pos = it.positionlist_begin(); pos != it.positionlist_end(); ++pos) {
      positioned.emplace_back(*pos, term);
    }
  }
  std::sort(positioned.begin(), positioned.end());

  std::vector<QueryTerm> out;
  out.reserve(positioned.size());
  for (auto& [pos, term] : positioned) {
    QueryTerm qt;
    if (!stem_.is_none() && stemmable(term)) {
      std::string stem = stem_(term);
      if (std::binary_search(stemmed.begin(), stemmed.end(), "Z" + stem)) {
        qt.stem_is_own_stem = stem_(stem) == stem;
        qt.stem = std::move(stem);
      }
    }
    qt.exact = std::move(term);
    out.push_back(std::move(qt));
  }
  return out;
}

std::vector<QueryChunk> QueryTokenizer::chunks(std::string_view text) {
  std::vector<QueryChunk> out;
  const std::string s(text);
  Xapian::Utf8Iterator it(s);
  const Xapian::Utf8Iterator end;
  std::size_t start = std::string::npos;
  auto flush = [&](std::size_t stop) {
    if (start == std::string::npos) {
      return;
    }
    QueryChunk chunk;
    chunk.raw = s.substr(start, stop - start);
    chunk.terms = terms(chunk.raw);
    out.push_back(std::move(chunk));
    start = std::string::npos;
  };
  while (it != end) {
    const auto offset = static_cast<std::size_t>(it.raw() - s.data());
    if (Xapian::Unicode::is_whitespace(*it)) {
      flush(offset);
    } else if (start == std::string::npos) {
      start = offset;
    }
    ++it;
  }
  flush(s.size());
  return out;
}

WordSplitter::WordSplitter() {
  configure_term_generator(tg_, Xapian::Stem());
}

namespace {

bool ascii_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

// ASCII that the TermGenerator never makes part of a word at the edge of a piece: not a word
// character ('_' is one), not a suffix ('+', '#': C++, C#), not white space.
bool ascii_edge_punct(char c) {
  return c > ' ' && c < 0x7f && !ascii_alnum(c) && c != '_' && c != '+' && c != '#';
}

}  // namespace

std::string_view simple_word(std::string_view piece) {
  std::size_t b = 0;
  while (b < piece.size() && ascii_edge_punct(piece[b])) {
    ++b;
  }
  std::size_t e = b;
  while (e < piece.size() && ascii_alnum(piece[e])) {
    ++e;
  }
  const std::size_t word_end = e;
  while (e < piece.size() && ascii_edge_punct(piece[e])) {
    ++e;
  }
  if (e != piece.size() || word_end == b) {
    return {};
  }
  return piece.substr(b, word_end - b);
}

std::vector<std::string> WordSplitter::words(std::string_view text) {
  std::vector<std::string> out;
  for_each_piece(
      text,
      [&](std::string_view word) {
        std::string& w = out.emplace_back(word);
        for (char& c : w) {
          c = ascii_lower(c);
        }
      },
      [&](std::string_view run) {
        std::vector<std::string> more = generator_words(run);
        out.insert(out.end(), std::make_move_iterator(more.begin()),
                   std::make_move_iterator(more.end()));
      });
  return out;
}

bool may_skip_words(std::string_view text) noexcept {
  std::size_t run = 0;
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    const bool joinable = u >= 0x80 || (u >= '0' && u <= '9') || (u >= 'a' && u <= 'z') ||
                          (u >= 'A' && u <= 'Z') || c == '.' || c == ',' || c == '\'' || c == '&' ||
                          c == '_';
    run = joinable ? run + 1 : 0;
    if (run > kMaxWordBytes) {
      return true;
    }
  }
  return false;
}

std::vector<std::string> WordSplitter::generator_words(std::string_view text) {
  if (text.empty()) {
    return {};
  }
  Xapian::Document scratch;
  tg_.set_document(scratch);
  tg_.set_termpos(0);
  tg_.index_text(Xapian::Utf8Iterator(text.data(), text.size()));
  tg_.set_document(Xapian::Document());

  // Every word has a position; CJK bigrams have none and are left out.
  std::vector<std::pair<Xapian::termpos, std::string>> positioned;
  positioned.reserve(scratch.termlist_count());
  for (auto it = scratch.termlist_begin(); it != scratch.termlist_end(); ++it) {
    const std::string term = *it;
    for (auto pos = it.positionlist_begin(); pos != it.positionlist_end(); ++pos) {
      positioned.emplace_back(*pos, term);
    }
  }
  std::sort(positioned.begin(), positioned.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<std::string> out;
  out.reserve(positioned.size());
  for (auto& [pos, term] : positioned) {
    out.push_back(std::move(term));
  }
  return out;
}

}  // namespace mailvault::index
