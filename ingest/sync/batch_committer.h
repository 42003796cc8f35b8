// BatchCommitter: groups fetched messages into Archive::store_batch calls, each advancing the
// checkpoint it covers, while the fetch goes on.
//
// At most one batch is being committed while the next one fills (the network read and the
// parse/store/commit overlap); batches commit strictly in order, so a checkpoint never passes a
// message that is not committed. Used from one thread (the sync's); the commit runs on a helper
// thread.
#pragma once

#include <cstdint>
#include <future>
#include <optional>
#include <string>
#include <vector>

#include "core/archive/archive.h"
#include "ingest/sync/sync.h"

namespace mailvault::ingest {

class BatchCommitter {
 public:
  struct Item {
    std::string raw;
    Placement placement;
    std::string uidl;       // POP3: the checkpoint entry of this message
    std::uint64_t tag = 0;  // caller's (POP3 message number), reported back by committed_tags()
  };

  // `folder_id`/`uidvalidity`: the IMAP folder checkpoint (0 for POP3).
  BatchCommitter(const SyncContext& ctx, SyncReport& report, std::string folder,
                 std::int64_t folder_id = 0, std::uint32_t uidvalidity = 0);
  ~BatchCommitter();
  BatchCommitter(const BatchCommitter&) = delete;
  BatchCommitter& operator=(const BatchCommitter&) = delete;
  BatchCommitter(BatchCommitter&&) = delete;
  BatchCommitter& operator=(BatchCommitter&&) = delete;

  // Adds a message (IMAP: in ascending UID order). May start a commit; returns the error of an
  // earlier commit (the sync must then stop: nothing after the failed batch is committed).
  Status add(Item item);
  // Commits what is pending and waits for every commit.
  Status flush();

  // Tags of the items whose batch committed (stored, duplicate, or rejected and recorded).
  const std::vector<std::uint64_t>& committed_tags() const { return committed_tags_; }

 private:
  struct Outcome {
    Status status;
    std::int64_t stored = 0;
    std::int64_t duplicates = 0;
    std::vector<std::string> rejected;  // "uid N: reason"
    std::vector<std::uint64_t> tags;
  };

  Status start_commit();
  Status wait_pending();
  Outcome commit(std::vector<Item> items);

  const SyncContext& ctx_;
  SyncReport& report_;
  std::string folder_;
  std::int64_t folder_id_;
  std::uint32_t uidvalidity_;
  std::vector<Item> batch_;
  std::size_t batch_bytes_ = 0;
  std::optional<std::future<Outcome>> pending_;
  std::vector<std::uint64_t> committed_tags_;
};

}  // namespace mailvault::ingest
