#include "ingest/import/mbox_reader.h"

#include <algorithm>
#include <array>

#include "ingest/import/message_check.h"

namespace mailvault::ingest {

namespace {

std::string_view strip_eol(std::string_view line) noexcept {
  if (line.ends_with('\n')) {
    line.remove_suffix(1);
  }
  if (line.ends_with('\r')) {
    line.remove_suffix(1);
  }
  return line;
}

bool is_space(char c) noexcept {
  return c == ' ' || c == '\t';
}

char ascii_lower(char c) noexcept {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c;
}

bool iequals(std::string_view a, std::string_view b) noexcept {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return ascii_lower(x) == ascii_lower(y);
         });
}

// Whitespace-separated words of a From_ line after "From "; at most kMaxWords are kept (the
// date is near the start; trailing "remote from ..." is ignored).
constexpr std::size_t kMaxWords = 12;

struct Words {
  std::array<std::string_view, kMaxWords> word;
  std::size_t count = 0;
};

Words split_words(std::string_view s) noexcept {
  Words out;
  std::size_t i = 0;
  while (i < s.size() && out.count < kMaxWords) {
    while (i < s.size() && is_space(s[i])) {
      ++i;
    }
    const std::size_t start = i;
    while (i < s.size() && !is_space(s[i])) {
      ++i;
    }
    if (i > start) {
      std::string_view w = s.substr(start, i - start);
      if (w.ends_with(',')) {  // "Mon," in RFC 5322 style dates
        w.remove_suffix(1);
      }
      out.word[out.count++] = w;
    }
  }
  return out;
}

std::optional<int> parse_number(std::string_view s, std::size_t max_digits) noexcept {
  if (s.empty() || s.size() > max_digits) {
    return std::nullopt;
  }
  int value = 0;
  for (char c : s) {
    if (c < '0' || c > '9') {
      return std::nullopt;
    }
    value = value * 10 + (c - '0');
  }
  return value;
}

std::optional<int> parse_month(std::string_view s) noexcept {
  static constexpr std::array<std::string_view, 12> kMonths = {
      "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"};
  if (s.size() != 3) {
    return std::nullopt;
  }
  for (std::size_t i = 0; i < kMonths.size(); ++i) {
    if (iequals(s, kMonths[i])) {
      return static_cast<int>(i) + 1;
    }
  }
  return std::nullopt;
}

struct TimeOfDay {
  int hour = 0;
  int minute = 0;
  int second = 0;
};

// "H:MM" or "H:MM:SS".
std::optional<TimeOfDay> parse_time(std::string_view s) noexcept {
  const std::size_t c1 = s.find(':');
  if (c1 == std::string_view::npos) {
    return std::nullopt;
  }
  const std::size_t c2 = s.find(':', c1 + 1);
  auto h = parse_number(s.substr(0, c1), 2);
  auto m = parse_number(s.substr(c1 + 1, c2 == std::string_view::npos ? c2 : c2 - c1 - 1), 2);
  std::optional<int> sec = 0;
  if (c2 != std::string_view::npos) {
    sec = parse_number(s.substr(c2 + 1), 2);
  }
  if (!h || !m || !sec || *h > 23 || *m > 59 || *sec > 60) {
    return std::nullopt;
  }
  return TimeOfDay{*h, *m, *sec};
}

std::optional<int> parse_year(std::string_view s) noexcept {
  if (s.size() == 4) {
    auto y = parse_number(s, 4);
    if (y && *y >= 1900) {
      return y;
    }
    return std::nullopt;
  }
  if (s.size() == 2) {  // RFC 5322 4.3 obsolete two-digit years
    auto y = parse_number(s, 2);
    if (y) {
      return *y < 50 ? 2000 + *y : 1900 + *y;
    }
  }
  return std::nullopt;
}

