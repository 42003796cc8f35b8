// Archive: the one write path, and the reads of what it wrote.
//
// store_batch() for each message: SHA-256 of the exact bytes; if that SHA-256 is new, parse it
// (core/mime), write the blob with the search-text sidecar as its companion (decoded text used by
// the indexer and the IMAP server's exact substring checks; one file per message, see
// core/blob/blob_store.h; archives written before companions have `<sha>.text` files, still read)
// to the content-addressed blob store;
// then ONE PostgreSQL transaction inserts the message rows (deduplicated by SHA-256), their
// placements (where each was seen) and the index-queue entries of the new ones. A crash before
// the commit leaves at most unreferenced blobs (harmless: the next store finds them); a crash
// after it loses nothing (the queue holds what is not indexed yet).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/archive/message_meta.h"
#include "core/base/ids.h"
#include "core/base/lru_cache.h"
#include "core/base/result.h"
#include "core/base/thread_pool.h"
#include "core/blob/blob_store.h"
#include "core/mime/parsed_message.h"

namespace mailvault {

namespace pg {
class Pool;
}

// Where a message was seen. Re-storing the same (source, folder, location) adds nothing.
struct Placement {
  std::string source = "import";  // "import" or an account name
  std::string folder;
  std::string location;  // file path ("#offset" for mbox), or "uidvalidity/uid"
  std::optional<std::int64_t> internal_date;  // seconds since the epoch
  std::string flags;                          // space-separated IMAP flags
  // Messages pulled from an account: the account row and the source UIDVALIDITY/UID (IMAP).
  std::int64_t account_id = 0;  // 0: not from an account
  std::optional<std::uint32_t> uidvalidity;
  std::optional<std::uint32_t> uid;
};

// The ingest commit point: a checkpoint advanced in the same transaction as the batch it covers.
// The batch commits only while `lease_owner` holds the account's lease (fencing: a worker that
// lost its lease cannot move a checkpoint another worker now owns); otherwise kAborted and
// nothing is committed.
struct Checkpoint {
  std::int64_t account_id = 0;
  std::string lease_owner;
  // IMAP: the account_folders row, the UIDVALIDITY the batch was fetched under (the row must
  // still have it) and the highest UID the batch covers.
  std::int64_t folder_id = 0;
  std::uint32_t uidvalidity = 0;
  std::uint32_t last_uid = 0;
  // POP3: one UIDL (or "sha256:<hex>") per item, parallel to the items; added to the account's
  // UIDL set for every item that was stored or was already in the archive.
  std::vector<std::string> uidls;
};

struct StoreItem {
  std::string_view raw;  // borrowed for the duration of the call
  Placement placement;
};

// A batch after Archive::prepare_batch(): hashed, checked against the archive, and every new
// message parsed with its blob written and durable. Nothing is in the database yet. The raw
// bytes stay borrowed from the caller until commit_batch() returns.
struct PreparedBatch {
  struct Message {
    std::string sha_hex;
    bool exists = false;         // already in the database when prepared
    std::optional<Error> error;  // rejected before the transaction
    mime::ParsedMessage parsed;
    std::uint64_t blob_bytes = 0;
  };

  std::vector<StoreItem> items;
  std::vector<Message> messages;  // parallel to items
};

struct StoreOutcome {
  enum class Kind : std::uint8_t { kStored, kDuplicate };
  Kind kind = Kind::kStored;
  MessageId id{};
  std::string sha256_hex;
  std::string message_id;             // Message-ID header (empty for duplicates)
  std::vector<std::string> problems;  // parse problems of a newly stored message
};

// The message row as stored (header fields decoded at store time).
struct MessageRow {
  MessageId id{};
  std::string sha256_hex;
  std::string message_id;
  std::string subject;
  std::string from;  // "Name <addr>, ..."
  std::string to;
  std::string cc;
  std::optional<std::int64_t> date;
  std::int64_t archived_at = 0;
  std::uint64_t size = 0;
  bool has_attachments = false;
  std::vector<std::string> problems;
};

struct ArchiveOptions {
  std::uint64_t max_message_size = 256ull << 20;
  // Bytes of verified message bodies read_body() keeps in memory (0: none).
  std::size_t body_cache_bytes = 0;
};

struct ArchiveStats {
  std::uint64_t messages = 0;
  std::uint64_t bytes_raw = 0;
  std::uint64_t bytes_stored = 0;
  std::uint64_t index_backlog = 0;
};

class Archive {
 public:
  // Borrows all three; `workers` parses and writes blobs in parallel (may be null: serial).
  Archive(pg::Pool& pool, BlobStore& blobs, ThreadPool* workers, ArchiveOptions options = {});

