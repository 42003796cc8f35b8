#include "ingest/imap/text.h"

#include <algorithm>
#include <array>
#include <vector>

#include "core/base/mutf7.h"
#include "core/base/utf8.h"

namespace mailvault::ingest::imap {

namespace {

constexpr std::string_view kBase64 =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

// Value of a base64 digit in the given alphabet's last two characters, or -1.
int base64_value(char c, char c62, char c63) noexcept {
  if (c >= 'A' && c <= 'Z') {
    return c - 'A';
  }
  if (c >= 'a' && c <= 'z') {
    return c - 'a' + 26;
  }
  if (c >= '0' && c <= '9') {
    return c - '0' + 52;
  }
  if (c == c62) {
    return 62;
  }
  if (c == c63) {
    return 63;
  }
  return -1;
}

char ascii_upper(char c) noexcept {
  return c >= 'a' && c <= 'z' ? static_cast<char>(c - 32) : c;
}

}  // namespace

Result<std::string> mutf7_encode(std::string_view utf8) {
  if (!is_valid_utf8(utf8)) {
    return make_error(Code::kInvalidArgument,
                      "modified UTF-7: the mailbox name is not valid UTF-8");
  }
  return mailvault::mutf7_encode(utf8);
}

Result<std::string> mutf7_decode(std::string_view mutf7) {
  return mailvault::mutf7_decode(mutf7, Mutf7Rules{.allow_adjacent_runs = true});
}

std::string decode_mailbox_name(std::string_view wire) {
  const bool eight_bit = std::any_of(wire.begin(), wire.end(),
                                     [](char c) { return static_cast<unsigned char>(c) >= 0x80; });
  if (eight_bit) {
    return std::string(wire);  // UTF-8 from a UTF8=ACCEPT server, or raw bytes kept as they are
  }
  auto decoded = mutf7_decode(wire);
  return decoded ? std::move(*decoded) : std::string(wire);
}

// --- glob ---

namespace {

// Length of a leading INBOX component of `name` (5 if "inbox" in any case, followed by the end
// or the delimiter), else 0.
std::size_t inbox_prefix(std::string_view name, char delimiter) noexcept {
  constexpr std::string_view kInbox = "INBOX";
  if (name.size() < kInbox.size()) {
    return 0;
  }
  for (std::size_t i = 0; i < kInbox.size(); ++i) {
    if (ascii_upper(name[i]) != kInbox[i]) {
      return 0;
    }
  }
  if (name.size() > kInbox.size() && (delimiter == '\0' || name[kInbox.size()] != delimiter)) {
    return 0;
  }
  return kInbox.size();
}

}  // namespace

bool glob_match(std::string_view pattern, std::string_view name, char delimiter) noexcept {
  // INBOX is case-insensitive: compare a leading INBOX component of both in upper case.
  std::string upper_name;
  std::string upper_pattern;
  if (const std::size_t n = inbox_prefix(name, delimiter); n > 0) {
    if (pattern.size() >= n && inbox_prefix(pattern.substr(0, n), delimiter) == n &&
        (pattern.size() == n || pattern[n] == delimiter || pattern[n] == '*' ||
         pattern[n] == '%')) {
      upper_name = std::string("INBOX") + std::string(name.substr(n));
      upper_pattern = std::string("INBOX") + std::string(pattern.substr(n));
      name = upper_name;
      pattern = upper_pattern;
    }
  }
  // match[j]: pattern[0, i) matches name[0, j). Rolling over i.
  std::vector<char> match(name.size() + 1, 0);
  match[0] = 1;
  for (char p : pattern) {
    std::vector<char> next(name.size() + 1, 0);
    if (p == '*' || p == '%') {
      // next[j] = match[k] for some k <= j with name[k, j) free of the delimiter for '%'.
      bool reachable = false;
      for (std::size_t j = 0; j <= name.size(); ++j) {
        if (p == '%' && j > 0 && delimiter != '\0' && name[j - 1] == delimiter) {
          reachable = false;
        }
        reachable = reachable || match[j] != 0;
        next[j] = reachable ? 1 : 0;
      }
    } else {
      for (std::size_t j = 1; j <= name.size(); ++j) {
        next[j] = (match[j - 1] != 0 && name[j - 1] == p) ? 1 : 0;
      }
    }
    match = std::move(next);
  }
  return match[name.size()] != 0;
}

// --- INTERNALDATE ---

namespace {

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) noexcept {
  y -= m <= 2 ? 1 : 0;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

std::optional<int> digits(std::string_view s) noexcept {
  if (s.empty()) {
    return std::nullopt;
  }
  int v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') {
      return std::nullopt;
    }
    v = v * 10 + (c - '0');
  }
  return v;
}

bool is_leap(int y) noexcept {
  return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

}  // namespace