// Offset east of UTC in seconds: "+hhmm" / "-hhmm", or the zone names RFC 5322 4.3 lists.
std::optional<int> parse_zone(std::string_view s) noexcept {
  if (s.size() == 5 && (s[0] == '+' || s[0] == '-')) {
    auto hhmm = parse_number(s.substr(1), 4);
    if (!hhmm || *hhmm % 100 > 59) {
      return std::nullopt;
    }
    const int seconds = (*hhmm / 100) * 3600 + (*hhmm % 100) * 60;
    return s[0] == '-' ? -seconds : seconds;
  }

  struct Named {
    std::string_view name;
    int hours;
  };

  static constexpr std::array<Named, 13> kNamed = {{{"UT", 0},
                                                    {"UTC", 0},
                                                    {"GMT", 0},
                                                    {"Z", 0},
                                                    {"EST", -5},
                                                    {"EDT", -4},
                                                    {"CST", -6},
                                                    {"CDT", -5},
                                                    {"MST", -7},
                                                    {"MDT", -6},
                                                    {"PST", -8},
                                                    {"PDT", -7},
                                                    {"UCT", 0}}};
  for (const auto& zone : kNamed) {
    if (iequals(s, zone.name)) {
      return zone.hours * 3600;
    }
  }
  return std::nullopt;
}

int days_in_month(int year, int month) noexcept {
  static constexpr std::array<int, 12> kDays = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return month == 2 && leap ? 29 : kDays[static_cast<std::size_t>(month - 1)];
}

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil).
std::int64_t days_from_civil(int y, int m, int d) noexcept {
  y -= m <= 2 ? 1 : 0;
  const int era = (y >= 0 ? y : y - 399) / 400;
  const int yoe = y - era * 400;
  const int doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return static_cast<std::int64_t>(era) * 146097 + doe - 719468;
}

std::optional<std::int64_t> to_epoch(int year, int month, int day, TimeOfDay t, int zone) noexcept {
  if (day < 1 || day > days_in_month(year, month)) {
    return std::nullopt;
  }
  const std::int64_t seconds_of_day =
      std::int64_t{t.hour} * 3600 + std::int64_t{t.minute} * 60 + t.second;
  return days_from_civil(year, month, day) * 86400 + seconds_of_day - zone;
}

// The date in words [first, count): asctime order "Mon Jan  3 01:05:34 [zone] 1996 [zone]", or
// RFC 5322 order "[Mon,] 3 Jan 1996 01:05:34 [zone]".
std::optional<std::int64_t> parse_date_words(const Words& w, std::size_t first) noexcept {
  for (std::size_t i = first; i < w.count; ++i) {
    auto month = parse_month(w.word[i]);
    if (!month) {
      continue;
    }
    // asctime
    if (i + 2 < w.count) {
      auto day = parse_number(w.word[i + 1], 2);
      auto time = parse_time(w.word[i + 2]);
      if (day && time) {
        std::optional<int> year;
        int zone = 0;
        for (std::size_t k = i + 3; k < std::min(w.count, i + 5); ++k) {
          if (!year) {
            year = parse_year(w.word[k]);
            if (year) {
              continue;
            }
          }
          auto z = parse_zone(w.word[k]);
          if (!z) {
            break;
          }
          zone = *z;
        }
        if (year) {
          return to_epoch(*year, *month, *day, *time, zone);
        }
      }
    }
    // RFC 5322
    if (i > first && i + 2 < w.count) {
      auto day = parse_number(w.word[i - 1], 2);
      auto year = parse_year(w.word[i + 1]);
      auto time = parse_time(w.word[i + 2]);
      if (day && year && time) {
        int zone = 0;
        if (i + 3 < w.count) {
          zone = parse_zone(w.word[i + 3]).value_or(0);
        }
        return to_epoch(*year, *month, *day, *time, zone);
      }
    }
    return std::nullopt;
  }
  return std::nullopt;
}

