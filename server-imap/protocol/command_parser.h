// IMAP command parser: one complete command as delivered by CommandReader (literals inline)
// into a typed Command, driven by a command table (name, parse function, allowed session
// states, flags) in the manner of Dovecot's imap-commands.c.
//
// The parser checks syntax only. The session checks the state with allowed_in(), refuses
// commands flagged kChangesMail with NO [CANNOT], and answers every CommandError with BAD (or NO
// when is_no) under the error's tag, or `* BAD` when no tag could be read.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <variant>

#include "server-imap/protocol/command.h"
#include "server-imap/protocol/limits.h"

namespace mailvault::imapd {

enum class SessionState : std::uint8_t {
  kNotAuthenticated,
  kAuthenticated,
  kSelected,
  kLogout,
};

// Bit sets over SessionState and command properties.
enum StateMask : std::uint8_t {
  kInNotAuthenticated = 1U << 0U,
  kInAuthenticated = 1U << 1U,
  kInSelected = 1U << 2U,
  kInAnyState = kInNotAuthenticated | kInAuthenticated | kInSelected,
  kInAuthOrSelected = kInAuthenticated | kInSelected,
};

enum CommandFlag : std::uint8_t {
  kNoFlags = 0,
  kUsesUid = 1U << 0U,              // the UID form: sets are UIDs, responses carry UID
  kChangesMail = 1U << 1U,          // refused by a read-only server (NO [CANNOT])
  kUsesSequenceNumbers = 1U << 2U,  // must not run while EXPUNGEs are pending (RFC 3501 §5.5)
};

// One row of the command table.
struct CommandSpec {
  std::string_view name;  // "FETCH", "UID FETCH"
  std::uint8_t states;    // StateMask
  std::uint8_t flags;     // CommandFlag
};

// True when `spec` may run in `state`. kLogout allows nothing.
bool allowed_in(const CommandSpec& spec, SessionState state) noexcept;

// Every command this parser knows, in table order.
std::span<const CommandSpec> command_table() noexcept;

// The table row for a command name ("fetch", "UID FETCH"; case-insensitive), or nullptr.
const CommandSpec* find_command(std::string_view name) noexcept;

struct Command {
  std::string tag;
  const CommandSpec* spec = nullptr;  // never null in a parsed command
  CommandArgs args;
};

struct CommandError {
  enum class Kind : std::uint8_t {
    kSyntax,          // BAD: malformed command or arguments
    kUnknownCommand,  // BAD: no such command
    kNo,              // NO: well-formed but refused (BADCHARSET)
  };
  Kind kind = Kind::kSyntax;
  std::string tag;                    // "" when the line does not start with a valid tag
  std::string response_code;          // "" or e.g. "BADCHARSET (UTF-8 US-ASCII)", "CLIENTBUG"
  std::string message;                // human-readable, ASCII, no CR/LF
  std::size_t offset = 0;             // byte offset in the command where the problem was found
  const CommandSpec* spec = nullptr;  // the command, when its name was recognised
};

using ParseResult = std::variant<Command, CommandError>;

// Parses one command (tag SP name [SP arguments]), `text` being what CommandReader returned:
// no final CRLF; each literal as "{n}\r\n" followed by its n bytes. Pure and thread-safe; never
// throws except std::bad_alloc. Limits bound nesting, search depth and argument count (the
// reader has bounded the size already); recursion depth is at most Limits::max_search_depth.
ParseResult parse_command(std::string_view text, const Limits& limits = {});

// True for the line that ends IDLE ("DONE", case-insensitive, RFC 2177).
bool is_idle_done(std::string_view line) noexcept;

}  // namespace mailvault::imapd
