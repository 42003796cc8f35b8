#include "ingest/import/maildir.h"

#include <array>

namespace mailvault::ingest {

namespace {

struct FlagLetter {
  char letter;
  std::string_view flag;
};

// Output order of the IMAP flags.
constexpr std::array<FlagLetter, 5> kFlagLetters = {{
    {'S', "\\Seen"},
    {'R', "\\Answered"},
    {'F', "\\Flagged"},
    {'T', "\\Deleted"},
    {'D', "\\Draft"},
}};

enum class Match { kExact, kPrefix, kSuffix };

struct ControlName {
  std::string_view pattern;
  Match match;
  // Which software writes it.
  std::string_view owner;
};

constexpr std::array<ControlName, 19> kControlNames = {{
    {"dovecot", Match::kPrefix, "Dovecot index, uidlist, keywords"},
    {"maildirfolder", Match::kExact, "Maildir++ subfolder marker"},
    {"subscriptions", Match::kExact, "Dovecot/Courier subscription list"},
    {".mbsyncstate", Match::kPrefix, "mbsync state and journal"},
    {".uidvalidity", Match::kExact, "mbsync/isync UIDVALIDITY"},
    {".isyncuidmap.db", Match::kExact, "isync UID map"},
    {"courierimap", Match::kPrefix, "Courier IMAP uid db, keywords, ACLs"},
    {"courierpop3dsizelist", Match::kExact, "Courier POP3"},
    {".lock", Match::kSuffix, "lock files"},
    {".msf", Match::kSuffix, "Thunderbird mail summary files"},
    {".DS_Store", Match::kExact, "macOS Finder"},
    {"._", Match::kPrefix, "macOS AppleDouble files"},
    {"Thumbs.db", Match::kExact, "Windows Explorer"},
    {"desktop.ini", Match::kExact, "Windows Explorer"},
    {".notmuch", Match::kExact, "notmuch database"},
    {".git", Match::kExact, "version control"},
    {".hg", Match::kExact, "version control"},
    {".svn", Match::kExact, "version control"},
    {"lost+found", Match::kExact, "fsck"},
}};

}  // namespace

std::vector<std::string> maildir_flags(std::string_view file_name) {
  std::vector<std::string> flags;
  std::size_t info = std::string_view::npos;
  for (std::string_view separator : {":2,", "!2,", ";2,"}) {
    const std::size_t at = file_name.rfind(separator);
    if (at != std::string_view::npos && (info == std::string_view::npos || at > info)) {
      info = at;
    }
  }
  if (info == std::string_view::npos) {
    return flags;
  }
  const std::string_view letters = file_name.substr(info + 3);
  for (const auto& entry : kFlagLetters) {
    if (letters.find(entry.letter) != std::string_view::npos) {
      flags.emplace_back(entry.flag);
    }
  }
  return flags;
}

std::string maildir_plus_plus_folder(std::string_view dir_name) {
  if (dir_name.starts_with('.')) {
    dir_name.remove_prefix(1);
  }
  std::string folder(dir_name);
  for (char& c : folder) {
    if (c == '.') {
      c = '/';
    }
  }
  return folder;
}

bool is_mail_store_control_file(std::string_view name) noexcept {
  for (const auto& control : kControlNames) {
    switch (control.match) {
      case Match::kExact:
        if (name == control.pattern) {
          return true;
        }
        break;
      case Match::kPrefix:
        if (name.starts_with(control.pattern)) {
          return true;
        }
        break;
      case Match::kSuffix:
        if (name.ends_with(control.pattern)) {
          return true;
        }
        break;
    }
  }
  return false;
}

}  // namespace mailvault::ingest
