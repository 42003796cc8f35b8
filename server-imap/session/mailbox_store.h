// MailboxStore: the SQL behind the IMAP mailbox views (see mailbox_view.h for the design): the
// archive's UIDVALIDITY (migrations/0004_imap.sql), the mailboxes a user may see, and the
// snapshot of one of them. All of the IMAP server's SQL lives here; handlers never see pqxx.
//
// Thread-safe: every call takes its own pooled connection and read-only transaction; the
// cached UIDVALIDITY is guarded by a mutex.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/result.h"
#include "server-imap/session/mailbox_view.h"

namespace mailvault::pg {
class Pool;
}

namespace mailvault::imapd {

// Who is looking: enough to decide visibility. users.id and role.
struct Viewer {
  std::int64_t user_id = 0;
  std::string name;
  bool sees_everything = false;  // auditor, admin
};

class MailboxStore {
 public:
  explicit MailboxStore(pg::Pool& pool) : pool_(pool) {}

  // The archive's UIDVALIDITY (read once, then cached: it never changes).
  // kFailedPrecondition when the migration has not run.
  Result<std::uint32_t> uidvalidity();

  // UIDNEXT of the view `ref` now (the same for every viewer): a mailbox whose snapshot has
  // this UIDNEXT has received nothing since.
  Result<std::uint32_t> uidnext(const MailboxRef& ref);

  // The views the viewer may see: All Mail first, then every account/import folder that holds
  // at least one visible message, sorted by name.
  Result<std::vector<MailboxRef>> list(const Viewer& viewer);

  // The snapshot of the view `name` (UTF-8), or nullopt when the viewer sees no such mailbox
  // (a folder view exists only while it holds a visible message; All Mail always exists).
  Result<std::optional<Snapshot>> open(const Viewer& viewer, std::string_view name);

 private:
  Result<Snapshot> load(const Viewer& viewer, const MailboxRef& ref);

  pg::Pool& pool_;
  std::mutex mu_;
  std::optional<std::uint32_t> uidvalidity_;
};

}  // namespace mailvault::imapd
