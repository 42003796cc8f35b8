#include "server-imap/session/archive_backend.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "server-imap/session/message_text.h"

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

Result<MailboxGrowth> ArchiveBackend::newer(const Viewer& viewer, const Snapshot& current) {
  auto next = mailboxes_.uidnext(current.ref);
  if (!next)
    return next.error();
  if (*next <= current.uidnext)
    return MailboxGrowth{{}, current.uidnext};
  return SessionBackend::newer(viewer, current);
}

Result<MessageBytes> ArchiveBackend::read_message(const Viewer& viewer, const Snapshot& mailbox,
                                                  const MessageEntry& message) {
  auto raw = archive_.read_body(message.id);
  if (!raw)
    return raw.error();
  if (auto st = archive_.audit(viewer.name, "imap_fetch", message.id,
                               fmt::format("{} uid {}", mailbox.name, to_int(message.uid)));
      !st)
    return st.error();
  return raw;
}

Status ArchiveBackend::audit_reads(const Viewer& viewer, const Snapshot& mailbox,
                                   const std::vector<const MessageEntry*>& messages) {
  std::vector<Archive::AuditEntry> entries;
  entries.reserve(messages.size());
  for (const MessageEntry* m : messages)
    entries.push_back({m->id, fmt::format("{} uid {}", mailbox.name, to_int(m->uid))});
  return archive_.audit_many(viewer.name, "imap_fetch", entries);
}

Result<MessageBytes> ArchiveBackend::read_audited_message(const Viewer& /*viewer*/,
                                                          const Snapshot& /*mailbox*/,
                                                          const MessageEntry& message) {
  return archive_.read_body(message.id);
}

Result<std::shared_ptr<const SearchableMessage>> ArchiveBackend::searchable(
    const MessageEntry& message) {
  if (auto hit = texts_.find(message.id))
    return hit;
  auto text = load(message);
  if (!text)
    return text.error();
  if (!headers_.find(message.id))
    headers_.put(message.id,
                 std::make_shared<const SearchableHeader>(make_searchable_header(**text)));
  return texts_.put(message.id, std::move(*text));
}

Result<std::shared_ptr<const SearchableHeader>> ArchiveBackend::searchable_header(
    const MessageEntry& message) {
  if (auto hit = headers_.find(message.id))
    return hit;
  auto text = texts_.find(message.id);
  if (!text) {
    auto loaded = load(message);
    if (!loaded)
      return loaded.error();
    text = std::move(*loaded);
  }
  return headers_.put(message.id,
                      std::make_shared<const SearchableHeader>(make_searchable_header(*text)));
}

Result<std::shared_ptr<const SearchableMessage>> ArchiveBackend::load(const MessageEntry& message) {
  auto parsed = archive_.search_text(message.id);
  if (!parsed)
    return parsed.error();
  if (parsed->headers.empty()) {
    auto raw = archive_.read_raw(message.id);
    if (!raw)
      return raw.error();
    parsed->headers = parse_header_block(header_of(*raw));
  }
  return std::make_shared<const SearchableMessage>(make_searchable(*parsed));
}

std::optional<index::SubstringCandidates> ArchiveBackend::text_candidates(
    index::TextField field, std::string_view folded_needle) {
  if (!narrower_)
    return std::nullopt;
  auto c = narrower_->candidates(field, folded_needle);
  if (!c) {
    spdlog::warn("imap: SEARCH scans every message: {}", c.error().message);
    return std::nullopt;
  }
  return std::move(*c);
}

}  // namespace mailvault::imapd
