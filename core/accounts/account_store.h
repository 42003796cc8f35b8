// AccountStore: the remote accounts the ingest workers pull, their leases, folder checkpoints,
// POP3 UIDL sets and sync history (tables of migrations/0002_accounts_and_checkpoints.sql).
//
// Credentials are sealed with AES-256-GCM under the server's master key (core/crypto/aead.h),
// bound to the account name, and opened only when a worker or an explicit caller needs them:
// list() never returns them.
//
// Leases: lease_next() picks one due account with `SELECT ... FOR UPDATE SKIP LOCKED`, so any
// number of worker processes on one database never work on the same account at once; a lease
// expires unless renewed, so a crashed worker's accounts are picked up again. Checkpoints are
// advanced by Archive::store_batch (same transaction as the messages), not here.
//
// Watch leases (migrations/0006_idle_watch.sql): an IMAP account with `idle` on is watched by
// IDLE in at most one process (ingest/sync/idle_watchers.h). The same SKIP LOCKED scheme on
// separate columns: a watched account is still leased for syncs as usual.
//
// Thread-safe (every call uses its own pooled connection).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "core/base/result.h"
#include "core/crypto/aead.h"

namespace mailvault {
namespace pg {
class Pool;
}

namespace accounts {

enum class Protocol { kImap, kPop3 };
enum class Tls { kImplicit, kStartTls, kNone };

std::string_view to_string(Protocol p);
std::string_view to_string(Tls t);
Result<Protocol> parse_protocol(std::string_view text);
Result<Tls> parse_tls(std::string_view text);
// Default port for a protocol and TLS mode (993/143, 995/110).
std::uint16_t default_port(Protocol p, Tls t);

struct Secret {
  std::string password;
  std::string token_command;  // XOAUTH2: a command printing an access token on stdout
  std::string token_file;     // XOAUTH2: a file holding the current access token

  bool empty() const { return password.empty() && token_command.empty() && token_file.empty(); }
};

// What `account add` gives.
struct AccountSpec {
  std::string name;
  Protocol protocol = Protocol::kImap;
  std::string host;
  std::uint16_t port = 0;  // 0: the default for protocol and TLS mode
  Tls tls = Tls::kImplicit;
  bool verify_tls = true;
  std::string ca_file;
  std::string username;
  std::string auth = "auto";  // auto | login | plain | xoauth2 (IMAP); auto | user | apop | plain
  Secret secret;
  std::vector<std::string> include_folders;
  std::vector<std::string> exclude_folders;
  std::int32_t interval_seconds = 300;
  std::string owner;
  bool delete_after_archive = false;
  // IMAP: watch the account with IDLE where the server has it (new mail then triggers a sync
  // at once; polling at the interval goes on regardless). `account add --no-idle` turns it off.
  bool idle = true;
};

// Checks names, ports, modes and combinations; the error names the offending field.
Status validate(const AccountSpec& spec);

struct FolderState {
  std::int64_t id = 0;
  std::string name;
  std::uint32_t uidvalidity = 0;  // 0: never examined
  std::uint32_t last_uid = 0;
  std::int64_t messages_archived = 0;
  std::optional<std::int64_t> last_synced_at;  // unix seconds
  bool gone = false;
};

struct Account {
  std::int64_t id = 0;
  AccountSpec spec;  // spec.secret is filled only by get(..., with_secret = true) / lease_next()
  std::optional<std::int64_t> last_attempt_at;   // unix microseconds (start of the latest sync)
  std::optional<std::int64_t> last_finished_at;  // unix microseconds (its end)
  std::optional<std::int64_t> last_success_at;   // unix seconds
  std::int64_t next_sync_at = 0;
  std::int32_t failures = 0;
  std::string last_error;
  std::string lease_owner;             // empty when not leased
  std::string idle_owner;              // the process watching it by IDLE, empty if none
  std::int64_t messages_archived = 0;  // sum over folders
  std::vector<FolderState> folders;    // filled by list() and get()
};

struct SyncEvent {
  std::int64_t id = 0;
  std::int64_t at = 0;  // unix seconds
  std::string kind;     // sync | error | uidvalidity_changed | rejected | folder_gone | idle
  std::string folder;
  std::string worker;
  std::int64_t fetched = 0;
  std::int64_t stored = 0;
  std::string detail;
};

inline SyncEvent make_event(std::string kind, std::string folder, std::string worker,
                            std::string detail, std::int64_t fetched = 0, std::int64_t stored = 0) {
  SyncEvent e;
  e.kind = std::move(kind);
  e.folder = std::move(folder);
  e.worker = std::move(worker);
  e.detail = std::move(detail);
  e.fetched = fetched;
  e.stored = stored;
  return e;
}

class AccountStore {
 public:
  // Borrows both.
  AccountStore(pg::Pool& pool, const crypto::MasterKey& key) : pool_(pool), key_(key) {}

