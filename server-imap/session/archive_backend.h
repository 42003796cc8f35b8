// The SessionBackend of a running server: users from UserStore (argon2id), mailboxes from
// MailboxStore, message bytes from Archive::read_raw (SHA-256 verified) with one audit_log row
// per message read (action "imap_fetch", actor = user name, detail = mailbox and UID).
// Thread-safe (every member it uses is).
#pragma once

#include "core/archive/archive.h"
#include "core/users/user_store.h"
#include "server-imap/session/mailbox_store.h"
#include "server-imap/session/session.h"

namespace mailvault::imapd {

class ArchiveBackend final : public SessionBackend {
 public:
  // Borrows all three for its lifetime.
  ArchiveBackend(users::UserStore& users, MailboxStore& mailboxes, Archive& archive)
      : users_(users), mailboxes_(mailboxes), archive_(archive) {}

  Result<Viewer> authenticate(std::string_view user, std::string_view password) override;
  Result<std::vector<MailboxRef>> list(const Viewer& viewer) override;
  Result<std::optional<Snapshot>> open(const Viewer& viewer, std::string_view name) override;
  Result<std::string> read_message(const Viewer& viewer, const Snapshot& mailbox,
                                   const MessageEntry& message) override;

 private:
  users::UserStore& users_;
  MailboxStore& mailboxes_;
  Archive& archive_;
};

}  // namespace mailvault::imapd
