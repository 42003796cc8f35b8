// Maildir naming rules (https://cr.yp.to/proto/maildir.html, Maildir++ folders) and the table
// of mail-store control files the importers skip. Pure functions of names.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace mailvault::ingest {

// IMAP system flags from a Maildir file name's info part "<unique>:2,<flags>" (also "!2," and
// ";2,", which mbsync and Windows ports use because ':' is not allowed there), in the order
// \Seen \Answered \Flagged \Deleted \Draft: S -> \Seen, R -> \Answered, F -> \Flagged,
// T -> \Deleted, D -> \Draft. P (passed) and lower-case keyword letters have no IMAP system
// flag and are ignored. A name without info gives no flags.
std::vector<std::string> maildir_flags(std::string_view file_name);

// The folder path of a Maildir++ subfolder directory name: ".Sub.Folder" -> "Sub/Folder".
// `dir_name` must start with '.'.
std::string maildir_plus_plus_folder(std::string_view dir_name);

// True for directory entries that belong to mail software rather than to the mail: Dovecot
// indexes and uidlists (dovecot*), Maildir++ "maildirfolder" markers, mbsync/isync state,
// Courier IMAP databases, "subscriptions", lock files (*.lock), Thunderbird summaries (*.msf),
// macOS Finder files (.DS_Store, ._*), the notmuch database directory (.notmuch) and VCS
// directories. The importers skip them without reporting a problem.
bool is_mail_store_control_file(std::string_view name) noexcept;

}  // namespace mailvault::ingest