  // kInvalidArgument (validate()), kAlreadyExists if a live account has the name.
  Result<std::int64_t> add(const AccountSpec& spec);
  // Live accounts with folder states, without secrets, by name.
  Result<std::vector<Account>> list();
  // kNotFound if no live account has the name.
  Result<Account> get(std::string_view name, bool with_secret = false);
  // Marks the account removed (archived mail and history stay); its lease is dropped.
  Status remove(std::string_view name);
  // Makes the account due now; returns the request time (unix microseconds) for wait_synced().
  Result<std::int64_t> request_sync(std::string_view name);

  // Leases one due, unleased (or lease-expired) account to `worker` for `lease`, with its secret
  // opened. nullopt when none is due.
  Result<std::optional<Account>> lease_next(std::string_view worker, std::chrono::seconds lease);
  // Releases sync and watch leases whose owner name starts with `owner_prefix` and for which
  // `is_dead(owner)` says the owner is gone (a worker of this host that crashed: its pid no longer
  // runs), so a restarted server resumes at once instead of waiting for the lease to expire.
  // Returns how many were released.
  Result<std::size_t> release_dead_leases(std::string_view owner_prefix,
                                          const std::function<bool(const std::string&)>& is_dead);
  // kAborted when the lease is no longer held by `worker`.
  Status renew(std::int64_t account_id, std::string_view worker, std::chrono::seconds lease);
  // Ends a lease: on success schedules the next sync after the account's interval; on failure
  // after an exponential backoff (base * 2^failures, capped at the interval and at 1 hour).
  Status finish(std::int64_t account_id, std::string_view worker, const Status& outcome,
                std::chrono::seconds backoff_base = std::chrono::seconds{5});

  // Takes watch leases on up to `limit` IMAP accounts with idle on that nobody watches (or
  // whose watch lease expired) and that are not held back, for `lease`; with secrets opened.
  // An account whose secret cannot be opened is held back for an hour and left out (its sync
  // reports the error).
  Result<std::vector<Account>> lease_idle(std::string_view worker, std::chrono::seconds lease,
                                          std::size_t limit);
  // Renews every watch lease `worker` holds on a live account with idle on; returns the ids of
  // those accounts (a watcher whose account is missing lost its lease: removed, idle turned
  // off, or taken over after an expiry).
  Result<std::vector<std::int64_t>> renew_idle(std::string_view worker, std::chrono::seconds lease);
  // Ends a watch lease; the account may be watched again after `hold_off`.
  Status release_idle(std::int64_t account_id, std::string_view worker,
                      std::chrono::seconds hold_off = std::chrono::seconds{0});

  // Folder states of an account; ensure_folder() creates the row on first sight.
  Result<std::vector<FolderState>> folders(std::int64_t account_id);
  Result<FolderState> ensure_folder(std::int64_t account_id, std::string_view name);
  // Sets a folder's UIDVALIDITY and restarts its UID checkpoint at 0 (first examine, or the
  // server changed UIDVALIDITY). kAborted unless `worker` holds the lease.
  Status reset_folder(std::int64_t folder_id, std::uint32_t uidvalidity, std::int64_t account_id,
                      std::string_view worker);
  Status set_folder_gone(std::int64_t folder_id, bool gone);

  // The POP3 checkpoint: every archived UIDL (or "sha256:<hex>") of the account.
  Result<std::unordered_set<std::string>> pop3_uidls(std::int64_t account_id);

  Status record_event(std::int64_t account_id, const SyncEvent& event);
  // Newest first.
  Result<std::vector<SyncEvent>> events(std::int64_t account_id, std::size_t limit = 50);

 private:
  std::string context(std::string_view name) const {
    return "mailvault-account:" + std::string{name};
  }

  pg::Pool& pool_;
  const crypto::MasterKey& key_;
};

}  // namespace accounts
}  // namespace mailvault
