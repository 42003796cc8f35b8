#include "core/search/query.h"

#include <array>
#include <cstdint>
#include <cstdio>
#include <string>
#include <type_traits>
#include <variant>

namespace mailvault::search {
namespace {

const char* field_name(Field field) {
  switch (field) {
    case Field::kAll:
      return "all";
    case Field::kFrom:
      return "from";
    case Field::kTo:
      return "to";
    case Field::kCc:
      return "cc";
    case Field::kBcc:
      return "bcc";
    case Field::kSubject:
      return "subject";
    case Field::kBody:
      return "body";
    case Field::kAttachment:
      return "attachment";
    case Field::kFilename:
      return "filename";
    case Field::kMessageId:
      return "msgid";
    case Field::kListId:
      return "list";
    case Field::kAccount:
      return "account";
    case Field::kFolder:
      return "folder";
  }
  return "?";
}

void append_quoted(std::string& out, const std::string& text) {
  out += '"';
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (byte < 0x20 || byte == 0x7f) {
      std::array<char, 8> buf{};
      std::snprintf(buf.data(), buf.size(), "\\x%02x", static_cast<unsigned>(byte));
      out += buf.data();
    } else {
      out += c;
    }
  }
  out += '"';
}

// Civil date from days since 1970-01-01 (H. Hinnant's algorithm, proleptic Gregorian).
void civil_from_days(std::int64_t z, std::int64_t& y, unsigned& m, unsigned& d) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<std::uint64_t>(z - era * 146097);
  const std::uint64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const std::uint64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const std::uint64_t mp = (5 * doy + 2) / 153;
  d = static_cast<unsigned>(doy - (153 * mp + 2) / 5 + 1);
  m = static_cast<unsigned>(mp < 10 ? mp + 3 : mp - 9);
  y = static_cast<std::int64_t>(yoe) + era * 400 + (m <= 2 ? 1 : 0);
}

// "2024-01-01" at midnight UTC, "2024-01-01T10:20:30Z" otherwise.
void append_time(std::string& out, const std::optional<std::int64_t>& seconds) {
  if (!seconds) {
    out += '*';
    return;
  }
  const std::int64_t s = *seconds;
  // Floor division, also for times before 1970. Guard the extreme so that nothing overflows.
  std::int64_t days = s / 86400;
  std::int64_t rem = s % 86400;
  if (rem < 0) {
    rem += 86400;
    days -= 1;
  }
  std::int64_t y = 0;
  unsigned m = 0;
  unsigned d = 0;
  civil_from_days(days, y, m, d);
  std::array<char, 64> buf{};
  if (rem == 0) {
    std::snprintf(buf.data(), buf.size(), "%04lld-%02u-%02u", static_cast<long long>(y), m, d);
  } else {
    const auto hh = static_cast<unsigned>(rem / 3600);
    const auto mm = static_cast<unsigned>(rem % 3600 / 60);
    const auto ss = static_cast<unsigned>(rem % 60);
    std::snprintf(buf.data(), buf.size(), "%04lld-%02u-%02uT%02u:%02u:%02uZ",
                  static_cast<long long>(y), m, d, hh, mm, ss);
  }
  out += buf.data();
}

void append_size(std::string& out, const std::optional<std::uint64_t>& size) {
  if (size) {
    out += std::to_string(*size);
  } else {
    out += '*';
  }
}

void render(std::string& out, const Query& query);

void render_children(std::string& out, const char* op, const std::vector<Query>& children) {
  out += '(';
  out += op;
  for (const Query& child : children) {
    out += ' ';
    render(out, child);
  }
  out += ')';
}

void render(std::string& out, const Query& query) {
  std::visit(
      [&out](const auto& node) {
        using T = std::decay_t<decltype(node)>;
        if constexpr (std::is_same_v<T, MatchAll>) {
          out += '*';
        } else if constexpr (std::is_same_v<T, Text>) {
          out += '(';
          out += field_name(node.field);
          out += ' ';
          switch (node.kind) {
            case Text::Kind::kWords:
              append_quoted(out, node.text);
              break;
            case Text::Kind::kPhrase:
              out += "(phrase ";
              append_quoted(out, node.text);
              out += ')';
              break;
            case Text::Kind::kPrefix:
              out += "(prefix ";
              append_quoted(out, node.text);
              out += ')';
              break;
          }
          out += ')';
        } else if constexpr (std::is_same_v<T, DateRange>) {
          out += node.of == DateRange::Of::kSent ? "(date " : "(archived ";
          append_time(out, node.begin);
          out += ' ';
          append_time(out, node.end);
          out += ')';
        } else if constexpr (std::is_same_v<T, SizeRange>) {
          out += "(size ";
          append_size(out, node.min);
          out += ' ';
          append_size(out, node.max);
          out += ')';
        } else if constexpr (std::is_same_v<T, HasAttachment>) {
          out += "(has-attachment)";
        } else if constexpr (std::is_same_v<T, And>) {
          render_children(out, "and", node.children);
        } else if constexpr (std::is_same_v<T, Or>) {
          render_children(out, "or", node.children);
        } else if constexpr (std::is_same_v<T, Not>) {
          render_children(out, "not", node.child);
        }
      },
      query.node);
}

}  // namespace

// Format (stable; tests and logs rely on it):
//   *                          MatchAll
//   (FIELD "words")            Text kWords; FIELD is all/from/to/cc/bcc/subject/body/attachment/
//                              filename/msgid/list/account/folder
//   (FIELD (phrase "a b"))     Text kPhrase
//   (FIELD (prefix "ab"))      Text kPrefix
//   (date BEGIN END)           DateRange of the Date: header, [BEGIN, END); (archived ...) for
//                              the archive time. A bound is YYYY-MM-DD at midnight UTC,
//                              YYYY-MM-DDTHH:MM:SSZ otherwise, * when open.
//   (size MIN MAX)             SizeRange, inclusive bytes, * when open
//   (has-attachment) (and ...) (or ...) (not ...)
// Strings are double-quoted with \" \\ and \xNN (control bytes) escaped; UTF-8 is kept as is.
std::string to_string(const Query& query) {
  std::string out;
  render(out, query);
  return out;
}

}  // namespace mailvault::search
