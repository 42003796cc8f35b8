// The SessionBackend of a running server: users from UserStore (argon2id), mailboxes from
// MailboxStore, message bytes from Archive::read_body (SHA-256 verified, or from the archive's
// cache of verified bodies) with one audit_log row per message read (action "imap_fetch",
// actor = user name, detail = mailbox and UID); SEARCH texts from Archive::search_text (the
// sidecar), folded and kept in one server-wide TextCache (and their header halves in a second,
// compact one); BODY candidates from the index (index::SubstringNarrower).
// Thread-safe (every member it uses is).
#pragma once

#include <memory>

#include "core/archive/archive.h"
#include "core/users/user_store.h"
#include "server-imap/session/mailbox_store.h"
#include "server-imap/session/session.h"
#include "server-imap/session/text_cache.h"

namespace mailvault::imapd {

class ArchiveBackend final : public SessionBackend {
 public:
  // Bytes of folded message text kept for SEARCH across all sessions.
  static constexpr std::size_t kDefaultTextCacheBytes = std::size_t{512} << 20;
  // Bytes of folded header text (SearchableHeader, about 1 KB a message) kept besides: enough
  // for the header fields of about 200,000 messages.
  static constexpr std::size_t kDefaultHeaderCacheBytes = std::size_t{256} << 20;

  // Borrows the first three for its lifetime. `narrower` (may be null: no narrowing) answers
  // body_candidates from the index.
  ArchiveBackend(users::UserStore& users, MailboxStore& mailboxes, Archive& archive,
                 std::unique_ptr<index::SubstringNarrower> narrower,
                 std::size_t text_cache_bytes = kDefaultTextCacheBytes,
                 std::size_t header_cache_bytes = kDefaultHeaderCacheBytes)
      : users_(users),
        mailboxes_(mailboxes),
        archive_(archive),
        narrower_(std::move(narrower)),
        texts_(text_cache_bytes),
        headers_(header_cache_bytes) {}

  Result<Viewer> authenticate(std::string_view user, std::string_view password) override;
  Result<std::vector<MailboxRef>> list(const Viewer& viewer) override;
  Result<std::optional<Snapshot>> open(const Viewer& viewer, std::string_view name) override;
  // One imap_fetch row per message, in one transaction.
  Status audit_reads(const Viewer& viewer, const Snapshot& mailbox,
                     const std::vector<const MessageEntry*>& messages) override;
  Result<MessageBytes> read_audited_message(const Viewer& viewer, const Snapshot& mailbox,
                                            const MessageEntry& message) override;
  Result<MessageBytes> read_message(const Viewer& viewer, const Snapshot& mailbox,
                                    const MessageEntry& message) override;

  // Archive::read_body is thread-safe.
  [[nodiscard]] bool reads_concurrently() const override { return true; }

  // One cheap query (MailboxStore::uidnext) while nothing arrived; the whole view is re-read
  // only when the archive grew (IDLE polls this every few seconds per idling client).
  Result<MailboxGrowth> newer(const Viewer& viewer, const Snapshot& current) override;
  // Header fields come from the raw header block (Archive::read_raw, header part only, decoded
  // with core/mime RFC 2047) when the sidecar kept none (a message GMime could not parse).
  Result<std::shared_ptr<const SearchableMessage>> searchable(const MessageEntry& message) override;
  // From the header cache, or made from a cached text, or loaded (then only the header half is
  // kept: a header scan does not fill the text cache with bodies).
  Result<std::shared_ptr<const SearchableHeader>> searchable_header(
      const MessageEntry& message) override;
  // From the narrower; nullopt (scan everything) when there is none or the index cannot be
  // read (logged).
  std::optional<index::SubstringCandidates> text_candidates(
      index::TextField field, std::string_view folded_needle) override;

 private:
  users::UserStore& users_;
  MailboxStore& mailboxes_;
  Archive& archive_;
  std::unique_ptr<index::SubstringNarrower> narrower_;
  // The folded text of a message, not cached.
  Result<std::shared_ptr<const SearchableMessage>> load(const MessageEntry& message);

  TextCache<SearchableMessage> texts_;
  TextCache<SearchableHeader> headers_;
};

}  // namespace mailvault::imapd
