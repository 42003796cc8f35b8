// SubstringNarrower: which messages may contain a substring of their body text or of a Subject,
// From, To, Cc or Bcc field, from the index, for IMAP SEARCH BODY/TEXT/SUBJECT/FROM/TO/CC/BCC
// (RFC 3501: a case-insensitive substring, never word matching). The
// IMAP server checks every candidate on the message's decoded text (server-imap/session/
// text_match.h) and skips the rest, so the answer is still exactly that of a scan; this only has
// to return a *superset* of the matches, as small as the index can prove.
//
// Why a superset is sound (indexer/schema.h, "Substring candidates"): every ASCII letter and
// digit of a document's body, other and attachment text lies inside one of its body (unprefixed)
// or XAT terms, and of each Subject/From/Sender/To/Cc/Bcc value inside one of that field's
// terms, unless the document carries XUNINDEXED (text clipped or a long word skipped). A
// needle's maximal runs of ASCII letters and digits are therefore each inside some term of every
// document that contains the needle. For each run, the candidates are the documents holding a
// term that contains the run (found by scanning a snapshot of the term dictionary), plus every
// XUNINDEXED document; the runs' sets are intersected. Needles without such a run (punctuation
// only, non-ASCII only) are not narrowed.
//
// Definite matches (schema.h, body and Subject only): when the needle is one run of ASCII
// letters and digits, a document holding a term that contains it and not marked
// XNONLITERALBODY / XNONLITERALSUBJECT certainly contains it; surely_contains() says so, and
// the IMAP server skips reading its text. A common word then costs no text at all.
//
// Message-ID (HEADER Message-ID): the candidates come from the XMID terms, plus every document
// marked XUNINDEXEDMID.
//
// Freshness: the term dictionary snapshot is taken at some index revision and re-taken when the
// index has grown by more than a few percent. Documents are looked up in the live index, and any
// message the snapshot did not cover (indexed later, or not yet indexed) is always a candidate,
// so a stale snapshot costs speed, never results.
//
// Order: the runs' posting lists are read for the runs in the fewest terms first (those in at
// most 64 terms; then the others, longest first), and the lookup stops once the candidates are
// few (256 for a header field, 16 for the body; NarrowingOptions): each further run costs a
// dictionary scan and a posting list per term holding it (a domain name is in hundreds of
// address and Message-ID terms), while the IMAP server checks a candidate's header fields from
// its header cache in about a microsecond.
//
// Limits: a run contained in more than kMaxTerms terms (a letter or two) does not narrow; a
// needle whose every run is like that gets nullopt (every message is a candidate).
//
// Thread-safe: one narrower serves every IMAP session (calls are serialised; each takes
// milliseconds).
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "core/base/ids.h"
#include "core/base/result.h"

namespace mailvault::index {

// The answer for one needle: a message may contain it unless the index covered the message
// and the message is not among the matches.
class SubstringCandidates {
 public:
  SubstringCandidates(std::vector<bool> covered, std::vector<bool> matched,
                      std::vector<bool> definite = {})
      : covered_(std::move(covered)),
        matched_(std::move(matched)),
        definite_(std::move(definite)) {}

  [[nodiscard]] bool may_contain(MessageId id) const noexcept {
    const auto i = static_cast<std::size_t>(to_int(id));
    if (to_int(id) < 0 || i >= covered_.size() || !covered_[i]) {
      return true;
    }
    return i < matched_.size() && matched_[i];
  }

  // The message certainly contains the needle (a definite match, schema.h): the caller need
  // not check its text. Only for kBody and kSubject and a needle that is one run of ASCII
  // letters and digits; false whenever unsure.
  [[nodiscard]] bool surely_contains(MessageId id) const noexcept {
    const auto i = static_cast<std::size_t>(to_int(id));
    return to_int(id) >= 0 && i < definite_.size() && definite_[i];
  }

  // Messages the index covered and that may contain the needle (for logs and tests).
  [[nodiscard]] std::size_t matched_count() const noexcept;
  // Messages that surely contain it.
  [[nodiscard]] std::size_t definite_count() const noexcept;

 private:
  std::vector<bool> covered_;   // by message id
  std::vector<bool> matched_;   // by message id
  std::vector<bool> definite_;  // by message id
};

// What a needle is searched in (kMessageId: the Message-ID header fields).
enum class TextField : std::uint8_t { kBody, kSubject, kFrom, kTo, kCc, kBcc, kMessageId };

// When to stop looking up runs (see "Order" above). All 0: never stop early (the smallest
// candidate set the index can give).
struct NarrowingOptions {
  std::size_t enough_body = 16;     // candidates for kBody
  std::size_t enough_header = 256;  // candidates for the header fields
  // A run is looked up only while its terms x this < the candidates so far: reading one term's
  // posting list costs about as much as checking this many candidates on their text (a body
  // from the text cache; a header field from the header cache, about a microsecond).
  std::size_t checks_per_term_body = 1;
  std::size_t checks_per_term_header = 16;
};

class SubstringNarrower {
 public:
  // A run must be in at most this many terms to narrow.
  static constexpr std::size_t kMaxTerms = 2000;

  // Never fails: the index is opened on first use (indexer/read_handle.h).
  explicit SubstringNarrower(std::filesystem::path index_dir, NarrowingOptions options = {});
  ~SubstringNarrower();
  SubstringNarrower(const SubstringNarrower&) = delete;
  SubstringNarrower& operator=(const SubstringNarrower&) = delete;

  // Candidates for a needle already case-folded as the IMAP text keys fold it (ASCII letters
  // lower-cased). nullopt: the index cannot narrow it (see above) or there is no index yet.
  // Errors: the index cannot be read (kFailedPrecondition for another schema version...); the
  // caller then scans.
  Result<std::optional<SubstringCandidates>> candidates(TextField field,
                                                        std::string_view folded_needle);

  Result<std::optional<SubstringCandidates>> body_candidates(std::string_view folded_needle) {
    return candidates(TextField::kBody, folded_needle);
  }

  // The ASCII letter/digit runs of a folded needle, in order. Pure.
  static std::vector<std::string_view> ascii_runs(std::string_view folded_needle);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace mailvault::index