std::optional<std::int64_t> parse_internal_date(std::string_view text) noexcept {
  static constexpr std::array<std::string_view, 12> kMonths = {
      "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};
  static constexpr std::array<int, 12> kDays = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (text.starts_with(' ')) {
    text.remove_prefix(1);
  }
  // d-Mon-yyyy hh:mm:ss +zzzz
  const std::size_t dash1 = text.find('-');
  if (dash1 == std::string_view::npos || dash1 == 0 || dash1 > 2) {
    return std::nullopt;
  }
  auto day = digits(text.substr(0, dash1));
  text.remove_prefix(dash1 + 1);
  if (text.size() != 3 + 1 + 4 + 1 + 8 + 1 + 5) {
    return std::nullopt;
  }
  std::optional<int> month;
  for (std::size_t i = 0; i < kMonths.size(); ++i) {
    if (ascii_upper(text[0]) == kMonths[i][0] && ascii_upper(text[1]) == kMonths[i][1] &&
        ascii_upper(text[2]) == kMonths[i][2]) {
      month = static_cast<int>(i) + 1;
    }
  }
  if (!day || !month || text[3] != '-' || text[8] != ' ' || text[11] != ':' || text[14] != ':' ||
      text[17] != ' ' || (text[18] != '+' && text[18] != '-')) {
    return std::nullopt;
  }
  auto year = digits(text.substr(4, 4));
  auto hour = digits(text.substr(9, 2));
  auto minute = digits(text.substr(12, 2));
  auto second = digits(text.substr(15, 2));
  auto zh = digits(text.substr(19, 2));
  auto zm = digits(text.substr(21, 2));
  if (!year || !hour || !minute || !second || !zh || !zm || *day < 1 ||
      *day > kDays[static_cast<std::size_t>(*month - 1)] ||
      (*month == 2 && *day == 29 && !is_leap(*year)) || *hour > 23 || *minute > 59 ||
      *second > 60 || *zm > 59) {
    return std::nullopt;
  }
  const std::int64_t days =
      days_from_civil(*year, static_cast<unsigned>(*month), static_cast<unsigned>(*day));
  const std::int64_t offset = (text[18] == '-' ? -1 : 1) * (*zh * 3600 + *zm * 60);
  return days * 86400 + *hour * 3600 + *minute * 60 + *second - offset;
}

// --- base64 / SASL ---

std::string base64_encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const std::uint32_t v = (std::uint32_t{static_cast<unsigned char>(bytes[i])} << 16) |
                            (std::uint32_t{static_cast<unsigned char>(bytes[i + 1])} << 8) |
                            std::uint32_t{static_cast<unsigned char>(bytes[i + 2])};
    out.push_back(kBase64[(v >> 18) & 0x3f]);
    out.push_back(kBase64[(v >> 12) & 0x3f]);
    out.push_back(kBase64[(v >> 6) & 0x3f]);
    out.push_back(kBase64[v & 0x3f]);
  }
  const std::size_t rest = bytes.size() - i;
  if (rest > 0) {
    std::uint32_t v = std::uint32_t{static_cast<unsigned char>(bytes[i])} << 16;
    if (rest == 2) {
      v |= std::uint32_t{static_cast<unsigned char>(bytes[i + 1])} << 8;
    }
    out.push_back(kBase64[(v >> 18) & 0x3f]);
    out.push_back(kBase64[(v >> 12) & 0x3f]);
    out.push_back(rest == 2 ? kBase64[(v >> 6) & 0x3f] : '=');
    out.push_back('=');
  }
  return out;
}

std::optional<std::string> base64_decode(std::string_view text) {
  while (text.ends_with('=')) {
    text.remove_suffix(1);
  }
  if (text.size() % 4 == 1) {
    return std::nullopt;
  }
  std::string out;
  out.reserve(text.size() * 3 / 4);
  std::uint32_t bits = 0;
  int nbits = 0;
  for (char c : text) {
    const int v = base64_value(c, '+', '/');
    if (v < 0) {
      return std::nullopt;
    }
    bits = (bits << 6) | static_cast<std::uint32_t>(v);
    nbits += 6;
    if (nbits >= 8) {
      nbits -= 8;
      out.push_back(static_cast<char>((bits >> nbits) & 0xff));
      bits &= (1u << nbits) - 1;
    }
  }
  return out;
}

std::string sasl_plain_response(std::string_view user, std::string_view password) {
  std::string raw;
  raw.reserve(user.size() + password.size() + 2);
  raw.push_back('\0');
  raw.append(user);
  raw.push_back('\0');
  raw.append(password);
  return base64_encode(raw);
}

std::string sasl_xoauth2_response(std::string_view user, std::string_view token) {
  std::string raw = "user=";
  raw.append(user);
  raw +=
      "\x01"
      "auth=Bearer ";
  raw.append(token);
  raw += "\x01\x01";
  return base64_encode(raw);
}

}  // namespace mailvault::ingest::imap
