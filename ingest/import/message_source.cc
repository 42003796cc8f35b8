#include "ingest/import/message_source.h"

#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <map>
#include <memory>
#include <set>
#include <string_view>
#include <utility>

#include "ingest/import/byte_source.h"
#include "ingest/import/maildir.h"
#include "ingest/import/mbox_reader.h"
#include "ingest/import/message_check.h"

namespace mailvault::ingest {

namespace {

// Deeper trees are refused rather than risking the stack (loops are caught separately).
constexpr std::size_t kMaxDepth = 256;

enum class EntryType { kFile, kDirectory, kSymlinkNotFollowed, kOther, kError };

struct DirEntry {
  std::string name;
  std::string path;
  EntryType type = EntryType::kOther;
  std::string error;  // for kError
  std::string sort_key;
};

// How a regular file is read.
enum class FileMode {
  kAuto,            // by content: an mbox if it starts with a From_ line (not for *.eml)
  kMaildirMessage,  // a file in a Maildir's cur/ or new/: always one message
};

struct DirCloser {
  void operator()(DIR* dir) const noexcept { ::closedir(dir); }
};

using DirPtr = std::unique_ptr<DIR, DirCloser>;

using FileId = std::pair<dev_t, ino_t>;

std::string join_path(const std::string& dir, std::string_view name) {
  std::string out = dir;
  if (!out.empty() && out.back() != '/') {
    out += '/';
  }
  out += name;
  return out;
}

std::string join_folder(std::string_view parent, std::string_view child) {
  if (parent.empty()) {
    return std::string(child);
  }
  std::string out(parent);
  out += '/';
  out += child;
  return out;
}

std::string_view base_name(std::string_view path) {
  while (path.size() > 1 && path.ends_with('/')) {
    path.remove_suffix(1);
  }
  const std::size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

bool has_extension(std::string_view name, std::string_view extension) {
  if (name.size() <= extension.size()) {
    return false;
  }
  const std::string_view tail = name.substr(name.size() - extension.size());
  return std::equal(tail.begin(), tail.end(), extension.begin(), [](char a, char b) {
    return (a >= 'A' && a <= 'Z' ? static_cast<char>(a + 32) : a) == b;
  });
}

// File name without its last extension ("Sent.mbox" -> "Sent"; ".hidden" stays).
std::string_view stem(std::string_view name) {
  const std::size_t dot = name.rfind('.');
  return dot == std::string_view::npos || dot == 0 ? name : name.substr(0, dot);
}

std::string too_big(std::uint64_t size, std::uint64_t limit) {
  return "message is " + std::to_string(size) + " bytes, over the limit of " +
         std::to_string(limit);
}

std::string stat_error(int error_number) {
  return error_number == ENOENT ? "no such file or directory" : errno_text(error_number);
}

class Scanner {
 public:
  Scanner(const ImportScanOptions& options, const std::function<void(SourceMessage&&)>& on_message,
          const std::function<void(SourceProblem&&)>& on_problem)
      : options_(options), on_message_(on_message), on_problem_(on_problem) {}

  void scan_argument(const std::string& path);

  [[nodiscard]] const ScanSummary& summary() const { return summary_; }

 private:
  void problem(const std::string& path, std::optional<std::uint64_t> offset, std::string reason);
  void message(SourceMessage&& message);

  void scan_directory(const std::string& path, const std::string& folder, bool top,
                      std::size_t depth);
  void scan_directory_entries(const std::string& path, const std::string& folder, bool top,
                              std::size_t depth);
  void scan_maildir_messages(const std::string& dir, const std::string& folder);
  // Reports an entry that is neither a file nor a directory we can read.
  void report_unusable(const DirEntry& entry);
  void scan_file(const std::string& path, std::string_view name, const std::string& folder,
                 FileMode mode);
  void scan_single(const FileByteSource& source, const std::string& path, const std::string& folder,
                   std::vector<std::string> flags);
  void scan_mbox(const FileByteSource& source, const std::string& path, const std::string& folder);

  Result<std::vector<DirEntry>> list_directory(const std::string& path) const;
  [[nodiscard]] bool is_maildir(const std::string& path) const;
  [[nodiscard]] bool is_directory(const std::string& path) const;

  const ImportScanOptions& options_;
  const std::function<void(SourceMessage&&)>& on_message_;
  const std::function<void(SourceProblem&&)>& on_problem_;
  ScanSummary summary_;
  std::map<FileId, std::string> scanned_directories_;
  std::set<FileId> open_directories_;  // the current path from the top, for loop detection
};

void Scanner::problem(const std::string& path, std::optional<std::uint64_t> offset,
                      std::string reason) {
  ++summary_.problems;
  on_problem_(SourceProblem{path, offset, std::move(reason)});
}

void Scanner::message(SourceMessage&& message) {
  ++summary_.messages;
  on_message_(std::move(message));
}

void Scanner::scan_argument(const std::string& path) {
  struct stat st = {};
  if (::stat(path.c_str(), &st) != 0) {
    problem(path, std::nullopt, stat_error(errno));
    return;
  }
  if (S_ISDIR(st.st_mode)) {
    scan_directory(path, "", /*top=*/true, 0);
  } else if (S_ISREG(st.st_mode)) {
    scan_file(path, base_name(path), "", FileMode::kAuto);
  } else {
    problem(path, std::nullopt, "not a regular file or directory");
  }
}

bool Scanner::is_directory(const std::string& path) const {
  struct stat st = {};
  const int rc = options_.follow_symlinks ? ::stat(path.c_str(), &st) : ::lstat(path.c_str(), &st);
  return rc == 0 && S_ISDIR(st.st_mode);
}

bool Scanner::is_maildir(const std::string& path) const {
  return is_directory(join_path(path, "cur")) || is_directory(join_path(path, "new")) ||
         is_directory(join_path(path, "tmp"));
}

Result<std::vector<DirEntry>> Scanner::list_directory(const std::string& path) const {
  DirPtr dir(::opendir(path.c_str()));
  if (!dir) {
    return make_error(Code::kUnavailable, "cannot open directory: " + errno_text(errno));
  }
  std::vector<DirEntry> entries;
  while (true) {
    errno = 0;
    const dirent* d = ::readdir(dir.get());
    if (d == nullptr) {
      if (errno != 0) {
        return make_error(Code::kUnavailable, "cannot read directory: " + errno_text(errno));
      }
      break;
    }
    const std::string_view name(d->d_name);
    if (name == "." || name == "..") {
      continue;
    }
    DirEntry entry;
    entry.name = std::string(name);
    entry.path = join_path(path, name);

    struct stat st = {};
    if (::lstat(entry.path.c_str(), &st) != 0) {
      entry.type = EntryType::kError;
      entry.error = stat_error(errno);
    } else if (S_ISLNK(st.st_mode) && !options_.follow_symlinks) {
      entry.type = EntryType::kSymlinkNotFollowed;
    } else if (S_ISLNK(st.st_mode) && ::stat(entry.path.c_str(), &st) != 0) {
      const int e = errno;
      entry.type = EntryType::kError;
      entry.error =
          e == ENOENT ? "dangling symbolic link" : "cannot follow symbolic link: " + errno_text(e);
    } else if (S_ISDIR(st.st_mode)) {
      entry.type = EntryType::kDirectory;
    } else if (S_ISREG(st.st_mode)) {
      entry.type = EntryType::kFile;
    } else {
      entry.type = EntryType::kOther;
    }
    // Directories sort as "name/", so that the walk visits files in byte order of full paths.
    entry.sort_key = entry.name;
    if (entry.type == EntryType::kDirectory) {
      entry.sort_key += '/';
    }
    entries.push_back(std::move(entry));
  }
  std::sort(entries.begin(), entries.end(),
            [](const DirEntry& a, const DirEntry& b) { return a.sort_key < b.sort_key; });
  return entries;
}

void Scanner::scan_directory(const std::string& path, const std::string& folder, bool top,
                             std::size_t depth) {
  struct stat st = {};
  if (::stat(path.c_str(), &st) != 0) {
    problem(path, std::nullopt, stat_error(errno));
    return;
  }
  const FileId id{st.st_dev, st.st_ino};
  if (auto seen = scanned_directories_.find(id); seen != scanned_directories_.end()) {
    problem(path, std::nullopt,
            open_directories_.contains(id)
                ? "symbolic link loop (leads back to " + seen->second + ")"
                : "directory already scanned as " + seen->second);
    return;
  }
  if (depth > kMaxDepth) {
    problem(path, std::nullopt,
            "directories nested too deeply (over " + std::to_string(kMaxDepth) + " levels)");
    return;
  }
  scanned_directories_.emplace(id, path);
  open_directories_.insert(id);
  scan_directory_entries(path, folder, top, depth);
  open_directories_.erase(id);
}

void Scanner::scan_directory_entries(const std::string& path, const std::string& folder, bool top,
                                     std::size_t depth) {
  auto entries = list_directory(path);
  if (!entries) {
    problem(path, std::nullopt, entries.error().message);
    return;
  }
  const bool maildir = std::any_of(entries->begin(), entries->end(), [](const DirEntry& e) {
    return e.type == EntryType::kDirectory &&
           (e.name == "cur" || e.name == "new" || e.name == "tmp");
  });
  // The messages of the Maildir given on the command line are the INBOX; a Maildir found
  // below is named by its path.
  const std::string messages_folder = top ? "INBOX" : folder;

  for (const DirEntry& entry : *entries) {
    if (is_mail_store_control_file(entry.name)) {
      continue;
    }
    switch (entry.type) {
      case EntryType::kError:
      case EntryType::kSymlinkNotFollowed:
      case EntryType::kOther:
        report_unusable(entry);
        break;
      case EntryType::kDirectory:
        if (maildir && (entry.name == "cur" || entry.name == "new")) {
          scan_maildir_messages(entry.path, messages_folder);
        } else if (maildir && entry.name == "tmp") {
          // Deliveries in progress: never read (maildir(5)).
        } else if (maildir && entry.name.starts_with('.') && is_maildir(entry.path)) {
          scan_directory(entry.path, join_folder(folder, maildir_plus_plus_folder(entry.name)),
                         false, depth + 1);
        } else {
          scan_directory(entry.path, join_folder(folder, entry.name), false, depth + 1);
        }
        break;
      case EntryType::kFile:
        scan_file(entry.path, entry.name, folder, FileMode::kAuto);
        break;
    }
  }
}

void Scanner::report_unusable(const DirEntry& entry) {
  switch (entry.type) {
    case EntryType::kError:
      problem(entry.path, std::nullopt, entry.error);
      break;
    case EntryType::kSymlinkNotFollowed:
      problem(entry.path, std::nullopt, "symbolic link not followed (follow_symlinks is off)");
      break;
    default:
      problem(entry.path, std::nullopt, "not a regular file or directory");
      break;
  }
}

void Scanner::scan_maildir_messages(const std::string& dir, const std::string& folder) {
  auto entries = list_directory(dir);
  if (!entries) {
    problem(dir, std::nullopt, entries.error().message);
    return;
  }
  for (const DirEntry& entry : *entries) {
    // maildir(5): names starting with a dot are not messages.
    if (entry.name.starts_with('.') || is_mail_store_control_file(entry.name)) {
      continue;
    }
    switch (entry.type) {
      case EntryType::kError:
      case EntryType::kSymlinkNotFollowed:
      case EntryType::kOther:
        report_unusable(entry);
        break;
      case EntryType::kDirectory:
        problem(entry.path, std::nullopt, "directory inside a Maildir cur/new folder, not scanned");
        break;
      case EntryType::kFile:
        scan_file(entry.path, entry.name, folder, FileMode::kMaildirMessage);
        break;
    }
  }
}

void Scanner::scan_file(const std::string& path, std::string_view name, const std::string& folder,
                        FileMode mode) {
  auto source = FileByteSource::open(path);
  if (!source) {
    problem(path, std::nullopt, source.error().message);
    return;
  }
  if (mode == FileMode::kMaildirMessage) {
    scan_single(*source, path, folder, maildir_flags(name));
    return;
  }
  if (source->size() == 0 && (has_extension(name, ".mbox") || has_extension(name, ".mbx"))) {
    return;  // an empty mailbox, not an empty message
  }
  auto head =
      source->read_string(0, static_cast<std::size_t>(std::min<std::uint64_t>(source->size(), 8)));
  if (!head) {
    problem(path, std::nullopt, head.error().message);
    return;
  }
  if (!has_extension(name, ".eml") && is_mbox_start(*head)) {
    scan_mbox(*source, path, join_folder(folder, stem(name)));
  } else {
    scan_single(*source, path, folder, {});
  }
}

void Scanner::scan_single(const FileByteSource& source, const std::string& path,
                          const std::string& folder, std::vector<std::string> flags) {
  const std::uint64_t size = source.size();
  if (size > options_.max_message_size) {
    problem(path, std::nullopt, too_big(size, options_.max_message_size));
    return;
  }
  // Sniff the head before reading the rest: a large binary file is refused after 64 KiB.
  const auto head_size = static_cast<std::size_t>(std::min<std::uint64_t>(size, kSniffBytes));
  auto raw = source.read_string(0, head_size);
  if (!raw) {
    problem(path, std::nullopt, raw.error().message);
    return;
  }
  if (auto refused = check_single_message(*raw)) {
    problem(path, std::nullopt, std::move(*refused));
    return;
  }
  if (size > head_size) {
    raw->resize(static_cast<std::size_t>(size));
    auto status = source.read_exactly(head_size, raw->data() + head_size, raw->size() - head_size);
    if (!status) {
      problem(path, std::nullopt, status.error().message);
      return;
    }
  }
  SourceMessage out;
  out.path = path;
  out.raw = std::move(*raw);
  out.folder = folder;
  out.internal_date = source.mtime();
  out.flags = std::move(flags);
  message(std::move(out));
}

void Scanner::scan_mbox(const FileByteSource& source, const std::string& path,
                        const std::string& folder) {
  MboxReader reader(source);
  while (true) {
    auto entry = reader.next();
    if (!entry) {
      problem(path, std::nullopt, entry.error().message);
      return;
    }
    if (!*entry) {
      return;
    }
    const MboxEntry& e = **entry;
    if (e.length == 0) {
      problem(path, e.offset, "empty message");
      continue;
    }
    if (e.length > options_.max_message_size) {
      problem(path, e.offset, too_big(e.length, options_.max_message_size));
      continue;
    }
    auto raw = source.read_string(e.offset, static_cast<std::size_t>(e.length));
    if (!raw) {
      problem(path, e.offset, raw.error().message);
      return;
    }
    SourceMessage out;
    out.path = path;
    out.offset = e.offset;
    out.raw = std::move(*raw);
    out.folder = folder;
    out.internal_date = parse_from_line_date(e.from_line).value_or(0);
    message(std::move(out));
  }
}

}  // namespace

ScanSummary scan_sources(const std::vector<std::string>& paths, const ImportScanOptions& options,
                         const std::function<void(SourceMessage&&)>& on_message,
                         const std::function<void(SourceProblem&&)>& on_problem) {
  Scanner scanner(options, on_message, on_problem);
  for (const std::string& path : paths) {
    scanner.scan_argument(path);
  }
  return scanner.summary();
}

}  // namespace mailvault::ingest
