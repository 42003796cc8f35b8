// IndexWriter: the sole writer of the Xapian index (Xapian allows one writer per database).
// Schema: indexer/schema.h. No Xapian type appears here; callers pass our own value types.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "core/archive/message_meta.h"
#include "core/base/ids.h"
#include "core/base/result.h"
#include "core/mime/parsed_message.h"

namespace mailvault::index {

struct IndexOptions {
  // Threads building documents in write(); 0: one per core.
  std::size_t threads = 0;
  // Xapian stemmer name ("english", "german", "french", ...) or "none". Fixed when the index is
  // created (stored in it); opening an existing index with another language is refused.
  // Empty: the existing index's language, or "english" for a new index.
  std::string language = "english";
  // Each free-text field (body, attachment text, subject, ...) is indexed up to this many bytes.
  std::size_t max_text_bytes = std::size_t{4} * 1024 * 1024;
};

struct IndexItem {
  MessageMeta meta;
  mime::ParsedMessage parsed;
};

// Thread-compatible: one thread at a time (the indexer's queue consumer). Movable.
// Niceness added to the threads that build documents and write the index, so that archiving
// (ingest, import) gets the CPU first when both run.
inline constexpr int kIndexNice = 10;

class IndexWriter {
 public:
  // Opens the index in `dir`, creating it (and missing parent directories) when absent.
  // Errors:
  //   kUnavailable         "index at DIR is locked by another process" (another writer holds it)
  //   kFailedPrecondition  the index has another schema version, or was built with another
  //                        stemming language; the message says to run `mailvault reindex`
  //   kInvalidArgument     unknown stemming language
  //   others               Xapian could not open or create it (kFailedPrecondition, kDataLoss...)
  static Result<IndexWriter> open(const std::filesystem::path& dir, IndexOptions options = {});

  IndexWriter(IndexWriter&& other) noexcept;
  IndexWriter& operator=(IndexWriter&& other) noexcept;
  IndexWriter(const IndexWriter&) = delete;
  IndexWriter& operator=(const IndexWriter&) = delete;
  ~IndexWriter();  // releases the lock; anything not committed is discarded (write() commits)

  // Builds one document per item on IndexOptions::threads pool threads while the calling thread
  // replaces the documents keyed Q<id> in input order as they become ready (an id given twice:
  // the last wins), then commits; all as one Xapian transaction: on success every item is
  // durable, on failure none is. Writing a message again replaces it (doc_count() unchanged).
  Status write(std::vector<IndexItem> items);

  // Deletes the message's document, if any, and commits.
  Status remove(MessageId id);

  // Documents in the index (committed or not; write() and remove() always commit).
  std::uint64_t doc_count() const;

  // Writes a compacted copy of the committed index into `dest`, which must not exist yet
  // (kAlreadyExists). An index written in batches keeps its B-tree blocks partly empty and old
  // blocks for readers; the copy is packed, typically half the size, and has the same schema
  // metadata. Meant for `mailvault reindex` (compact the fresh index, then move it into place)
  // and for maintenance; swapping directories is the caller's business, with no writer open
  // on them. Takes time and disk I/O proportional to the index size.
  Status compact_to(const std::filesystem::path& dest) const;

  const std::filesystem::path& dir() const;
  // The stemming language documents are built with (as stored in the index).
  const std::string& language() const;

 private:
  struct Impl;
  explicit IndexWriter(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace mailvault::index
