#include "indexer/query_compiler.h"

#include <array>
#include <cmath>
#include <cstdint>
#include <iterator>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>
#include <vector>

#include "indexer/schema.h"

namespace mailvault::index {
namespace {

using search::Text;

// Query(std::string()) matches every document. Never the shared static Xapian::Query::MatchAll:
// its reference count is not thread-safe.
Xapian::Query match_all() {
  return {std::string()};
}

// A default-constructed Query matches nothing.
Xapian::Query match_nothing() {
  return {};
}

Xapian::Query unweighted(const Xapian::Query& q) {
  return {Xapian::Query::OP_SCALE_WEIGHT, q, 0.0};
}

Xapian::Query join(Xapian::Query::op op, const std::vector<Xapian::Query>& parts) {
  if (parts.size() == 1) {
    return parts.front();
  }
  return {op, parts.begin(), parts.end()};
}

Xapian::Query wildcard(const std::string& pattern) {
  // A pattern longer than a bounded term's kept part must still match it (schema.h).
  constexpr std::size_t kKept = kMaxTermBytes - 17;
  const std::string_view clipped = clip_utf8(pattern, kKept);
  return {Xapian::Query::OP_WILDCARD, std::string(clipped), kWildcardLimit,
          Xapian::Query::WILDCARD_LIMIT_MOST_FREQUENT};
}

// Addresses are often pasted with their brackets or a trailing comma.
std::string_view trim_address(std::string_view s) {
  constexpr std::string_view kJunk = "<>\"'(),;:[]";
  while (!s.empty() && kJunk.find(s.front()) != std::string_view::npos) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (kJunk.find(s.back()) != std::string_view::npos || s.back() == '.')) {
    s.remove_suffix(1);
  }
  return s;
}

bool is_address_field(IndexField f) {
  return (field_spec(f).flags & kAddress) != 0;
}

}  // namespace

// One word in one field: the exact term of every indexed word of its stem class (schema.h),
// which always includes the word itself (exact only when asked, or when the word has no stem).
Xapian::Query QueryCompiler::word_in(const QueryTerm& t, const std::string& prefix,
                                     bool exact_only) {
  Xapian::Query exact(prefix + t.exact);
  if (exact_only || t.stem.empty()) {
    return exact;
  }
  std::vector<Xapian::Query> forms{exact};
  if (t.stem_is_own_stem && t.stem != t.exact) {
    forms.emplace_back(prefix + t.stem);
  }
  for (const std::string& word : stem_class(t.stem)) {
    if (word != t.exact && word != t.stem) {
      forms.emplace_back(prefix + word);
    }
  }
  return join(Xapian::Query::OP_OR, forms);
}

// The indexed words whose stem is `stem` (and differs from it), from the synonym table.
const std::vector<std::string>& QueryCompiler::stem_class(const std::string& stem) {
  auto [it, added] = classes_.try_emplace(stem);
  if (added && db_ != nullptr) {
    const std::string key = stem_class_key(stem);
    for (auto w = db_->synonyms_begin(key); w != db_->synonyms_end(key); ++w) {
      it->second.push_back(*w);
    }
  }
  return it->second;
}

// Several words in order in one field: all of their exact terms AND, given text to check
// against, a PhraseCheck that they are adjacent there (schema.h: the index has no positions).
Xapian::Query QueryCompiler::sequence_in(const std::vector<QueryTerm>& terms, IndexField f) {
  const std::string prefix(prefix_of(f));
  std::vector<Xapian::Query> parts;
  parts.reserve(terms.size() + 1);
  for (const QueryTerm& t : terms) {
    parts.emplace_back(prefix + t.exact);
  }
  if (parts.size() == 1) {
    return parts.front();
  }
  if (texts_) {
    std::vector<std::string> phrase;
    phrase.reserve(terms.size());
    for (const QueryTerm& t : terms) {
      phrase.push_back(t.exact);
    }
    // Xapian holds the leaf by reference count from here on.
    parts.emplace_back((new PhraseCheck(texts_, f, std::move(phrase)))->release());
  }
  return {Xapian::Query::OP_AND, parts.begin(), parts.end()};
}

// One white-space-separated word in one field; nullopt when it has nothing indexable.
std::optional<Xapian::Query> QueryCompiler::chunk_in(const QueryChunk& chunk, IndexField f,
                                                     bool exact_only) {
  const std::string prefix(prefix_of(f));
  if (is_address_field(f)) {
    const std::string_view address = trim_address(chunk.raw);
    if (looks_like_address(address)) {
      return {exact_term(prefix, address)};
    }
  }
  if (chunk.terms.empty()) {
    return std::nullopt;
  }
  if (chunk.terms.size() == 1) {
    return word_in(chunk.terms.front(), prefix, exact_only);
  }
  return sequence_in(chunk.terms, f);
}

