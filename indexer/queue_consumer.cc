#include "indexer/queue_consumer.h"

#include <thread>

#include <fmt/format.h>

#include "core/base/log.h"
#include "core/pg/pool.h"

namespace mailvault::index {

QueueConsumer::QueueConsumer(pg::Pool& pool, Archive& archive, IndexWriter& writer,
                             ThreadPool& loaders, QueueConsumerOptions options)
    : pool_(pool), archive_(archive), writer_(writer), loaders_(loaders), options_(options) {}

Status QueueConsumer::index_ids(const std::vector<MessageId>& ids) {
  auto metas = archive_.metas(ids);
  if (!metas)
    return metas.error();
  std::vector<IndexItem> items(metas->size());
  std::vector<std::optional<Error>> errors(metas->size());
  loaders_.parallel_for(metas->size(), [&](std::size_t i) {
    auto text = archive_.search_text((*metas)[i]);
    if (!text) {
      errors[i] = text.error();
      return;
    }
    items[i].meta = std::move((*metas)[i]);
    items[i].parsed = std::move(*text);
  });
  for (const auto& e : errors) {
    if (e)
      return *e;
  }
  return writer_.write(std::move(items));
}

Result<std::size_t> QueueConsumer::drain_once(bool force) {
  struct Row {
    std::int64_t seq;
    MessageId id;
  };

  auto due = pg::read(pool_, "index_queue_peek", [&](pqxx::read_transaction& tx) {
    std::vector<Row> rows;
    bool is_due = force;
    auto r = tx.exec_params(
        "SELECT seq, message_id, (now() - enqueued_at) > make_interval(secs => $2) FROM "
        "index_queue "
        "ORDER BY seq LIMIT $1",
        options_.batch_size, static_cast<double>(options_.max_delay.count()) / 1000.0);
    for (const auto& row : r) {
      rows.push_back(Row{row[0].as<std::int64_t>(), MessageId{row[1].as<std::int64_t>()}});
      if (row[2].as<bool>())
        is_due = true;
    }
    if (rows.size() >= options_.batch_size)
      is_due = true;
    if (!is_due)
      rows.clear();
    return rows;
  });
  if (!due)
    return due.error();
  if (due->empty())
    return std::size_t{0};

  std::vector<MessageId> ids;
  std::string seqs;
  for (const auto& row : *due) {
    ids.push_back(row.id);
    if (!seqs.empty())
      seqs += ',';
    seqs += std::to_string(row.seq);
  }
  if (auto st = index_ids(ids); !st)
    return st.error();
  // Xapian has committed: only now is the work removed from the queue.
  auto done = pg::write(pool_, "index_queue_done", [&](pqxx::work& tx) {
    tx.exec_params0("DELETE FROM index_queue WHERE seq = ANY (string_to_array($1, ',')::bigint[])",
                    seqs);
  });
  if (!done)
    return done.error();
  return ids.size();
}

void QueueConsumer::run(const std::atomic<bool>& stop) {
  lower_current_thread_priority(kIndexNice);  // the Xapian writer yields to archiving too
  auto backoff = options_.poll_interval;
  while (!stop.load()) {
    auto n = drain_once(false);
    if (!n) {
      spdlog::error("indexer: {}; retrying in {} ms", n.error().message, backoff.count());
      std::this_thread::sleep_for(backoff);
      backoff = std::min(backoff * 2, std::chrono::milliseconds(30000));
      continue;
    }
    backoff = options_.poll_interval;
    if (*n > 0) {
      spdlog::debug("indexer: committed {} documents", *n);
    } else {
      std::this_thread::sleep_for(options_.poll_interval);
    }
  }
  // Leave nothing half-done: commit whatever is queued now.
  if (auto n = drain_once(true); !n)
    spdlog::warn("indexer: final drain: {}", n.error().message);
}

Status QueueConsumer::reindex_all(
    const std::function<void(std::uint64_t, std::uint64_t)>& progress) {
  auto total = pg::read(pool_, "reindex_count", [](pqxx::read_transaction& tx) {
    return tx.exec1("SELECT count(*) FROM messages")[0].as<std::uint64_t>();
  });
  if (!total)
    return total.error();
  std::int64_t after = 0;
  std::uint64_t done = 0;
  for (;;) {
    auto ids = pg::read(pool_, "reindex_ids", [&](pqxx::read_transaction& tx) {
      std::vector<MessageId> out;
      for (const auto& row :
           tx.exec_params("SELECT id FROM messages WHERE id > $1 ORDER BY id LIMIT $2", after,
                          options_.batch_size)) {
        out.push_back(MessageId{row[0].as<std::int64_t>()});
      }
      return out;
    });
    if (!ids)
      return ids.error();
    if (ids->empty())
      break;
    if (auto st = index_ids(*ids); !st)
      return st;
    after = to_int(ids->back());
    done += ids->size();
    if (progress)
      progress(done, *total);
  }
  return {};
}

}  // namespace mailvault::index