// The value of a "Content-Length:" header line, if `line` is one with a decimal value.
std::optional<std::uint64_t> parse_content_length(std::string_view line) noexcept {
  constexpr std::string_view kName = "content-length";
  if (line.size() < kName.size() || !iequals(line.substr(0, kName.size()), kName)) {
    return std::nullopt;
  }
  std::size_t i = kName.size();
  while (i < line.size() && is_space(line[i])) {
    ++i;
  }
  if (i == line.size() || line[i] != ':') {
    return std::nullopt;
  }
  ++i;
  while (i < line.size() && is_space(line[i])) {
    ++i;
  }
  std::uint64_t value = 0;
  std::size_t digits = 0;
  for (; i < line.size() && line[i] >= '0' && line[i] <= '9'; ++i) {
    if (++digits > 18) {
      return std::nullopt;
    }
    value = value * 10 + static_cast<std::uint64_t>(line[i] - '0');
  }
  if (digits == 0) {
    return std::nullopt;
  }
  for (; i < line.size(); ++i) {
    if (!is_space(line[i]) && line[i] != '\r' && line[i] != '\n') {
      return std::nullopt;
    }
  }
  return value;
}

}  // namespace

bool is_mbox_start(std::string_view head) noexcept {
  return starts_with_from_line(skip_utf8_bom(head));
}

std::optional<std::int64_t> parse_from_line_date(std::string_view from_line) noexcept {
  from_line = strip_eol(from_line);
  if (!starts_with_from_line(from_line)) {
    return std::nullopt;
  }
  const Words w = split_words(from_line.substr(5));
  // Word 0 is the envelope sender ("-" for Netscape/Mozilla); the date follows.
  return parse_date_words(w, 1);
}

bool is_strict_from_line(std::string_view line) noexcept {
  line = strip_eol(line);
  if (!starts_with_from_line(line)) {
    return false;
  }
  const Words w = split_words(line.substr(5));
  if (w.count == 0) {
    return false;
  }
  if (w.word[0] == "-" && w.count == 1) {
    return true;
  }
  return parse_date_words(w, 1).has_value();
}

bool MboxReader::Line::is_empty() const noexcept {
  return (end - begin == 1 && head == "\n") || (end - begin == 2 && head == "\r\n");
}

MboxReader::MboxReader(const ByteSource& source, MboxReaderOptions options)
    : source_(source), buffer_size_(std::max<std::size_t>(options.buffer_size, 1)) {
  buffer_.reserve(buffer_size_);
}

Result<bool> MboxReader::read_line(Line& line) {
  line.begin = pos_;
  line.head.clear();
  line.crlf = false;
  char last = '\0';
  const std::uint64_t size = source_.size();
  while (pos_ < size) {
    if (pos_ < buffer_offset_ || pos_ >= buffer_offset_ + buffer_.size()) {
      buffer_.resize(buffer_size_);
      auto got = source_.read_at(pos_, buffer_.data(), buffer_size_);
      if (!got) {
        buffer_.clear();
        return got.error();
      }
      buffer_offset_ = pos_;
      buffer_.resize(*got);
      if (*got == 0) {  // the file shrank since it was opened: its end is here
        break;
      }
    }
    const std::string_view buffered(buffer_);
    const auto from = static_cast<std::size_t>(pos_ - buffer_offset_);
    const std::size_t nl = buffered.find('\n', from);
    const std::size_t stop = nl != std::string_view::npos ? nl + 1 : buffered.size();
    const std::size_t room = kHeadBytes - line.head.size();
    line.head.append(buffered.substr(from, std::min(stop - from, room)));
    pos_ = buffer_offset_ + stop;
    if (nl != std::string_view::npos) {
      line.crlf = nl > from ? buffered[nl - 1] == '\r' : last == '\r';
      line.end = pos_;
      return true;
    }
    last = buffered[stop - 1];
  }
  line.end = pos_;
  return pos_ > line.begin;
}

Result<bool> MboxReader::starts_message(const Line& line, bool previous_empty) {
  if (!starts_with_from_line(line.head)) {
    return false;
  }
  if (previous_empty) {
    return true;
  }
  if (!is_strict_from_line(line.head)) {
    return false;
  }
  std::array<char, 256> next{};
  auto got = source_.read_at(line.end, next.data(), next.size());
  if (!got) {
    return got.error();
  }
  return looks_like_header_field(std::string_view(next.data(), *got));
}

