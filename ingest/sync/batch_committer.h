// BatchCommitter: groups fetched messages into Archive batches, each advancing the checkpoint it
// covers, while the fetch goes on.
//
// Up to SyncOptions::batches_in_flight batches are in the pipeline at once: each is prepared
// (hash, parse, blob writes, sync: Archive::prepare_batch) on its own helper thread, order-free,
// and then committed (Archive::commit_batch, with its checkpoint) strictly in the order the
// batches were filled, and only if every earlier batch committed. So a checkpoint never passes a
// message that is not committed, and a crash between two commits keeps the earlier one. Used
// from one thread (the sync's).
#pragma once

#include <cstdint>
#include <deque>
#include <future>
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

  Status start_batch();
  Status collect_front();
  Outcome prepare_and_commit(std::vector<Item>& items, std::shared_future<bool> previous);

  struct InFlight {
    std::future<Outcome> outcome;
    std::shared_future<bool> committed;  // true once this batch (and all before it) committed
  };

  const SyncContext& ctx_;
  SyncReport& report_;
  std::string folder_;
  std::int64_t folder_id_;
  std::uint32_t uidvalidity_;
  std::vector<Item> batch_;
  std::size_t batch_bytes_ = 0;
  std::deque<InFlight> in_flight_;  // oldest first
  std::shared_future<bool> last_committed_;
  Status failed_;  // the first failure: nothing after it commits
  std::vector<std::uint64_t> committed_tags_;
};

}  // namespace mailvault::ingest
