#include "server-imap/session/archive_backend.h"

#include <fmt/format.h>

namespace mailvault::imapd {

Result<Viewer> ArchiveBackend::authenticate(std::string_view user, std::string_view password) {
  auto u = users_.authenticate(user, password);
  if (!u)
    return u.error();
  return Viewer{u->id, u->spec.name, u->sees_everything()};
}

Result<std::vector<MailboxRef>> ArchiveBackend::list(const Viewer& viewer) {
  return mailboxes_.list(viewer);
}

Result<std::optional<Snapshot>> ArchiveBackend::open(const Viewer& viewer, std::string_view name) {
  return mailboxes_.open(viewer, name);
}

Result<std::string> ArchiveBackend::read_message(const Viewer& viewer, const Snapshot& mailbox,
                                                 const MessageEntry& message) {
  auto raw = archive_.read_raw(message.id);
  if (!raw)
    return raw.error();
  if (auto st = archive_.audit(viewer.name, "imap_fetch", message.id,
                               fmt::format("{} uid {}", mailbox.name, to_int(message.uid)));
      !st)
    return st.error();
  return raw;
}

}  // namespace mailvault::imapd
