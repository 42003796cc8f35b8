#include "server-imap/session/message_text.h"

#include <time.h>

#include <array>

#include <fmt/format.h>

namespace mailvault::imapd {

HeaderSplit split_header(std::string_view raw) noexcept {
  std::size_t line = 0;
  while (line < raw.size()) {
    // An empty line: LF alone or CRLF at the start of a line.
    if (raw[line] == '\n')
      return {line + 1};
    if (raw[line] == '\r' && line + 1 < raw.size() && raw[line + 1] == '\n')
      return {line + 2};
    const auto lf = raw.find('\n', line);
    if (lf == std::string_view::npos)
      break;
    line = lf + 1;
  }
  return {raw.size()};
}

namespace {

bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size())
    return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    auto lower = [](char c) {
      return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    };
    if (lower(a[i]) != lower(b[i]))
      return false;
  }
  return true;
}

}  // namespace

std::string header_fields(std::string_view raw, const std::vector<std::string>& names, bool keep) {
  const auto header = header_of(raw);
  std::string out;
  std::size_t pos = 0;
  bool current = false;  // the field being copied (continuation lines follow their field)
  while (pos < header.size()) {
    auto lf = header.find('\n', pos);
    const std::size_t end = lf == std::string_view::npos ? header.size() : lf + 1;
    const auto line = header.substr(pos, end - pos);
    pos = end;
    if (line == "\n" || line == "\r\n")
      break;  // the empty line that ends the header
    if (line.front() == ' ' || line.front() == '\t') {
      if (current)
        out += line;
      continue;
    }
    const auto colon = line.find(':');
    auto name = line.substr(0, colon == std::string_view::npos ? 0 : colon);
    while (!name.empty() && (name.back() == ' ' || name.back() == '\t'))
      name.remove_suffix(1);
    bool listed = false;
    for (const auto& n : names) {
      if (iequals(n, name)) {
        listed = true;
        break;
      }
    }
    current = colon != std::string_view::npos && listed == keep;
    if (current) {
      out += line;
      if (out.back() != '\n')
        out += "\r\n";  // a last header line without a line end
    }
  }
  out += "\r\n";
  return out;
}

std::string_view partial_range(std::string_view data, std::uint32_t offset,
                               std::optional<std::uint32_t> length) noexcept {
  if (offset >= data.size())
    return {};
  auto rest = data.substr(offset);
  if (length && *length < rest.size())
    rest = rest.substr(0, *length);
  return rest;
}

std::string format_internal_date(std::int64_t unix_seconds) {
  static constexpr std::array<const char*, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                          "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const auto t = static_cast<time_t>(unix_seconds);

  struct tm tm {};

  gmtime_r(&t, &tm);
  return fmt::format("{:2}-{}-{:04} {:02}:{:02}:{:02} +0000", tm.tm_mday,
                     kMonths[static_cast<std::size_t>(tm.tm_mon)], tm.tm_year + 1900, tm.tm_hour,
                     tm.tm_min, tm.tm_sec);
}

}  // namespace mailvault::imapd
