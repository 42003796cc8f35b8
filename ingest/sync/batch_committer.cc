#include "ingest/sync/batch_committer.h"

#include <algorithm>
#include <utility>

#include <fmt/format.h>

#include "core/base/log.h"

namespace mailvault::ingest {

BatchCommitter::BatchCommitter(const SyncContext& ctx, SyncReport& report, std::string folder,
                               std::int64_t folder_id, std::uint32_t uidvalidity)
    : ctx_(ctx),
      report_(report),
      folder_(std::move(folder)),
      folder_id_(folder_id),
      uidvalidity_(uidvalidity) {}

BatchCommitter::~BatchCommitter() {
  for (auto& f : in_flight_)
    f.outcome.wait();  // never leave a batch running against borrowed state
}

Status BatchCommitter::add(Item item) {
  if (!failed_)
    return failed_;
  batch_bytes_ += item.raw.size();
  batch_.push_back(std::move(item));
  if (batch_.size() >= ctx_.options.batch_messages || batch_bytes_ >= ctx_.options.batch_bytes)
    return start_batch();
  return ok_status();
}

Status BatchCommitter::flush() {
  if (!batch_.empty() && failed_) {
    if (auto st = start_batch(); !st)
      return st;
  }
  while (!in_flight_.empty())
    (void)collect_front();
  return failed_;
}

Status BatchCommitter::collect_front() {
  Outcome out = in_flight_.front().outcome.get();
  in_flight_.pop_front();
  if (!out.status) {
    if (failed_)
      failed_ = out.status;
    return failed_;
  }
  report_.stored += out.stored;
  report_.duplicates += out.duplicates;
  report_.rejected += static_cast<std::int64_t>(out.rejected.size());
  committed_tags_.insert(committed_tags_.end(), out.tags.begin(), out.tags.end());
  for (const auto& why : out.rejected) {
    spdlog::warn("account {}: folder {}: message rejected by the archive: {}",
                 ctx_.account.spec.name, folder_, why);
    (void)ctx_.store.record_event(ctx_.account.id,
                                  accounts::make_event("rejected", folder_, ctx_.worker, why));
  }
  return failed_;
}

Status BatchCommitter::start_batch() {
  const std::size_t limit = std::max<std::size_t>(1, ctx_.options.batches_in_flight);
  while (in_flight_.size() >= limit) {
    if (auto st = collect_front(); !st)
      return st;
  }
  if (!failed_)
    return failed_;
  std::vector<Item> items;
  items.swap(batch_);
  batch_bytes_ = 0;
  std::promise<bool> done;
  std::shared_future<bool> committed = done.get_future().share();
  std::shared_future<bool> previous = std::exchange(last_committed_, committed);
  auto task = [this, items = std::move(items), previous = std::move(previous),
               done = std::move(done)]() mutable {
    Outcome out;
    try {
      out = prepare_and_commit(items, previous);
    } catch (...) {
      done.set_value(false);  // later batches must not wait forever, nor commit
      throw;
    }
    done.set_value(static_cast<bool>(out.status));
    return out;
  };
  in_flight_.push_back(InFlight{std::async(std::launch::async, std::move(task)), committed});
  return ok_status();
}

BatchCommitter::Outcome BatchCommitter::prepare_and_commit(std::vector<Item>& items,
                                                           std::shared_future<bool> previous) {
  Outcome out;
  std::vector<StoreItem> store_items;
  store_items.reserve(items.size());
  Checkpoint cp;
  cp.account_id = ctx_.account.id;
  cp.lease_owner = ctx_.worker;
  cp.folder_id = folder_id_;
  cp.uidvalidity = uidvalidity_;
  bool pop3 = folder_id_ == 0;
  for (const auto& item : items) {
    store_items.push_back(StoreItem{item.raw, item.placement});
    if (item.placement.uid)
      cp.last_uid = std::max(cp.last_uid, *item.placement.uid);
    if (pop3)
      cp.uidls.push_back(item.uidl);
  }
  // Preparing is order-free: it runs while earlier batches prepare or commit.
  auto prepared = ctx_.archive.prepare_batch(std::move(store_items));
  // Committing is not: this batch's checkpoint covers every message before it.
  if (previous.valid() && !previous.get()) {
    out.status = make_error(Code::kAborted, "not committed: an earlier batch failed");
    return out;
  }
  if (!prepared) {
    out.status = prepared.error();
    return out;
  }
  auto result = ctx_.archive.commit_batch(std::move(*prepared), &cp);
  if (!result) {
    out.status = result.error();
    return out;
  }
  for (std::size_t i = 0; i < result->size(); ++i) {
    const auto& r = (*result)[i];
    out.tags.push_back(items[i].tag);
    if (!r) {
      const auto& pl = items[i].placement;
      out.rejected.push_back(fmt::format("{} {}: {}", pl.uid ? "uid" : "uidl",
                                         pl.uid ? std::to_string(*pl.uid) : items[i].uidl,
                                         r.error().message));
    } else if (r->kind == StoreOutcome::Kind::kStored) {
      ++out.stored;
    } else {
      ++out.duplicates;
    }
  }
  return out;
}

}  // namespace mailvault::ingest
