// IMAP account sync: every listed folder from its (UIDVALIDITY, last UID) checkpoint.
#include <algorithm>
#include <unordered_map>

#include <fmt/format.h>

#include "core/base/log.h"
#include "ingest/imap/client.h"
#include "ingest/sync/batch_committer.h"
#include "ingest/sync/imap_login.h"
#include "ingest/sync/sync.h"

namespace mailvault::ingest {
namespace {

std::string flags_text(const std::vector<std::string>& flags) {
  std::string out;
  for (const auto& f : flags) {
    if (!out.empty())
      out += ' ';
    out += f;
  }
  return out;
}

// One folder: examine, settle UIDVALIDITY, fetch what is past the checkpoint, commit in batches.
Status sync_folder(const SyncContext& ctx, imap::Client& client, const imap::Mailbox& mailbox,
                   SyncReport& report) {
  const auto& name = ctx.account.spec.name;
  auto folder = ctx.store.ensure_folder(ctx.account.id, mailbox.name);
  if (!folder)
    return folder.error();
  if (folder->gone)
    (void)ctx.store.set_folder_gone(folder->id, false);
  auto state = client.examine(mailbox);
  if (!state)
    return state.error();
  ++report.folders;
  std::uint32_t last_uid = folder->last_uid;
  if (folder->uidvalidity != state->uidvalidity) {
    if (auto st =
            ctx.store.reset_folder(folder->id, state->uidvalidity, ctx.account.id, ctx.worker);
        !st)
      return st;
    if (folder->uidvalidity != 0) {
      // The server renumbered the folder: re-scan it. Messages already archived are recognised
      // by SHA-256 and only gain a placement under the new UIDVALIDITY.
      ++report.uidvalidity_changes;
      auto detail = fmt::format("UIDVALIDITY changed from {} to {} (last UID was {}); re-scanning",
                                folder->uidvalidity, state->uidvalidity, folder->last_uid);
      spdlog::warn("account {}: folder {}: {}", name, mailbox.name, detail);
      (void)ctx.store.record_event(
          ctx.account.id,
          accounts::make_event("uidvalidity_changed", mailbox.name, ctx.worker, detail));
    }
    last_uid = 0;
  }
  // Nothing new: UIDNEXT says no UID past the checkpoint exists (no search needed).
  if (state->exists == 0 || (state->uidnext != 0 && state->uidnext <= last_uid + 1))
    return ok_status();
  auto uids = client.uids_from(last_uid + 1);
  if (!uids)
    return uids.error();
  if (uids->empty())
    return ok_status();
  spdlog::info("account {}: folder {}: {} new message(s) after UID {}", name, mailbox.name,
               uids->size(), last_uid);
  BatchCommitter committer{ctx, report, mailbox.name, folder->id, state->uidvalidity};
  auto fetched = client.fetch(
      *uids,
      [&](imap::FetchedMessage&& m) -> Status {
        if (cancelled(ctx))
          return make_error(Code::kCancelled, "sync cancelled");
        ++report.fetched;
        report.bytes += static_cast<std::int64_t>(m.body.size());
        BatchCommitter::Item item;
        item.placement.source = name;
        item.placement.folder = mailbox.name;
        item.placement.location = fmt::format("{}/{}", state->uidvalidity, m.uid);
        if (m.internal_date_unix != 0)
          item.placement.internal_date = m.internal_date_unix;
        item.placement.flags = flags_text(m.flags);
        item.placement.account_id = ctx.account.id;
        item.placement.uidvalidity = state->uidvalidity;
        item.placement.uid = m.uid;
        item.raw = std::move(m.body);
        return committer.add(std::move(item));
      },
      ctx.options.fetch_batch, ctx.options.fetch_pipeline);
  // Whatever was fetched before a failure is still committed with its checkpoint.
  auto flushed = committer.flush();
  if (!fetched)
    return fetched;
  return flushed;
}

}  // namespace

Status sync_imap(const SyncContext& ctx, SyncReport& report) {
  const auto& spec = ctx.account.spec;
  imap::ClientOptions copts;
  auto client = imap::Client::connect(connect_options(ctx.account, ctx.options), copts);
  if (!client)
    return client.error();
  if (auto st = (*client)->authenticate(imap_credentials(ctx.account, ctx.options.connect_timeout));
      !st)
    return st.error();
  auto boxes = (*client)->list(spec.include_folders, spec.exclude_folders);
  if (!boxes)
    return boxes.error();

  // Folders we knew that the server no longer lists: keep their mail, note it once.
  auto known = ctx.store.folders(ctx.account.id);
  if (!known)
    return known.error();
  for (const auto& f : *known) {
    bool listed = std::any_of(boxes->begin(), boxes->end(),
                              [&](const imap::Mailbox& m) { return m.name == f.name; });
    if (!listed && !f.gone) {
      (void)ctx.store.set_folder_gone(f.id, true);
      (void)ctx.store.record_event(ctx.account.id,
                                   accounts::make_event("folder_gone", f.name, ctx.worker,
                                                        "no longer listed by the server; its "
                                                        "archived mail stays"));
    }
  }

  for (const auto& box : *boxes) {
    if (!box.selectable())
      continue;
    if (cancelled(ctx))
      return make_error(Code::kCancelled, "sync cancelled");
    auto st = sync_folder(ctx, **client, box, report);
    if (st)
      continue;
    auto code = st.error().code;
    // A folder-level refusal (NO to EXAMINE, a message the archive rejects as a whole batch)
    // does not stop the others; a broken connection or a lost lease stops the sync.
    if (code == Code::kUnavailable || code == Code::kDeadlineExceeded || code == Code::kCancelled ||
        code == Code::kAborted || code == Code::kUnauthenticated || code == Code::kInternal) {
      return make_error(code, fmt::format("folder {}: {}", box.name, st.error().message));
    }
    report.folder_errors.push_back(fmt::format("{}: {}", box.name, st.error().message));
  }
  (void)(*client)->logout();
  if (!report.folder_errors.empty()) {
    return make_error(Code::kUnknown,
                      fmt::format("{} folder(s) failed: {}", report.folder_errors.size(),
                                  fmt::join(report.folder_errors, "; ")));
  }
  return ok_status();
}

}  // namespace mailvault::ingest
