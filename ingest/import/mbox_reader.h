// Splitting an mbox file into messages, streaming: the reader keeps one buffer of
// `buffer_size` bytes and reports each message as (offset, length); the caller reads the bytes
// it wants. A pure function of a ByteSource, so tests and fuzzers feed it strings.
//
// Boundaries (see ingest/import/README.md for the reasoning and the corpus files behind it):
//  * The file starts with a From_ line ("From " at byte 0, after an optional UTF-8 BOM).
//  * A later line starting with "From " starts the next message when
//      (a) the line before it is empty ("\n" or "\r\n"), or
//      (b) it is a well-formed From_ line ("From - [date]" or "From <sender> <date>", with a
//          date parse_from_line_date() understands) and the line after it is a header field.
//          Netscape/Mozilla mboxes write no empty line before "From - ..." (mimekit's
//          content-length.mbox, gmime's substring.mbox).
//    Any other "From " line is body text ("From Russia with love" after a text line).
//  * The From_ line is not part of the message, and neither is the line break just before the
//    next From_ line (the empty separator line in (a), the last line's EOL in (b)).
//  * Content-Length: the first "Content-Length:" header of the top-level header block, counted
//    from the byte after the blank line that ends the header block, is used when it lands at the
//    end of the file, at a line break (optionally the only thing before EOF) followed by
//    "From ", or exactly at a "From " line start. Otherwise it is ignored and (a)/(b) apply. A
//    trusted Content-Length skips un-munged "From " lines in bodies.
//  * At the end of the file, an empty last line is the separator after the last message and is
//    dropped; otherwise the last message runs to EOF as is (truncated, no final newline).
//  * ">From " quoting is left alone: message bytes are exactly the file's bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/base/result.h"
#include "ingest/import/byte_source.h"

namespace mailvault::ingest {

struct MboxEntry {
  std::uint64_t from_line_offset = 0;  // first byte of the From_ line
  std::string from_line;               // From_ line without EOL (at most 1000 bytes)
  std::uint64_t offset = 0;            // first byte of the message (after the From_ line)
  std::uint64_t length = 0;            // message length in bytes (0: empty message)
};

struct MboxReaderOptions {
  std::size_t buffer_size =
      std::size_t{64} * 1024;  // read granularity; any value >= 1 gives the same result
};

// True if `head` (the first bytes of a file) is the start of an mbox: "From " at the start,
// after an optional UTF-8 BOM.
bool is_mbox_start(std::string_view head) noexcept;

// Seconds since the epoch of the date in a From_ line ("From sender Sat Jan  3 01:05:34 1996",
// also with a zone before or after the year, or an RFC 5322 style date), or nullopt when the
// line has none ("From - "). Dates without a zone are taken as UTC.
std::optional<std::int64_t> parse_from_line_date(std::string_view from_line) noexcept;

// True if `line` is a well-formed From_ line: "From - " optionally followed by a date, or
// "From <sender> <date>" with a date parse_from_line_date() accepts.
bool is_strict_from_line(std::string_view line) noexcept;

class MboxReader {
 public:
  // `source` must outlive the reader and start with a From_ line (is_mbox_start()).
  explicit MboxReader(const ByteSource& source, MboxReaderOptions options = {});

  // The next message, nullopt at the end of the file. Errors: kInvalidArgument if the source
  // does not start with a From_ line; kDataLoss when reading fails. After an error the reader
  // stays at the end.
  Result<std::optional<MboxEntry>> next();

 private:
  struct Line {
    std::uint64_t begin = 0;
    std::uint64_t end = 0;  // after the '\n', or EOF
    std::string head;       // the first kHeadBytes bytes of the line
    bool crlf = false;      // ends with "\r\n"
    [[nodiscard]] bool is_empty() const noexcept;
  };

  static constexpr std::size_t kHeadBytes = 1000;

  Result<bool> read_line(Line& line);
  // Reads the message that starts at `start` (after its From_ line); returns its end and leaves
  // pos_ at the next From_ line or at EOF.
  Result<std::uint64_t> scan_message(std::uint64_t start);
  Result<bool> starts_message(const Line& line, bool previous_empty);

  struct Jump {
    std::uint64_t end;   // end of the message
    std::uint64_t next;  // start of the next From_ line (or EOF)
  };

  Result<std::optional<Jump>> try_content_length(std::uint64_t message_start,
                                                 std::uint64_t body_start,
                                                 std::uint64_t content_length);

  const ByteSource& source_;
  std::size_t buffer_size_;
  std::string buffer_;  // bytes [buffer_offset_, buffer_offset_ + buffer_.size()) of source_
  std::uint64_t buffer_offset_ = 0;
  std::uint64_t pos_ = 0;  // next byte to read
  bool started_ = false;
};

}  // namespace mailvault::ingest
