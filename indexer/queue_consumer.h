// The indexer's main loop: takes the index queue from PostgreSQL in order, loads each message's
// decoded text sidecar, writes a batch to Xapian through the sole IndexWriter, and deletes the
// queue rows only after Xapian's commit returned. A crash between the two re-indexes that batch,
// which is harmless (documents are replaced by their unique term).
//
// Batches are committed when `batch_size` messages are waiting, or when the oldest waiting one
// has waited `max_delay`.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>

#include "core/archive/archive.h"
#include "core/base/result.h"
#include "core/base/thread_pool.h"
#include "indexer/index_writer.h"

namespace mailvault::pg {
class Pool;
}

namespace mailvault::index {

struct QueueConsumerOptions {
  std::size_t batch_size = 1000;
  std::chrono::milliseconds max_delay{500};
  std::chrono::milliseconds poll_interval{100};
};

class QueueConsumer {
 public:
  QueueConsumer(pg::Pool& pool, Archive& archive, IndexWriter& writer, ThreadPool& loaders,
                QueueConsumerOptions options = {});

  // Indexes one batch if one is due (`force`: whatever is queued). Returns how many were indexed.
  Result<std::size_t> drain_once(bool force);

  // Loops until `stop` becomes true; errors are logged and retried with back-off.
  void run(const std::atomic<bool>& stop);

  // Rebuilds documents for every archived message (used by `mailvault reindex`), in id order,
  // reporting progress (done, total) after each batch.
  Status reindex_all(const std::function<void(std::uint64_t, std::uint64_t)>& progress);

 private:
  Status index_ids(const std::vector<MessageId>& ids);

  pg::Pool& pool_;
  Archive& archive_;
  IndexWriter& writer_;
  ThreadPool& loaders_;
  QueueConsumerOptions options_;
};

}  // namespace mailvault::index
