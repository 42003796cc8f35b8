#include "indexer/substring_narrower.h"

#include <algorithm>
#include <cstring>
#include <mutex>
#include <string>
#include <utility>

#include <xapian.h>

#include "indexer/read_handle.h"
#include "indexer/schema.h"

namespace mailvault::index {
namespace {

bool is_ascii_alnum(char c) noexcept {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

// The term dictionary of the body text at one index revision: every term of a field, each
// followed by '\n' (terms never contain white space), so that a run is found by one scan of a
// single buffer.
struct Dictionary {
  TextField field = TextField::kBody;
  std::string prefix;  // the field's term prefix ("" for the body)
  std::string terms;   // "term\n" for every term, without the prefix
};

struct Snapshot {
  Xapian::doccount doccount = 0;  // documents when taken
  std::vector<bool> covered;      // by message id: indexed when taken
  std::vector<Dictionary> fields;
};

void set_bit(std::vector<bool>& bits, std::int64_t id) {
  if (id < 0) {
    return;
  }
  const auto i = static_cast<std::size_t>(id);
  if (i >= bits.size()) {
    bits.resize(std::max(i + 1, bits.size() * 2));
  }
  bits[i] = true;
}

Dictionary read_dictionary(Xapian::Database& db, TextField field, IndexField index_field) {
  Dictionary d;
  d.field = field;
  d.prefix = std::string(prefix_of(index_field));
  if (!d.prefix.empty()) {
    for (auto t = db.allterms_begin(d.prefix); t != db.allterms_end(d.prefix); ++t) {
      const std::string term = *t;
      d.terms.append(term, d.prefix.size()).push_back('\n');
    }
    return d;
  }
  // Unprefixed terms never start with an upper-case ASCII letter; prefixed ones always do.
  for (auto t = db.allterms_begin(); t != db.allterms_end(); ++t) {
    const std::string term = *t;
    if (!term.empty() && term.front() >= 'A' && term.front() <= 'Z') {
      t.skip_to("[");  // the byte after 'Z': past every prefixed term
      if (t == db.allterms_end()) {
        break;
      }
      const std::string next = *t;
      d.terms.append(next).push_back('\n');
      continue;
    }
    d.terms.append(term).push_back('\n');
  }
  return d;
}

Snapshot take_snapshot(Xapian::Database& db) {
  Snapshot s;
  s.doccount = db.get_doccount();
  const Xapian::valueno slot = slot_number(Slot::kSortKey);
  for (auto v = db.valuestream_begin(slot); v != db.valuestream_end(slot); ++v) {
    if (const auto id = decode_sort_key_id(*v)) {
      set_bit(s.covered, to_int(*id));
    }
  }
  const std::pair<TextField, IndexField> fields[] = {
      {TextField::kBody, IndexField::kBody},       {TextField::kBody, IndexField::kAttachmentText},
      {TextField::kSubject, IndexField::kSubject}, {TextField::kFrom, IndexField::kFrom},
      {TextField::kTo, IndexField::kTo},           {TextField::kCc, IndexField::kCc},
      {TextField::kBcc, IndexField::kBcc},         {TextField::kMessageId, IndexField::kMessageId},
  };
  for (const auto& [field, index_field] : fields) {
    s.fields.push_back(read_dictionary(db, field, index_field));
  }
  return s;
}

// Runs in at most this many terms have their posting lists read first.
constexpr std::size_t kFewTerms = 64;

// Terms as views into the snapshot (without prefix), each with its dictionary (for the prefix).
using TermsFound = std::vector<std::pair<const Dictionary*, std::string_view>>;

// The terms of `field` that contain `run` (never empty: ascii_runs); nullopt when more than
// `limit`. memmem (glibc: two-way, with a fast path for short needles) is several times faster
// here than string_view::find's memchr+memcmp loop, which stops at every byte equal to the
// run's first letter.
std::optional<TermsFound> terms_containing(const Snapshot& s, TextField field, std::string_view run,
                                           std::size_t limit) {
  TermsFound out;
  for (const Dictionary& d : s.fields) {
    if (d.field != field) {
      continue;
    }
    const char* const begin = d.terms.data();
    const char* const end = begin + d.terms.size();
    const char* at = begin;
    while (at < end) {
      const void* hit = memmem(at, static_cast<std::size_t>(end - at), run.data(), run.size());
      if (hit == nullptr) {
        break;
      }
      const char* h = static_cast<const char*>(hit);
      const char* line = h;
      while (line > begin && line[-1] != '\n') {
        --line;
      }
      const char* line_end =
          static_cast<const char*>(memchr(h, '\n', static_cast<std::size_t>(end - h)));
      if (line_end == nullptr) {
        line_end = end;
      }
      if (out.size() >= limit) {
        return std::nullopt;
      }
      out.emplace_back(&d, std::string_view(line, static_cast<std::size_t>(line_end - line)));
      at = line_end + 1;
    }
  }
  return out;
}

// The term marking documents whose field text is not entirely in the field's terms.
std::string_view unindexed_term(TextField field) {
  return field == TextField::kMessageId ? kUnindexedMessageIdTerm : kUnindexedTextTerm;
}

// The term marking documents whose field terms are not all literal; empty: no definite matches.
std::string_view non_literal_term(TextField field) {
  switch (field) {
    case TextField::kBody:
      return kNonLiteralBodyTerm;
    case TextField::kSubject:
      return kNonLiteralSubjectTerm;
    default:
      return {};
  }
}

void add_postings(Xapian::Database& db, const std::string& term, std::vector<Xapian::docid>& out) {
  for (auto p = db.postlist_begin(term); p != db.postlist_end(term); ++p) {
    out.push_back(*p);
  }
}

void sort_unique(std::vector<Xapian::docid>& docs) {
  std::sort(docs.begin(), docs.end());
  docs.erase(std::unique(docs.begin(), docs.end()), docs.end());
}

}  // namespace

std::size_t SubstringCandidates::definite_count() const noexcept {
  std::size_t n = 0;
  for (std::size_t i = 0; i < definite_.size(); ++i) {
    n += definite_[i] ? 1 : 0;
  }
  return n;
}

std::size_t SubstringCandidates::matched_count() const noexcept {
  std::size_t n = 0;
  for (std::size_t i = 0; i < matched_.size() && i < covered_.size(); ++i) {
    n += (matched_[i] && covered_[i]) ? 1 : 0;
  }
  return n;
}

struct SubstringNarrower::Impl {
  Impl(std::filesystem::path dir, NarrowingOptions o) : options(o), handle(std::move(dir)) {}

