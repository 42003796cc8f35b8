// Mailbox views: what a user sees of the archive over IMAP, and the per-session snapshot of one
// mailbox. Pure values and functions; the SQL that fills them is in mailbox_store.h.
//
// Design (decided by the lead):
//
//   * `All Mail` holds every message the user may see, once. Its UID is messages.id: assigned
//     by the archive in arrival order (bigserial) and never changed, so UIDs are stable forever.
//   * `<account>/<folder>` for every (accounts.name, placements.folder) pair of the placements of
//     a visible message pulled from an account. A message placed twice in one folder appears
//     once; its UID there is the smallest placements.id of that message in that account/folder
//     (placement ids are arrival-ordered and never change either).
//   * `Imported/<folder>` the same for placements with source 'import' and no account
//     (`Imported` alone when the import had no folder name).
//   * One UIDVALIDITY for the whole archive, created once by migrations/0004_imap.sql and never
//     changed: UIDs never change, so no mailbox ever needs a new one.
//   * Visibility: an auditor or admin sees every message; a `user` sees a message that has a
//     message_addresses row for one of their addresses, or a placement from one of their accounts
//     (user_accounts.account_name = accounts.name). The folder views are filters of the same
//     visible set: a user granted an address sees `acct/INBOX` with only their messages in it.
//   * Per-message data of a view: RFC822.SIZE is messages.size; INTERNALDATE and FLAGS come from
//     the placement that gives the UID (in All Mail: the message's first placement), INTERNALDATE
//     falling back to messages.archived_at when the source gave none. Flags are as archived from
//     the source; nothing can change them (the server is read-only) and \Recent is never set.
//
// Names cannot collide: account names (migrations/0002) contain no '/' or space, so the first
// path component decides the kind. An account literally named "Imported" would share the
// `Imported/...` namespace with imports; its placements win the name lookup for account views
// (see parse_mailbox_name) — the store refuses nothing, so such a name is a known wart.
//
// UIDs are 32-bit in IMAP: a message or placement id above 2^32-1 cannot be shown (the store
// leaves it out and logs it). Known limit: bigserial values may commit out of order, so a
// message can become visible with a UID below the highest one a session already shows. NOOP and
// IDLE add only messages above that highest UID to a session's snapshot (sequence numbers must
// not move); such a late message appears at the next SELECT. (A fix: expose only ids below the
// oldest in-flight transaction's horizon.)
//
// Sequence numbers are positions in the snapshot's ascending UID list (1-based).
//
// Thread safety: plain values; a Snapshot is owned by one session.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/ids.h"
#include "server-imap/protocol/search_keys.h"
#include "server-imap/protocol/sequence_set.h"

namespace mailvault::imapd {

inline constexpr std::string_view kAllMailName = "All Mail";
inline constexpr std::string_view kImportedName = "Imported";
inline constexpr char kDelimiter = '/';

// Which view a mailbox name denotes.
struct MailboxRef {
  enum class Kind : std::uint8_t { kAllMail, kAccountFolder, kImportFolder };
  Kind kind = Kind::kAllMail;
  std::string account;  // kAccountFolder
  std::string folder;   // kAccountFolder, kImportFolder ("" for plain `Imported`)
  friend bool operator==(const MailboxRef&, const MailboxRef&) = default;
};

// The IMAP name (UTF-8) of a view.
std::string mailbox_name(const MailboxRef& ref);

// The views a name may denote (UTF-8, as decoded from the client). `All Mail` exactly;
// `Imported` and `Imported/<folder>` give an import view first and, for `Imported/<folder>`, an
// account view (account "Imported") second; `<account>/<folder>` an account view. Names that
// cannot denote a view (no '/', empty parts) give nothing. Pure.
std::vector<MailboxRef> parse_mailbox_name(std::string_view name);

// The system flags of a message as archived (placements.flags, space-separated, any case).
struct MessageFlags {
  bool answered = false;
  bool deleted = false;
  bool draft = false;
  bool flagged = false;
  bool seen = false;
  std::vector<std::string> keywords;  // as written, without duplicates (case-insensitively)
  friend bool operator==(const MessageFlags&, const MessageFlags&) = default;
};

// Parses placements.flags. System flags are recognised case-insensitively and written back in
// their canonical spelling; \Recent and other unknown backslash flags are dropped (a read-only
// archive has no recent messages); other tokens are keywords. Pure.
MessageFlags parse_flags(std::string_view text);

// "\Answered \Seen $Label" in canonical order (system flags first, then keywords).
std::string format_flags(const MessageFlags& flags);

bool has_keyword(const MessageFlags& flags, std::string_view keyword) noexcept;

// One message of a mailbox snapshot.
struct MessageEntry {
  Uid uid{};
  MessageId id{};
  std::uint64_t size = 0;
  std::int64_t internal_date = 0;         // unix seconds
  std::optional<std::int64_t> sent_date;  // Date: header (unix seconds), if parsable
  std::int32_t sent_zone_minutes = 0;     // the Date: header's zone, minutes east of UTC
  MessageFlags flags;
};

// A selected mailbox as of SELECT/EXAMINE: UIDs ascending, sequence number = index + 1.
struct Snapshot {
  MailboxRef ref;
  std::string name;
  std::uint32_t uidvalidity = 0;
  std::uint32_t uidnext = 1;
  std::vector<MessageEntry> messages;
  // The SEARCHRES saved result `$` (RFC 5182): indexes (ascending) that the last SEARCH RETURN
  // (SAVE) on this snapshot saved; empty after SELECT/EXAMINE, as RFC 5182 requires.
  std::vector<std::size_t> saved;

  [[nodiscard]] std::uint32_t exists() const noexcept {
    return static_cast<std::uint32_t>(messages.size());
  }

  [[nodiscard]] Uid max_uid() const noexcept {
    return messages.empty() ? Uid{0} : messages.back().uid;
  }

  // Indexes (0-based, ascending, unique) of the messages a set names: sequence numbers or
  // UIDs according to the set's kind; numbers that name no message are ignored. A saved set
  // (`$`) names the saved result.
  [[nodiscard]] std::vector<std::size_t> resolve(const SequenceSet& set) const;
};

// Sorts by UID and drops duplicate UIDs (keeping the first), the invariant Snapshot relies on.
void normalise(std::vector<MessageEntry>& messages);

// LIST pattern matching (RFC 3501 §6.3.8): `*` matches anything, `%` anything but the
// delimiter; other characters match themselves (case-sensitively, except that a name starting
// with INBOX is not special here: there is no INBOX). Pure.
bool list_matches(std::string_view pattern, std::string_view name) noexcept;

// An entry of a LIST response: the mailboxes that exist and their parents that do not.
struct ListEntry {
  std::string name;
  bool selectable = true;  // false: \Noselect (a parent only)
  bool has_children = false;
  bool all = false;  // \All (RFC 6154): All Mail
};

// The LIST tree of these mailbox names: each name, plus every missing parent (\Noselect), with
// \HasChildren/\HasNoChildren worked out, sorted by name with All Mail first. Pure.
std::vector<ListEntry> list_tree(const std::vector<std::string>& names);

}  // namespace mailvault::imapd