Result<std::optional<MboxReader::Jump>> MboxReader::try_content_length(
    std::uint64_t message_start, std::uint64_t body_start, std::uint64_t content_length) {
  const std::uint64_t size = source_.size();
  if (body_start > size || content_length > size - body_start) {
    return std::optional<Jump>();
  }
  const std::uint64_t at = body_start + content_length;
  if (at == size) {
    return std::optional<Jump>(Jump{at, at});
  }
  std::array<char, 7> peek{};
  auto got = source_.read_at(at, peek.data(), peek.size());
  if (!got) {
    return got.error();
  }
  const std::string_view rest(peek.data(), *got);
  if ((rest == "\n" && at + 1 == size) || (rest == "\r\n" && at + 2 == size)) {
    return std::optional<Jump>(Jump{at, size});
  }
  if (rest.starts_with("\nFrom ")) {
    return std::optional<Jump>(Jump{at, at + 1});
  }
  if (rest.starts_with("\r\nFrom ")) {
    return std::optional<Jump>(Jump{at, at + 2});
  }
  if (rest.starts_with("From ") && at >= message_start + 1) {
    // Landed on the From_ line itself: the line break before it is the separator.
    std::array<char, 2> before{};
    const std::uint64_t from = at >= message_start + 2 ? at - 2 : at - 1;
    auto got_before = source_.read_at(from, before.data(), static_cast<std::size_t>(at - from));
    if (!got_before) {
      return got_before.error();
    }
    const std::string_view b(before.data(), *got_before);
    if (b.ends_with('\n')) {
      const std::uint64_t eol = b.ends_with("\r\n") ? 2 : 1;
      return std::optional<Jump>(Jump{at - eol, at});
    }
  }
  return std::optional<Jump>();
}

Result<std::uint64_t> MboxReader::scan_message(std::uint64_t start) {
  Line line;
  bool in_headers = true;
  bool previous_empty = false;
  bool previous_crlf = false;
  std::uint64_t previous_begin = start;
  std::optional<std::uint64_t> content_length;
  while (true) {
    auto got = read_line(line);
    if (!got) {
      return got.error();
    }
    if (!*got) {
      // End of file: an empty last line is the separator after the last message.
      return previous_empty ? previous_begin : pos_;
    }
    auto boundary = starts_message(line, previous_empty);
    if (!boundary) {
      return boundary.error();
    }
    if (*boundary) {
      // The line break before the From_ line is the separator.
      const std::uint64_t eol = previous_crlf ? 2 : 1;
      pos_ = line.begin;
      return line.begin >= start + eol ? line.begin - eol : start;
    }
    if (in_headers) {
      if (line.is_empty()) {
        in_headers = false;
        if (content_length) {
          auto jump = try_content_length(start, line.end, *content_length);
          if (!jump) {
            return jump.error();
          }
          if (*jump) {
            pos_ = (*jump)->next;
            return std::max(start, (*jump)->end);
          }
        }
      } else if (!content_length) {
        content_length = parse_content_length(line.head);
      }
    }
    previous_empty = line.is_empty();
    previous_crlf = line.crlf;
    previous_begin = line.begin;
  }
}

Result<std::optional<MboxEntry>> MboxReader::next() {
  const std::uint64_t size = source_.size();
  if (!started_) {
    started_ = true;
    std::array<char, 8> head{};
    auto got = source_.read_at(0, head.data(), head.size());
    if (!got) {
      pos_ = size;
      return got.error();
    }
    const std::string_view start(head.data(), *got);
    if (!is_mbox_start(start)) {
      pos_ = size;
      return make_error(Code::kInvalidArgument, "not an mbox (no From_ line at the start)");
    }
    pos_ = start.size() - skip_utf8_bom(start).size();
  }
  if (pos_ >= size) {
    return std::optional<MboxEntry>();
  }
  Line from;
  auto got = read_line(from);
  if (!got) {
    pos_ = size;
    return got.error();
  }
  if (!*got) {
    return std::optional<MboxEntry>();
  }
  MboxEntry entry;
  entry.from_line_offset = from.begin;
  entry.from_line = std::string(strip_eol(from.head));
  entry.offset = from.end;
  auto end = scan_message(entry.offset);
  if (!end) {
    pos_ = size;
    return end.error();
  }
  entry.length = *end - entry.offset;
  return std::optional<MboxEntry>(std::move(entry));
}

}  // namespace mailvault::ingest