  const NarrowingOptions options;
  std::mutex mu;
  ReadHandle handle;
  std::optional<Snapshot> snapshot;
  std::uint64_t snapshot_generation = 0;

  // Re-takes the snapshot when there is none, the index was reopened from scratch, shrank
  // (a reindex), or grew by more than 5% (+100) since.
  void refresh(Xapian::Database& db) {
    const Xapian::doccount now = db.get_doccount();
    const bool stale = !snapshot || snapshot_generation != handle.generation() ||
                       now < snapshot->doccount ||
                       now > snapshot->doccount + snapshot->doccount / 20 + 100;
    if (stale) {
      snapshot = take_snapshot(db);
      snapshot_generation = handle.generation();
    }
  }

  // The message ids of the live documents in `docids` (sorted, unique), read from the sort key.
  static void mark_messages(Xapian::Database& db, const std::vector<Xapian::docid>& docids,
                            std::vector<bool>& out) {
    const Xapian::valueno slot = slot_number(Slot::kSortKey);
    auto v = db.valuestream_begin(slot);
    for (const Xapian::docid docid : docids) {
      if (v == db.valuestream_end(slot)) {
        break;
      }
      v.skip_to(docid);
      if (v == db.valuestream_end(slot)) {
        break;
      }
      if (v.get_docid() == docid) {
        if (const auto id = decode_sort_key_id(*v)) {
          set_bit(out, to_int(*id));
        }
      }
    }
  }

