// Internal to indexer/ (includes <xapian.h>): the read side's handle on the index directory,
// shared by Searcher and SubstringNarrower so that both open, check and reopen the index the
// same way.
//
// The index is opened on first use; a directory that does not exist yet, or a database being
// created (no schema recorded, no documents), reads as "no index" (every answer empty). An index
// of another schema version is kFailedPrecondition naming `mailvault reindex`. Every call
// reopens the database to see the latest commit and retries once if the writer changed it
// underneath (DatabaseModifiedError); after any other failure the handle is dropped, so the next
// call opens the index from scratch (e.g. after `mailvault reindex` replaced it).
//
// Thread-compatible (one handle per thread, or a lock around it), like Xapian::Database.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>

#include <xapian.h>

#include "core/base/result.h"
#include "indexer/xapian_error.h"

namespace mailvault::index {

class ReadHandle {
 public:
  explicit ReadHandle(std::filesystem::path dir)
      : dir_(std::move(dir)), context_("index at " + dir_.string()) {}

  // "index at DIR", the prefix of every error about this index.
  [[nodiscard]] const std::string& context() const noexcept { return context_; }

  // Incremented whenever the database is opened from scratch: whatever a caller derived from
  // an earlier database (its stemming language...) is stale when this changed.
  [[nodiscard]] std::uint64_t generation() const noexcept { return generation_; }

  // Runs attempt(Xapian::Database&) -> Result<T> on the freshly reopened database, inside
  // xapian_try; returns `empty` when there is no index yet.
  template <typename T, typename F>
  Result<T> with_database(F&& attempt, T empty) {
    for (int tries = 0;; ++tries) {
      Result<bool> open = ensure_open();
      if (!open) {
        return open.error();
      }
      if (!*open) {
        return empty;
      }
      Result<T> r = xapian_try(context_, [&]() -> Result<T> {
        db_->reopen();
        return attempt(*db_);
      });
      if (r) {
        return r;
      }
      if (r.error().code == Code::kAborted && tries == 0) {
        continue;
      }
      db_.reset();
      return r;
    }
  }

 private:
  // false: there is no index yet (nothing to find).
  Result<bool> ensure_open();

  std::filesystem::path dir_;
  std::string context_;
  std::optional<Xapian::Database> db_;
  std::uint64_t generation_ = 0;
};

}  // namespace mailvault::index
