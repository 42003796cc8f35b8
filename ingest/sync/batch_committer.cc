#include "ingest/sync/batch_committer.h"

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
  if (pending_)
    pending_->wait();  // never leave a commit running against borrowed state
}

Status BatchCommitter::add(Item item) {
  batch_bytes_ += item.raw.size();
  batch_.push_back(std::move(item));
  if (batch_.size() >= ctx_.options.batch_messages || batch_bytes_ >= ctx_.options.batch_bytes)
    return start_commit();
  return ok_status();
}

Status BatchCommitter::flush() {
  if (!batch_.empty()) {
    if (auto st = start_commit(); !st)
      return st;
  }
  return wait_pending();
}

Status BatchCommitter::wait_pending() {
  if (!pending_)
    return ok_status();
  Outcome out = pending_->get();
  pending_.reset();
  if (!out.status)
    return out.status;
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
  return ok_status();
}

Status BatchCommitter::start_commit() {
  if (auto st = wait_pending(); !st)
    return st;
  std::vector<Item> items;
  items.swap(batch_);
  batch_bytes_ = 0;
  pending_.emplace(std::async(std::launch::async, [this, items = std::move(items)]() mutable {
    return commit(std::move(items));
  }));
  return ok_status();
}

BatchCommitter::Outcome BatchCommitter::commit(std::vector<Item> items) {
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
  auto result = ctx_.archive.store_batch(store_items, &cp);
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