  std::optional<SubstringCandidates> candidates(Xapian::Database& db, TextField field,
                                                const std::vector<std::string_view>& runs,
                                                bool whole_run) {
    refresh(db);
    const std::string_view non_literal = non_literal_term(field);
    std::vector<bool> definite;
    // Which runs to read posting lists for, in what order: first the runs in at most kFewTerms
    // terms, fewest terms first (cheapest, and usually the most selective: a local part before
    // its domain), longest first on a tie; then the others, longest first. Each costs a
    // dictionary scan, which for a run in many terms ends as soon as the limit is reached.
    // Runs in more than kMaxTerms terms do not narrow. The lookup stops once the candidates
    // are few (NarrowingOptions).
    const std::size_t enough =
        field == TextField::kBody ? options.enough_body : options.enough_header;
    std::vector<std::string_view> by_length = runs;
    std::stable_sort(by_length.begin(), by_length.end(),
                     [](std::string_view a, std::string_view b) { return a.size() > b.size(); });
    std::vector<std::pair<std::string_view, TermsFound>> few;
    std::vector<std::string_view> many;
    for (const std::string_view run : by_length) {
      if (auto found = terms_containing(*snapshot, field, run, kFewTerms)) {
        few.emplace_back(run, std::move(*found));
      } else {
        many.push_back(run);
      }
    }
    std::stable_sort(few.begin(), few.end(), [](const auto& a, const auto& b) {
      return a.second.size() < b.second.size();
    });
    std::optional<std::vector<Xapian::docid>> result;  // sorted docids
    const std::size_t checks_per_term =
        field == TextField::kBody ? options.checks_per_term_body : options.checks_per_term_header;
    // Whether reading `terms` posting lists can pay: checking every candidate left costs less
    // than that once the candidates are few (options.checks_per_term).
    auto worth_reading = [&](std::size_t terms) {
      return !result || terms * checks_per_term < result->size();
    };
    // Narrows `result` by one run's terms; true once the candidates are few enough.
    std::string term;
    auto narrow_by = [&](const TermsFound& found) {
      std::vector<Xapian::docid> docs;
      for (const auto& [dictionary, suffix] : found) {
        term.assign(dictionary->prefix).append(suffix);
        add_postings(db, term, docs);
      }
      if (whole_run && !non_literal.empty()) {
        // The needle is this one run: every holder of these terms contains it, unless marked.
        sort_unique(docs);
        std::vector<Xapian::docid> marked;
        add_postings(db, std::string(non_literal), marked);
        std::vector<Xapian::docid> sure;
        std::set_difference(docs.begin(), docs.end(), marked.begin(), marked.end(),
                            std::back_inserter(sure));
        mark_messages(db, sure, definite);
      }
      add_postings(db, std::string(unindexed_term(field)), docs);
      sort_unique(docs);
      if (result) {
        std::vector<Xapian::docid> both;
        std::set_intersection(result->begin(), result->end(), docs.begin(), docs.end(),
                              std::back_inserter(both));
        docs = std::move(both);
      }
      result = std::move(docs);
      return result->size() <= enough;
    };
    bool done = false;
    for (const auto& entry : few) {
      if (!worth_reading(entry.second.size())) {
        break;  // the rest are in as many terms or more
      }
      if ((done = narrow_by(entry.second))) {
        break;
      }
    }
    for (std::size_t i = 0; !done && i < many.size() && worth_reading(kFewTerms + 1); ++i) {
      const auto found = terms_containing(*snapshot, field, many[i], kMaxTerms);
      if (found && worth_reading(found->size())) {
        done = narrow_by(*found);
      }
    }
    if (!result) {
      return std::nullopt;
    }
    std::vector<bool> matched;
    mark_messages(db, *result, matched);
    return SubstringCandidates(snapshot->covered, std::move(matched), std::move(definite));
  }
};

SubstringNarrower::SubstringNarrower(std::filesystem::path index_dir, NarrowingOptions options)
    : impl_(std::make_unique<Impl>(std::move(index_dir), options)) {}

SubstringNarrower::~SubstringNarrower() = default;

std::vector<std::string_view> SubstringNarrower::ascii_runs(std::string_view folded_needle) {
  std::vector<std::string_view> runs;
  std::size_t i = 0;
  while (i < folded_needle.size()) {
    if (!is_ascii_alnum(folded_needle[i])) {
      ++i;
      continue;
    }
    std::size_t end = i;
    while (end < folded_needle.size() && is_ascii_alnum(folded_needle[end])) {
      ++end;
    }
    runs.push_back(folded_needle.substr(i, end - i));
    i = end;
  }
  return runs;
}

Result<std::optional<SubstringCandidates>> SubstringNarrower::candidates(
    TextField field, std::string_view folded_needle) {
  const std::vector<std::string_view> runs = ascii_runs(folded_needle);
  if (runs.empty()) {
    return std::optional<SubstringCandidates>{};
  }
  for (const std::string_view run : runs) {
    if (std::any_of(run.begin(), run.end(), [](char c) { return c >= 'A' && c <= 'Z'; })) {
      return Error{Code::kInvalidArgument, "substring candidates: the needle is not case-folded"};
    }
  }
  const bool whole_run = runs.size() == 1 && runs.front().size() == folded_needle.size();
  const std::lock_guard lock(impl_->mu);
  return impl_->handle.with_database<std::optional<SubstringCandidates>>(
      [&](Xapian::Database& db) -> Result<std::optional<SubstringCandidates>> {
        return impl_->candidates(db, field, runs, whole_run);
      },
      std::optional<SubstringCandidates>{});
}

}  // namespace mailvault::index
