#include "server-imap/protocol/response_writer.h"

#include <algorithm>
#include <array>
#include <string>
#include <utility>

#include "core/base/mutf7.h"
#include "core/base/utf8.h"
#include "server-imap/protocol/cursor.h"
#include "server-imap/protocol/sequence_set.h"

namespace mailvault::imapd {
namespace {

bool can_quote(std::string_view s, const WriterOptions& options) {
  if (s.size() > options.max_quoted_bytes) {
    return false;
  }
  bool eight_bit = false;
  for (const char c : s) {
    if (c == '\r' || c == '\n' || c == '\0') {
      return false;
    }
    eight_bit = eight_bit || static_cast<unsigned char>(c) >= 0x80;
  }
  return !eight_bit || (options.utf8_accept && is_valid_utf8(s));
}

bool can_be_atom(std::string_view s) {
  if (s.empty() || detail::iequals(s, "NIL")) {
    return false;
  }
  return std::all_of(s.begin(), s.end(), [](char c) {
    return static_cast<unsigned char>(c) < 0x80 && detail::is_astring_char(c);
  });
}

}  // namespace

void ResponseWriter::separate() {
  if (need_space_) {
    out_ += ' ';
  }
  need_space_ = true;
}

ResponseWriter& ResponseWriter::untagged() {
  out_ += "* ";
  need_space_ = false;
  return *this;
}

ResponseWriter& ResponseWriter::tagged(std::string_view tag) {
  out_ += tag;
  out_ += ' ';
  need_space_ = false;
  return *this;
}

ResponseWriter& ResponseWriter::continuation() {
  out_ += "+ ";
  need_space_ = false;
  return *this;
}

ResponseWriter& ResponseWriter::atom(std::string_view text) {
  separate();
  out_ += text;
  return *this;
}

ResponseWriter& ResponseWriter::number(std::uint64_t n) {
  separate();
  out_ += std::to_string(n);
  return *this;
}

ResponseWriter& ResponseWriter::string(std::string_view s) {
  if (!can_quote(s, options_)) {
    return literal(s);
  }
  separate();
  out_ += '"';
  for (const char c : s) {
    if (c == '"' || c == '\\') {
      out_ += '\\';
    }
    out_ += c;
  }
  out_ += '"';
  return *this;
}

ResponseWriter& ResponseWriter::nstring(std::optional<std::string_view> s) {
  return s ? string(*s) : nil();
}

ResponseWriter& ResponseWriter::nil() {
  return atom("NIL");
}

ResponseWriter& ResponseWriter::astring(std::string_view s) {
  return can_be_atom(s) ? atom(s) : string(s);
}

ResponseWriter& ResponseWriter::mailbox(std::string_view utf8_name) {
  if (options_.utf8_accept) {
    return astring(utf8_name);
  }
  return astring(mutf7_encode(utf8_name));
}

ResponseWriter& ResponseWriter::literal(std::string_view s) {
  separate();
  out_ += '{';
  out_ += std::to_string(s.size());
  out_ += "}\r\n";
  out_ += s;
  return *this;
}

ResponseWriter& ResponseWriter::literal8(std::string_view s) {
  separate();
  out_ += "~{";
  out_ += std::to_string(s.size());
  out_ += "}\r\n";
  out_ += s;
  return *this;
}

ResponseWriter& ResponseWriter::sequence_set(std::vector<std::uint32_t> numbers) {
  if (numbers.empty()) {
    return *this;
  }
  return atom(compress_sequence_set(std::move(numbers)));
}

ResponseWriter& ResponseWriter::open_list() {
  separate();
  out_ += '(';
  need_space_ = false;
  return *this;
}

ResponseWriter& ResponseWriter::close_list() {
  out_ += ')';
  need_space_ = true;
  return *this;
}

ResponseWriter& ResponseWriter::status(StatusKind kind, std::string_view code,
                                       std::string_view message) {
  static constexpr std::array<std::string_view, 5> kNames = {"OK", "NO", "BAD", "PREAUTH", "BYE"};
  atom(kNames[static_cast<std::size_t>(kind)]);
  if (!code.empty()) {
    separate();
    out_ += '[';
    out_ += code;
    out_ += ']';
  }
  return text(message);
}

ResponseWriter& ResponseWriter::text(std::string_view human) {
  separate();
  for (const char c : human) {
    out_ += c == '\r' || c == '\n' || c == '\0' ? ' ' : c;
  }
  return *this;
}

ResponseWriter& ResponseWriter::end_line() {
  out_ += "\r\n";
  need_space_ = false;
  return *this;
}

std::string ResponseWriter::take() {
  std::string out = std::move(out_);
  out_.clear();
  need_space_ = false;
  return out;
}

std::string status_line(std::string_view tag, StatusKind kind, std::string_view code,
                        std::string_view text) {
  ResponseWriter w;
  if (tag.empty() || tag == "*") {
    w.untagged();
  } else {
    w.tagged(tag);
  }
  w.status(kind, code, text).end_line();
  return w.take();
}

std::string error_line(const CommandError& error) {
  const StatusKind kind =
      error.kind == CommandError::Kind::kNo ? StatusKind::kNo : StatusKind::kBad;
  return status_line(error.tag, kind, error.response_code, error.message);
}

std::string error_line(const ReaderEvent& event) {
  const StatusKind kind =
      event.error == ReadError::kLiteralRefused ? StatusKind::kNo : StatusKind::kBad;
  std::string out = status_line(event.tag, kind, event.response_code, event.message);
  if (event.fatal) {
    out += status_line("*", StatusKind::kBye, "", "Too much data without synchronisation");
  }
  return out;
}

std::string search_line(const std::vector<std::uint32_t>& numbers) {
  ResponseWriter w;
  w.untagged().atom("SEARCH");
  for (const std::uint32_t n : numbers) {
    w.number(n);
  }
  return w.end_line().take();
}

std::string esearch_line(std::string_view tag, bool uid, const SearchReturn& options,
                         std::vector<std::uint32_t> matches) {
  ResponseWriter w;
  w.untagged().atom("ESEARCH").open_list().atom("TAG").string(tag).close_list();
  if (uid) {
    w.atom("UID");
  }
  if (!matches.empty()) {
    const auto [min, max] = std::minmax_element(matches.begin(), matches.end());
    if (options.min) {
      w.atom("MIN").number(*min);
    }
    if (options.max) {
      w.atom("MAX").number(*max);
    }
  }
  if (options.count) {
    std::sort(matches.begin(), matches.end());
    matches.erase(std::unique(matches.begin(), matches.end()), matches.end());
    w.atom("COUNT").number(matches.size());
  }
  if (options.all && !matches.empty()) {
    w.atom("ALL").sequence_set(std::move(matches));
  }
  return w.end_line().take();
}

}  // namespace mailvault::imapd
