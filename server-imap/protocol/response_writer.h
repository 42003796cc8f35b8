// Builds IMAP response lines (RFC 3501 §7, RFC 9051 §7) into a byte buffer the session sends.
// Chooses the representation of each string: atom where allowed, quoted string when the bytes
// permit, otherwise a literal; items are separated by single spaces automatically.
//
//   ResponseWriter w;
//   w.untagged().number(12).atom("FETCH").open_list()
//    .atom("UID").number(7).atom("BODY[]").string(message).close_list().end_line();
//   w.tagged("a1").status(StatusKind::kOk, "READ-ONLY", "EXAMINE completed").end_line();
//   send(w.take());
//
// Not thread-safe; one writer per response batch. Never throws except std::bad_alloc.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "server-imap/protocol/command_parser.h"
#include "server-imap/protocol/command_reader.h"
#include "server-imap/protocol/search_keys.h"

namespace mailvault::imapd {

struct WriterOptions {
  // RFC 6855: the client sent ENABLE UTF8=ACCEPT, so quoted strings may carry UTF-8 and
  // mailbox names are sent as UTF-8 rather than modified UTF-7.
  bool utf8_accept = false;
  // Longer strings are sent as literals (cheaper for both sides; no escaping).
  std::size_t max_quoted_bytes = 1024;
};

enum class StatusKind : std::uint8_t { kOk, kNo, kBad, kPreauth, kBye };

class ResponseWriter {
 public:
  explicit ResponseWriter(WriterOptions options = {}) : options_(options) {}

  [[nodiscard]] const WriterOptions& options() const noexcept { return options_; }

  void set_utf8_accept(bool on) noexcept { options_.utf8_accept = on; }

  // Starts a line: "* ", "<tag> ", "+ ". A line must be ended with end_line() before the next.
  ResponseWriter& untagged();
  ResponseWriter& tagged(std::string_view tag);
  ResponseWriter& continuation();

  // Items (each preceded by a space unless first on the line or first in a list).
  // atom(): written verbatim; the caller guarantees the syntax (FETCH, \Seen, BODY[1]<0>).
  ResponseWriter& atom(std::string_view text);
  ResponseWriter& number(std::uint64_t n);
  // string(): quoted when the bytes allow (no CR, LF or NUL; 8-bit only if UTF8=ACCEPT and
  // valid UTF-8; not longer than max_quoted_bytes), otherwise a literal {n}.
  ResponseWriter& string(std::string_view s);
  ResponseWriter& nstring(std::optional<std::string_view> s);
  ResponseWriter& nil();
  // astring(): an atom when s is a non-empty run of ASTRING-CHAR other than NIL, else string().
  ResponseWriter& astring(std::string_view s);
  // mailbox(): a UTF-8 mailbox name, modified UTF-7 encoded unless UTF8=ACCEPT, as astring.
  ResponseWriter& mailbox(std::string_view utf8_name);
  ResponseWriter& literal(std::string_view s);
  // literal8 (~{n}) for BINARY[] data that contains NUL (RFC 3516).
  ResponseWriter& literal8(std::string_view s);
  // A compressed sequence set ("1:3,7") of the numbers, in any order; nothing when empty.
  ResponseWriter& sequence_set(std::vector<std::uint32_t> numbers);
  ResponseWriter& open_list();
  ResponseWriter& close_list();

  // "OK [code] text" after untagged()/tagged(); code without brackets, may be empty.
  ResponseWriter& status(StatusKind kind, std::string_view code, std::string_view message);
  // Human-readable rest of the line; CR, LF and NUL become spaces.
  ResponseWriter& text(std::string_view human);

  ResponseWriter& end_line();

  [[nodiscard]] const std::string& data() const noexcept { return out_; }

  // The bytes written so far; the writer is empty afterwards.
  std::string take();

 private:
  void separate();

  WriterOptions options_;
  std::string out_;
  bool need_space_ = false;
};

// One complete line "<tag|*> OK [code] text\r\n".
std::string status_line(std::string_view tag, StatusKind kind, std::string_view code,
                        std::string_view text);

// The answer to a command the parser refused: "<tag> BAD <message>\r\n" ("* BAD" without a
// tag), or "<tag> NO [BADCHARSET (UTF-8 US-ASCII)] <message>\r\n" for CommandError::kNo.
std::string error_line(const CommandError& error);

// The answer to a ReadStatus::kError event: "<tag> BAD [TOOBIG] ..." or "<tag> NO [CANNOT] ...",
// followed by "* BYE ..." when the event is fatal (the session then closes).
std::string error_line(const ReaderEvent& event);

// "* SEARCH 2 3 5\r\n" (numbers in the given order; "* SEARCH\r\n" when empty).
std::string search_line(const std::vector<std::uint32_t>& numbers);

// RFC 4731 "* ESEARCH (TAG "a1") UID MIN 2 MAX 9 COUNT 3 ALL 2,5,9\r\n" for the requested
// options. With no matches MIN, MAX and ALL are left out and COUNT 0 is given only if asked.
std::string esearch_line(std::string_view tag, bool uid, const SearchReturn& options,
                         std::vector<std::uint32_t> matches);

}  // namespace mailvault::imapd
