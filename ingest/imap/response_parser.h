// Incremental IMAP response parser: bytes (or lines and literals) in, Response values out.
//
// A pure core (no sockets, no clocks), fuzzable and testable byte by byte. Two layers:
//  * ResponseAssembler takes whole lines (without CRLF) and literal contents, which is how the
//    client reads from net::Connection (read_line / read_exact): literal bytes are read by the
//    caller straight into a std::string that is moved through to FetchData::body.
//  * ResponseParser takes arbitrary byte chunks (as from a fuzzer or a test feeding one byte at a
//    time), splits them into lines and literals and drives a ResponseAssembler; feeding the same
//    bytes in any chunking gives the same responses.
//
// A line that ends in "{n}" or "~{n}" (literal8) announces a literal of n bytes; the response
// continues after the literal with the next line. This is decided on the line alone, as every
// IMAP client does: a status text that happens to end in "{5}" is read as announcing a literal.
//
// Limits (ParserLimits) are checked before anything is allocated: a line longer than max_line,
// a literal announced larger than max_literal, more than max_literals literals in one response,
// or lists nested deeper than max_depth give kResourceExhausted. Syntax errors give
// kInvalidArgument. Every error message names the offending line's prefix (printable, at most
// 60 bytes). After an error the parser stays failed (every later call returns the same error):
// the byte stream cannot be resynchronised.
//
// Not thread-safe; one owner. Cheap to construct.
#pragma once

#include <cstddef>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/base/result.h"
#include "ingest/imap/response.h"

namespace mailvault::ingest::imap {

struct ParserLimits {
  std::size_t max_line = 64 * 1024;      // bytes in one line, without CRLF
  std::size_t max_literal = 256u << 20;  // bytes in one literal
  std::size_t max_literals = 64;         // literals in one response
  std::size_t max_depth = 32;            // nesting of parenthesised lists
};

// One response's text and literals, before parsing: `text` is the concatenation of its lines
// (without CRLF), and literal i is located at byte offset literals[i].first of `text` (just after
// its "{n}" marker).
struct RawResponse {
  std::string text;
  std::vector<std::pair<std::size_t, std::string>> literals;
};

// Parses one complete raw response. Literal contents are moved out of `raw`.
Result<Response> parse_response(RawResponse& raw, const ParserLimits& limits = {});

// Parses a sequence set of plain numbers ("1:3,7,9:12"); "*" is rejected. Ranges are returned
// as sent (first may be greater than last).
Result<std::vector<NumberRange>> parse_number_set(std::string_view text);

class ResponseAssembler {
 public:
  explicit ResponseAssembler(ParserLimits limits = {}) : limits_(limits) {}

  // What add_line() produced: either a complete response, or a request for a literal of `size`
  // bytes, to be passed to add_literal() before the next line.
  struct NeedLiteral {
    std::size_t size = 0;
  };

  using Step = std::variant<Response, NeedLiteral>;

  // `line` without its CRLF. Errors as described in the file comment; also kFailedPrecondition
  // if a literal was due.
  Result<Step> add_line(std::string_view line);

  // Exactly the announced number of bytes (kInvalidArgument otherwise). Takes ownership.
  Status add_literal(std::string bytes);

  // The literal size add_line() asked for and not yet supplied, or nullopt.
  [[nodiscard]] std::optional<std::size_t> pending_literal() const noexcept { return pending_; }

  [[nodiscard]] const ParserLimits& limits() const noexcept { return limits_; }

  // True between the first line of a response and its completion.
  [[nodiscard]] bool in_response() const noexcept { return !raw_.text.empty() || pending_; }

 private:
  Result<Step> fail(Error error);

  ParserLimits limits_;
  RawResponse raw_;
  std::optional<std::size_t> pending_;
  std::optional<Error> failed_;
};

class ResponseParser {
 public:
  explicit ResponseParser(ParserLimits limits = {}) : assembler_(limits) {}

  // Consumes all of `bytes`; complete responses are queued for next(). A bare LF ends a line as
  // well as CRLF.
  Status feed(std::string_view bytes);

  // The oldest complete response not yet taken, or nullopt.
  std::optional<Response> next();

  // True if no partial line, literal or response is buffered (a clean end of stream).
  [[nodiscard]] bool idle() const noexcept {
    return line_.empty() && !literal_ && !assembler_.in_response();
  }

 private:
  Status add_line();

  ResponseAssembler assembler_;
  std::string line_;
  std::optional<std::string> literal_;  // being filled while a literal is due
  std::size_t literal_size_ = 0;
  std::deque<Response> ready_;
  std::optional<Error> failed_;
};

}  // namespace mailvault::ingest::imap