  // Outcomes in input order. A message that cannot be accepted (empty, over the size limit) has
  // an Error (kInvalidArgument / kResourceExhausted) and the rest are still stored. A failure of
  // the database or blob store fails the whole batch (nothing committed: safe to retry).
  // Thread-safe.
  // With a checkpoint, it is advanced in the same transaction (see Checkpoint).
  Result<std::vector<Result<StoreOutcome>>> store_batch(const std::vector<StoreItem>& items,
                                                        const Checkpoint* checkpoint = nullptr);
  Result<StoreOutcome> store(std::string_view raw, const Placement& placement);

  // store_batch() in two steps, so that a caller can prepare several batches at once while it
  // commits them one after another (in the order their checkpoints require).
  // prepare_batch: hash, known-check, parse, blob writes and the blob store's sync; touches no
  // row. Order-free and thread-safe; fails (kUnavailable...) only on storage or database trouble.
  // A prepared batch that is never committed leaves unreferenced blobs (harmless).
  Result<PreparedBatch> prepare_batch(std::vector<StoreItem> items);
  // commit_batch: the one transaction (rows, placements, queue entries, checkpoint), with the
  // same outcomes and errors as store_batch. A message another batch committed since it was
  // prepared comes out as a duplicate. Thread-safe.
  Result<std::vector<Result<StoreOutcome>>> commit_batch(PreparedBatch&& batch,
                                                         const Checkpoint* checkpoint = nullptr);

  // The exact bytes, read from the blob store; kDataLoss if the blob no longer hashes to its
  // SHA-256. Thread-safe.
  Result<std::string> read_raw(MessageId id);
  // The same bytes, shared: from the body cache (bytes read_raw verified earlier; archived
  // messages never change), else read_raw's, kept in the cache from the second read of a
  // message on (ArchiveOptions::body_cache_bytes, least recently used out first; a message
  // read once costs no memory and pushes nothing out). Thread-safe.
  using Body = std::shared_ptr<const std::string>;
  Result<Body> read_body(MessageId id);
  Result<std::optional<MessageId>> find_by_sha256(std::string_view sha256_hex);
  Result<MessageMeta> meta(MessageId id);
  // Metadata of several messages in one query; ids not found are left out.
  Result<std::vector<MessageMeta>> metas(const std::vector<MessageId>& ids);
  Result<std::vector<Placement>> placements(MessageId id);
  // Rows of several messages, in the order of `ids`; ids not found are left out.
  Result<std::vector<MessageRow>> rows(const std::vector<MessageId>& ids);
  // The decoded text sidecar (everything but HTML); re-parses the blob if the sidecar is missing.
  Result<mime::ParsedMessage> search_text(const MessageMeta& meta);
  // The same by id, without a database round trip once the id is known to the id -> SHA-256
  // cache (ids and hashes never change; the cache loads new ids in bulk). Thread-safe.
  Result<mime::ParsedMessage> search_text(MessageId id);
  Result<std::string> sha256_of(MessageId id);
  Result<ArchiveStats> stats();

  // Appends to the audit log (every read of archived mail is recorded).
  Status audit(std::string_view actor, std::string_view action, std::optional<MessageId> id,
               std::string_view detail = {});

  // One audit row per (message, detail), all in one transaction.
  struct AuditEntry {
    MessageId id{};
    std::string detail;
  };

  Status audit_many(std::string_view actor, std::string_view action,
                    const std::vector<AuditEntry>& entries);

  static std::string text_key(std::string_view sha256_hex) {
    return std::string{sha256_hex} + ".text";
  }

 private:
  pg::Pool& pool_;
  BlobStore& blobs_;
  std::mutex sha_mu_;
  std::unordered_map<std::int64_t, std::string> sha_cache_;  // id -> sha256 hex
  std::int64_t sha_cache_max_id_ = 0;
  ThreadPool* workers_;
  ArchiveOptions options_;
  ByteLruCache<std::string> bodies_;
};

}  // namespace mailvault
