// Searcher: the read side of the index (gRPC Search, CLI search, IMAP SEARCH). No Xapian type
// appears here.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/base/ids.h"
#include "core/base/result.h"
#include "core/mime/parsed_message.h"
#include "core/search/query.h"

namespace mailvault::index {

inline constexpr std::uint32_t kMaxSearchLimit = 10000;
inline constexpr std::size_t kSnippetBytes = 200;

struct SearchRequest {
  enum class Sort : std::uint8_t {
    kDateDesc,   // newest first (Date: header, else archive time); ties: higher id first
    kDateAsc,    // oldest first; ties: lower id first
    kRelevance,  // best BM25 match first
  };
  search::Query query;
  Sort sort = Sort::kDateDesc;
  std::uint64_t offset = 0;
  std::uint32_t limit = 50;  // at most kMaxSearchLimit (larger values are clamped)
  // Returns the text to cut a snippet from (the message's body text); may be empty, then hits
  // carry no snippet. Called once per hit, on the searching thread.
  std::function<std::string(MessageId)> snippet_text;
  // Returns a message's decoded text (the archive's sidecar), or nullopt when unavailable.
  // The index has no word positions (indexer/schema.h): a phrase ("a b", or a word the
  // tokenizer splits such as foo-bar) is verified on this text, inside one field. Called on the
  // searching thread for candidates that contain all of a phrase's words (the last message is
  // cached); must not throw. When empty, the loader given to Searcher::set_text_loader is used;
  // when that is empty too, a phrase matches as all of its words (adjacency unchecked); a
  // message the loader returns nullopt for is judged by its words and its adjacent-pair filter.
  std::function<std::optional<mime::ParsedMessage>(MessageId)> load_text;
};

struct SearchHit {
  MessageId id{};
  double relevance = 0;  // BM25 weight for kRelevance; 0 for date sorts
  // About kSnippetBytes of the text around the best match (within its first 64 KiB),
  // HTML-escaped, matches wrapped in <b>...</b>, "..." where text was left out; the start of
  // the text when the match is elsewhere (subject, addresses).
  std::string snippet;
};

struct SearchPage {
  std::vector<SearchHit> hits;
  std::uint64_t total_estimate = 0;  // exact for date sorts; Xapian's estimate for kRelevance
  bool has_more = false;             // a hit exists after offset + hits.size()
};

// One Searcher per thread (thread-compatible, not thread-safe); any number may read while the
// IndexWriter writes. Every call reopens the index to see the latest commit and retries once
// if the writer changed it underneath (DatabaseModifiedError). The index directory may not
// exist yet: then every search is empty.
class Searcher {
 public:
  // Never fails: the index is opened on first use.
  explicit Searcher(std::filesystem::path dir);
  Searcher(Searcher&& other) noexcept;
  Searcher& operator=(Searcher&& other) noexcept;
  Searcher(const Searcher&) = delete;
  Searcher& operator=(const Searcher&) = delete;
  ~Searcher();

  // The default text loader for phrase verification (see SearchRequest::load_text), used by
  // all_matches() and by search() requests without their own. Empty: none.
  void set_text_loader(std::function<std::optional<mime::ParsedMessage>(MessageId)> loader);

  // Errors: kFailedPrecondition (index of another schema version: run `mailvault reindex`),
  // kDataLoss (corrupt index), kUnavailable / kInternal (other Xapian failures).
  Result<SearchPage> search(const SearchRequest& request);

  // Every matching message, in no particular order (IMAP SEARCH, exports).
  Result<std::vector<MessageId>> all_matches(const search::Query& query);

  Result<std::uint64_t> doc_count();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace mailvault::index
