// Formatting IMAP commands (RFC 3501 §4, RFC 7888 LITERAL+/LITERAL-): tags, astrings as atom,
// quoted string or literal, and compressed UID sets. Pure; no I/O; thread-compatible.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace mailvault::ingest::imap {

enum class LiteralMode {
  kSynchronizing,  // "{n}" CRLF, then wait for a "+" continuation before sending the bytes
  kLiteralPlus,    // RFC 7888 LITERAL+: "{n+}" for every literal, no wait
  kLiteralMinus,   // RFC 7888 LITERAL-: "{n+}" up to 4096 bytes, synchronizing above
};

// A command ready to send. `parts[0]` is sent first; before each further part the client waits
// for a "+" continuation request (a synchronizing literal was announced at the end of the part
// before). Every part ends with CRLF except those that end in literal bytes followed by more
// command text (the CRLF then ends the last part). `log_text` is the whole command with secret
// arguments replaced by "***" and literal contents by "{n bytes}", for debug logs.
struct Command {
  std::string tag;
  std::vector<std::string> parts;
  std::string log_text;
};

class CommandBuilder {
 public:
  // Starts "<tag> <name>". `name` is sent as is ("UID FETCH", "LOGIN").
  CommandBuilder(std::string tag, std::string_view name, LiteralMode mode);

  // SP + text as is: atoms, sequence sets, parenthesised lists the caller built, SASL initial
  // responses (`secret` hides it in log_text).
  CommandBuilder& raw(std::string_view text, bool secret = false);

  // SP + the value as an atom if it is one (and not NIL), else as a quoted string if it is 7-bit
  // without CR/LF/NUL and at most 1024 bytes, else as a literal. `secret` hides it in log_text.
  CommandBuilder& astring(std::string_view value, bool secret = false);

  // Like astring() but never an atom (LOGIN arguments, LIST patterns).
  CommandBuilder& string(std::string_view value, bool secret = false);

  // Appends the final CRLF and returns the command. The builder is left empty.
  Command finish();

 private:
  void literal(std::string_view value, bool secret);
  void quoted(std::string_view value, bool secret);

  LiteralMode mode_;
  Command command_;
  std::string current_;
};

// True if `value` can be sent as a quoted string (7-bit, no CR, LF or NUL, at most 1024 bytes).
bool is_quotable(std::string_view value) noexcept;

// True if `value` is an atom (1*ATOM-CHAR, RFC 3501 §9).
bool is_atom(std::string_view value) noexcept;

// "1:5,7,9:12" for {1,2,3,4,5,7,9,10,11,12}. The input need not be sorted; duplicates are
// dropped. Empty input gives "".
std::string format_uid_set(std::span<const std::uint32_t> uids);

// Tags "A1", "A2", ...: unique per connection.
class TagGenerator {
 public:
  std::string next() { return "A" + std::to_string(++counter_); }

 private:
  std::uint64_t counter_ = 0;
};

}  // namespace mailvault::ingest::imap