namespace {

// The last word of a prefix search in one field: its leading pieces exactly, the last as a
// wildcard (an address prefix in an address field: a wildcard over full-address terms).
std::optional<Xapian::Query> prefix_chunk_in(const QueryChunk& chunk, IndexField f) {
  const std::string prefix(prefix_of(f));
  if (is_address_field(f)) {
    const std::string_view address = trim_address(chunk.raw);
    if (looks_like_address(address, /*allow_open_end=*/true)) {
      return wildcard(prefix + Xapian::Unicode::tolower(std::string(address)));
    }
  }
  if (chunk.terms.empty()) {
    return std::nullopt;
  }
  std::vector<Xapian::Query> parts;
  for (std::size_t i = 0; i + 1 < chunk.terms.size(); ++i) {
    parts.emplace_back(prefix + chunk.terms[i].exact);
  }
  parts.push_back(wildcard(prefix + chunk.terms.back().exact));
  return join(Xapian::Query::OP_AND, parts);
}

Xapian::Query value_range(Slot slot, std::optional<double> lo, std::optional<double> hi) {
  const Xapian::valueno n = slot_number(slot);
  if (lo && hi) {
    if (*lo > *hi) {
      return match_nothing();
    }
    return {Xapian::Query::OP_VALUE_RANGE, n, Xapian::sortable_serialise(*lo),
            Xapian::sortable_serialise(*hi)};
  }
  if (lo) {
    return {Xapian::Query::OP_VALUE_GE, n, Xapian::sortable_serialise(*lo)};
  }
  if (hi) {
    return {Xapian::Query::OP_VALUE_LE, n, Xapian::sortable_serialise(*hi)};
  }
  // Unbounded: every document that has the value.
  return {Xapian::Query::OP_VALUE_GE, n,
          Xapian::sortable_serialise(-std::numeric_limits<double>::infinity())};
}

}  // namespace

QueryCompiler::QueryCompiler(const std::string& language)
    : stem_(make_stemmer(language)), tokenizer_(stem_) {}

Xapian::Query QueryCompiler::compile(const search::Query& query, TextLoader loader,
                                     const Xapian::Database* db) {
  texts_ = loader ? std::make_shared<PhraseTexts>(std::move(loader)) : nullptr;
  db_ = db;
  classes_.clear();
  Compiled c = node(query);
  texts_.reset();  // the query's leaves keep it alive
  db_ = nullptr;
  classes_.clear();
  return c.filter ? unweighted(c.query) : c.query;
}

QueryCompiler::Compiled QueryCompiler::node(const search::Query& query) {
  return std::visit(
      [this](const auto& n) -> Compiled {
        using T = std::decay_t<decltype(n)>;
        if constexpr (std::is_same_v<T, search::MatchAll>) {
          return {match_all(), true};
        } else if constexpr (std::is_same_v<T, search::Text>) {
          return text(n);
        } else if constexpr (std::is_same_v<T, search::DateRange>) {
          const Slot slot = n.of == search::DateRange::Of::kSent ? Slot::kDate : Slot::kArchived;
          // [begin, end) of whole seconds == [begin, end - 1].
          if (n.end && *n.end == std::numeric_limits<std::int64_t>::min()) {
            return {match_nothing(), true};
          }
          std::optional<double> lo;
          std::optional<double> hi;
          if (n.begin) {
            lo = static_cast<double>(*n.begin);
          }
          if (n.end) {
            hi = static_cast<double>(*n.end - 1);
          }
          return {value_range(slot, lo, hi), true};
        } else if constexpr (std::is_same_v<T, search::SizeRange>) {
          if (!n.min && !n.max) {
            return {match_all(), true};
          }
          std::optional<double> lo;
          std::optional<double> hi;
          if (n.min) {
            lo = static_cast<double>(*n.min);
          }
          if (n.max) {
            hi = static_cast<double>(*n.max);
          }
          return {value_range(Slot::kSize, lo, hi), true};
        } else if constexpr (std::is_same_v<T, search::HasAttachment>) {
          return {Xapian::Query(exact_term(prefix_of(IndexField::kHas), kHasAttachmentValue)),
                  true};
        } else if constexpr (std::is_same_v<T, search::And>) {
          return all_of(n.children);
        } else if constexpr (std::is_same_v<T, search::Or>) {
          return any_of(n.children);
        } else {
          static_assert(std::is_same_v<T, search::Not>);
          // Not has exactly one child; more are read as their AND, none as "nothing excluded".
          if (n.child.empty()) {
            return {match_all(), true};
          }
          const Compiled inner = n.child.size() == 1 ? node(n.child.front()) : all_of(n.child);
          return {Xapian::Query(Xapian::Query::OP_AND_NOT, match_all(), inner.query), true};
        }
      },
      query.node);
}

QueryCompiler::Compiled QueryCompiler::boolean_text(const Text& t) {
  const IndexField f = fields_for(t.field).front();
  std::string_view value = t.text;
  if (t.field == search::Field::kMessageId) {
    if (!value.empty() && value.front() == '<') {
      value.remove_prefix(1);
    }
    if (!value.empty() && value.back() == '>') {
      value.remove_suffix(1);
    }
  }
  const std::string prefix(prefix_of(f));
  if (t.kind == Text::Kind::kPrefix) {
    if (value.empty()) {
      return {match_all(), true};
    }
    return {wildcard(prefix + Xapian::Unicode::tolower(std::string(value))), true};
  }
  return {Xapian::Query(exact_term(prefix, value)), true};
}

