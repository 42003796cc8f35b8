// Incremental IMAP command reader: bytes from the socket in, complete commands (with their
// literals) out. Pure: no I/O, no clock; the session feeds what it read and acts on each event.
//
// Usage (the session's loop):
//
//   reader.feed(bytes_from_socket);
//   for (ReaderEvent e = reader.next(); e.status != ReadStatus::kNeedMore; e = reader.next()) {
//     switch (e.status) {
//       case ReadStatus::kCommand:       parse_command(e.command) ...; break;
//       case ReadStatus::kContinuation:  send "+ Ready for literal data\r\n"; break;
//       case ReadStatus::kError:         send "<tag or *> BAD/NO [code] message";
//                                        if (e.fatal) close the connection; break;
//     }
//   }
//
// Literals (RFC 3501 §4.3, RFC 7888, RFC 3516): a line ending in "{n}" announces a synchronising
// literal: the reader reports kContinuation (the client waits for "+") and then takes the next
// n bytes verbatim. "{n+}" is non-synchronising (LITERAL+/LITERAL-: the data follows at once).
// "~{n}" / "~{n+}" is a literal8. "{n-}" is not a literal (RFC 7888 spells LITERAL- literals
// "{n+}" too). A line is a literal announcement only outside a quoted string.
//
// Limits (limits.h) are checked before anything is buffered:
//   - a line longer than max_line_bytes (summed over the lines of one command, literals
//     excluded) is refused (kLineTooLong) and the rest of that line is skipped up to LF without
//     being stored;
//   - a synchronising literal larger than max_literal_bytes, or one that would take the command
//     beyond max_command_bytes, or one announced by a command in refused_literal_commands
//     (APPEND by default: a read-only server never reads a message upload), is refused at its
//     announcement: no "+" is due, the client abandons the command, and reading resumes with
//     the next line;
//   - a non-synchronising literal over max_nonsync_literal_bytes (or any of the limits above)
//     is fatal: its data is already on the way, so the stream cannot be resynchronised; the
//     session answers and closes.
// Lines end in CRLF; a bare LF is accepted too. Bytes are passed through unvalidated (8-bit,
// invalid UTF-8, NUL): the parser decides. An empty line is returned as an empty command.
//
// Thread safety: none (one reader per connection).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "server-imap/protocol/limits.h"

namespace mailvault::imapd {

enum class ReadStatus : std::uint8_t {
  kNeedMore,      // everything fed so far is consumed; feed more
  kCommand,       // ReaderEvent::command is one complete command
  kContinuation,  // a synchronising literal was accepted: send a continuation request ("+ ")
  kError,         // the current command was refused; see ReaderEvent::error
};

enum class ReadError : std::uint8_t {
  kNone,
  kLineTooLong,      // BAD [TOOBIG]
  kLiteralTooLarge,  // BAD [TOOBIG] (fatal when non-synchronising)
  kCommandTooLarge,  // BAD [TOOBIG] (fatal when non-synchronising)
  kLiteralRefused,   // NO [CANNOT]: the command may not carry a literal (APPEND)
};

struct ReaderEvent {
  ReadStatus status = ReadStatus::kNeedMore;
  // kCommand: the command without its final CRLF; each literal appears as "{n}\r\n" (or
  // "{n+}", "~{n}") followed by its n bytes, which is what parse_command() expects.
  std::string command;
  // kContinuation: the size of the literal that follows.
  std::uint64_t literal_size = 0;
  // kError:
  ReadError error = ReadError::kNone;
  std::string tag;            // the refused command's tag, or "" (answer "* BAD")
  std::string command_name;   // upper-cased, "" if unknown
  std::string message;        // human-readable, ASCII
  std::string response_code;  // "TOOBIG" (answer BAD) or "CANNOT" (answer NO)
  bool fatal = false;         // answer, then close the connection
};

class CommandReader {
 public:
  explicit CommandReader(Limits limits = {},
                         std::vector<std::string> refused_literal_commands = {"APPEND"});

  // Appends bytes from the client. Cheap; all work happens in next(). After a fatal error the
  // bytes are discarded.
  void feed(std::string_view bytes);

  // The next event, consuming input as far as needed for it. Returns kNeedMore when the input
  // is exhausted. Never throws except std::bad_alloc; memory held is bounded by the limits plus
  // the bytes fed and not yet consumed.
  ReaderEvent next();

  // True after a fatal error.
  [[nodiscard]] bool closed() const noexcept { return state_ == State::kClosed; }

  // Bytes fed but not consumed yet (the session may stop reading the socket above a bound).
  [[nodiscard]] std::size_t buffered() const noexcept { return in_.size() - in_pos_; }

  [[nodiscard]] const Limits& limits() const noexcept { return limits_; }

 private:
  enum class State : std::uint8_t { kLine, kLiteral, kSkipLine, kClosed };

  ReaderEvent end_of_line();
  ReaderEvent refuse(ReadError error, std::string message, bool fatal);
  void reset_command();

  Limits limits_;
  std::vector<std::string> refused_literal_commands_;
  State state_ = State::kLine;
  std::string in_;
  std::size_t in_pos_ = 0;
  std::string command_;         // the command being assembled
  std::size_t line_start_ = 0;  // offset in command_ of the current line
  std::size_t text_bytes_ = 0;  // non-literal bytes of the command so far
  std::uint64_t literal_left_ = 0;
  bool in_quote_ = false;
  bool escaped_ = false;
};

}  // namespace mailvault::imapd
