// The walker behind `mailvault import PATH...`: turns files and directories (Maildir, mbox,
// single-message files such as .eml) into a stream of raw messages, byte for byte, plus a
// stream of problems for everything it skipped. The rules are in ingest/import/README.md.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace mailvault::ingest {

struct SourceMessage {
  std::string path;                     // file it came from
  std::optional<std::uint64_t> offset;  // byte offset of the message (after the From_ line) in an
                                        // mbox; nullopt for single-message files
  std::string raw;                      // the exact bytes of the message
  // Logical folder: for a Maildir, "INBOX" when it is the given path itself, else its path
  // relative to the given directory, with Maildir++ subfolders translated (".Sub.Folder" ->
  // "Sub/Folder"); for an mbox, its file name without extension (prefixed by its directory
  // relative to the given directory when nested); for any other file, its directory relative to
  // the given directory ("" at the top).
  std::string folder;
  std::int64_t internal_date = 0;  // seconds since epoch: Maildir/eml file mtime; mbox From_
                                   // line date when parseable, else 0
  std::vector<std::string> flags;  // Maildir info flags mapped to IMAP (\Seen \Answered \Flagged
                                   // \Deleted \Draft), from ":2,FRS..."
};

struct SourceProblem {
  std::string path;
  std::optional<std::uint64_t> offset;  // message offset in an mbox, when it concerns one
  std::string reason;
};

struct ImportScanOptions {
  std::uint64_t max_message_size = 256ULL << 20;
  // Follow symbolic links found inside directories. Paths given to scan_sources() are always
  // followed. Loops and directories reached twice are reported, never walked twice.
  bool follow_symlinks = false;
};

struct ScanSummary {
  std::uint64_t messages = 0;
  std::uint64_t problems = 0;
};

// Calls on_message for every message found under `paths` and on_problem for everything skipped
// (with a reason such as "no such file or directory", "empty file", "not an RFC 5322 message
// (binary data)", "message is N bytes, over the limit of M"). Paths are handled in the order
// given; within each, files come in byte order of their full path (a directory's entries sorted
// by name, directories compared as "name/"), and an mbox's messages by offset. Known mail-store
// control files (maildir.h) are skipped silently. Never throws for bad input (exceptions thrown
// by the callbacks propagate). Memory: one message at a time plus one directory listing per
// level; mbox files are streamed. Not thread-safe with respect to the callbacks (called on the
// calling thread, one at a time).
ScanSummary scan_sources(const std::vector<std::string>& paths, const ImportScanOptions& options,
                         const std::function<void(SourceMessage&&)>& on_message,
                         const std::function<void(SourceProblem&&)>& on_problem);

}  // namespace mailvault::ingest