QueryCompiler::Compiled QueryCompiler::text(const Text& t) {
  const std::span<const IndexField> fields = fields_for(t.field);
  if (fields.empty()) {
    return {match_nothing(), true};
  }
  if ((field_spec(fields.front()).flags & kBoolean) != 0) {
    return boolean_text(t);
  }

  const std::vector<QueryChunk> chunks = tokenizer_.chunks(t.text);
  std::vector<Xapian::Query> conjuncts;  // every element must match

  // For each chunk: OR over the fields of what `in_field` makes of it.
  auto each_field = [&](auto&& in_field) -> std::optional<Xapian::Query> {
    std::vector<Xapian::Query> alternatives;
    for (const IndexField f : fields) {
      if (std::optional<Xapian::Query> q = in_field(f)) {
        alternatives.push_back(std::move(*q));
      }
    }
    if (alternatives.empty()) {
      return std::nullopt;
    }
    return join(Xapian::Query::OP_OR, alternatives);
  };

  switch (t.kind) {
    case Text::Kind::kWords:
      for (const QueryChunk& chunk : chunks) {
        if (auto q = each_field([&](IndexField f) { return chunk_in(chunk, f, false); })) {
          conjuncts.push_back(std::move(*q));
        }
      }
      break;
    case Text::Kind::kPhrase: {
      // The words of every chunk as one sequence; a single word is its exact term.
      std::vector<QueryTerm> all;
      for (const QueryChunk& chunk : chunks) {
        all.insert(all.end(), chunk.terms.begin(), chunk.terms.end());
      }
      if (chunks.size() == 1) {
        const QueryChunk& chunk = chunks.front();
        if (auto q = each_field([&](IndexField f) { return chunk_in(chunk, f, true); })) {
          conjuncts.push_back(std::move(*q));
        }
      } else if (!all.empty()) {
        if (auto q = each_field([&](IndexField f) -> std::optional<Xapian::Query> {
              if (all.size() == 1) {
                return word_in(all.front(), std::string(prefix_of(f)), true);
              }
              return sequence_in(all, f);
            })) {
          conjuncts.push_back(std::move(*q));
        }
      }
      break;
    }
    case Text::Kind::kPrefix:
      for (std::size_t i = 0; i < chunks.size(); ++i) {
        const QueryChunk& chunk = chunks[i];
        const bool last = i + 1 == chunks.size();
        if (auto q = each_field([&](IndexField f) {
              return last ? prefix_chunk_in(chunk, f) : chunk_in(chunk, f, false);
            })) {
          conjuncts.push_back(std::move(*q));
        }
      }
      break;
  }
  if (conjuncts.empty()) {
    return {match_all(), true};  // nothing indexable: no constraint
  }
  return {join(Xapian::Query::OP_AND, conjuncts), false};
}

QueryCompiler::Compiled QueryCompiler::all_of(const std::vector<search::Query>& children) {
  std::vector<Xapian::Query> scored;
  std::vector<Xapian::Query> filters;
  std::vector<Xapian::Query> excluded;
  for (const search::Query& child : children) {
    if (std::holds_alternative<search::MatchAll>(child.node)) {
      continue;
    }
    if (const auto* neg = std::get_if<search::Not>(&child.node);
        neg != nullptr && neg->child.size() == 1) {
      excluded.push_back(node(neg->child.front()).query);
      continue;
    }
    Compiled c = node(child);
    (c.filter ? filters : scored).push_back(std::move(c.query));
  }
  Compiled out;
  if (!scored.empty()) {
    out.query = join(Xapian::Query::OP_AND, scored);
    if (!filters.empty()) {
      out.query =
          Xapian::Query(Xapian::Query::OP_FILTER, out.query, join(Xapian::Query::OP_AND, filters));
    }
    out.filter = false;
  } else {
    out.query = filters.empty() ? match_all() : join(Xapian::Query::OP_AND, filters);
    out.filter = true;
  }
  if (!excluded.empty()) {
    out.query =
        Xapian::Query(Xapian::Query::OP_AND_NOT, out.query, join(Xapian::Query::OP_OR, excluded));
  }
  return out;
}

QueryCompiler::Compiled QueryCompiler::any_of(const std::vector<search::Query>& children) {
  if (children.empty()) {
    return {match_nothing(), true};
  }
  std::vector<Compiled> compiled;
  compiled.reserve(children.size());
  bool all_filters = true;
  for (const search::Query& child : children) {
    compiled.push_back(node(child));
    all_filters = all_filters && compiled.back().filter;
  }
  std::vector<Xapian::Query> parts;
  parts.reserve(compiled.size());
  for (Compiled& c : compiled) {
    // Filters beside scored alternatives must not add weight of their own.
    parts.push_back(c.filter && !all_filters ? unweighted(c.query) : std::move(c.query));
  }
  return {join(Xapian::Query::OP_OR, parts), all_filters};
}

}  // namespace mailvault::index
