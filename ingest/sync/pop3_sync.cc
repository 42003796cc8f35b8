// POP3 account sync: the checkpoint is the set of archived UIDLs (content hashes without UIDL).
#include <unordered_map>

#include <fmt/format.h>

#include "core/base/log.h"
#include "core/crypto/digest.h"
#include "ingest/pop3/client.h"
#include "ingest/sync/batch_committer.h"
#include "ingest/sync/sync.h"

namespace mailvault::ingest {
namespace {

pop3::AuthMechanism mechanism(std::string_view auth) {
  if (auth == "user")
    return pop3::AuthMechanism::kUserPass;
  if (auth == "apop")
    return pop3::AuthMechanism::kApop;
  if (auth == "plain")
    return pop3::AuthMechanism::kPlain;
  return pop3::AuthMechanism::kAuto;
}

constexpr std::string_view kMaildrop = "INBOX";

}  // namespace

Status sync_pop3(const SyncContext& ctx, SyncReport& report) {
  const auto& spec = ctx.account.spec;
  pop3::ConnectOptions options;
  options.connection = connect_options(ctx.account, ctx.options);
  options.allow_plaintext_password = spec.tls == accounts::Tls::kNone;
  auto client = pop3::Client::connect(options);
  if (!client)
    return client.error();
  if (auto st = (*client)->authenticate(spec.username, spec.secret.password, mechanism(spec.auth));
      !st)
    return st;
  auto known = ctx.store.pop3_uidls(ctx.account.id);
  if (!known)
    return known.error();
  report.folders = 1;

  // Which messages are new: by UIDL, or by content hash when the server has no UIDL (then every
  // message must be downloaded to be recognised; only new ones are stored).
  std::vector<pop3::MessageNumber> wanted;
  std::unordered_map<std::uint32_t, std::string> uidl_of;
  std::vector<pop3::MessageNumber> already;  // archived earlier (for delete-after-archive)
  bool by_hash = false;
  auto uidls = (*client)->uidl();
  if (uidls) {
    for (const auto& entry : *uidls) {
      if (known->count(entry.uid) != 0) {
        already.push_back(entry.number);
      } else {
        wanted.push_back(entry.number);
        uidl_of[pop3::to_int(entry.number)] = entry.uid;
      }
    }
  } else if (uidls.error().code == Code::kUnimplemented) {
    by_hash = true;
    auto listed = (*client)->list();
    if (!listed)
      return listed.error();
    for (const auto& entry : *listed)
      wanted.push_back(entry.number);
  } else {
    return uidls.error();
  }

  BatchCommitter committer{ctx, report, std::string{kMaildrop}};
  if (!wanted.empty()) {
    spdlog::info("account {}: {} message(s) to download{}", spec.name, wanted.size(),
                 by_hash ? " (no UIDL: recognised by content hash)" : "");
  }
  auto fetched =
      (*client)->retr_many(wanted, [&](pop3::MessageNumber number, std::string raw) -> Status {
        if (cancelled(ctx))
          return make_error(Code::kCancelled, "sync cancelled");
        ++report.fetched;
        report.bytes += static_cast<std::int64_t>(raw.size());
        BatchCommitter::Item item;
        item.uidl = by_hash ? "sha256:" + crypto::to_hex(crypto::sha256(raw))
                            : uidl_of[pop3::to_int(number)];
        if (by_hash && known->count(item.uidl) != 0) {
          already.push_back(number);
          return ok_status();
        }
        item.tag = pop3::to_int(number);
        item.placement.source = spec.name;
        item.placement.folder = std::string{kMaildrop};
        item.placement.location = item.uidl;
        item.placement.account_id = ctx.account.id;
        item.raw = std::move(raw);
        return committer.add(std::move(item));
      });
  auto flushed = committer.flush();
  if (!fetched)
    return fetched;
  if (!flushed)
    return flushed;

  if (spec.delete_after_archive) {
    // Only what is committed in the archive (this run's batches and earlier runs' UIDLs).
    std::vector<pop3::MessageNumber> doomed = already;
    for (auto tag : committer.committed_tags())
      doomed.push_back(pop3::MessageNumber{static_cast<std::uint32_t>(tag)});
    // Pipelined when the server offers PIPELINING (one round trip per window, not per message).
    if (auto st = (*client)->dele_many(doomed); !st)
      return st;
    if (!doomed.empty()) {
      spdlog::info("account {}: deleted {} archived message(s) at the source", spec.name,
                   doomed.size());
    }
  }
  // QUIT commits deletions (RFC 1939 UPDATE state); without DELE it just ends the session.
  return (*client)->quit();
}

}  // namespace mailvault::ingest
