#include "core/mime/params.h"

#include <algorithm>
#include <cstddef>

#include "core/mime/charset.h"
#include "core/mime/rfc2047.h"

namespace mailvault::mime {
namespace {

bool is_blank(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

char lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

bool equal_ignore_case(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(),
                                            [](char x, char y) { return lower(x) == lower(y); });
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_blank(s.front())) {
    s.remove_prefix(1);
  }
  while (!s.empty() && is_blank(s.back())) {
    s.remove_suffix(1);
  }
  return s;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  c = lower(c);
  return (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
}

void append_percent_decoded(std::string& out, std::string_view s) {
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && hex_value(s[i + 1]) >= 0 && hex_value(s[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2])));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
}

struct RawParam {
  std::string_view attribute;  // as written, e.g. "filename*1*"
  std::string value;           // unquoted, backslash escapes removed
};

// Splits "type; a=1; b="x;y"" into parameters. Tolerant: unterminated quotes run to the end,
// blanks around '=' are allowed, an unquoted value runs to the next ';' (so it may hold
// spaces, as broken mailers write "filename=my file.pdf").
std::vector<RawParam> split_params(std::string_view s) {
  std::vector<RawParam> params;
  std::size_t i = s.find(';');
  while (i != std::string_view::npos && i < s.size()) {
    ++i;  // past ';'
    while (i < s.size() && is_blank(s[i])) {
      ++i;
    }
    const std::size_t attr_begin = i;
    while (i < s.size() && s[i] != '=' && s[i] != ';') {
      ++i;
    }
    if (i >= s.size() || s[i] == ';') {
      continue;  // a parameter without '=': skip it
    }
    RawParam param;
    param.attribute = trim(s.substr(attr_begin, i - attr_begin));
    ++i;  // past '='
    while (i < s.size() && is_blank(s[i])) {
      ++i;
    }
    if (i < s.size() && s[i] == '"') {
      ++i;
      while (i < s.size() && s[i] != '"') {
        if (s[i] == '\\' && i + 1 < s.size()) {
          ++i;
        }
        if (s[i] != '\r' && s[i] != '\n') {  // a quoted value may be folded
          param.value.push_back(s[i]);
        }
        ++i;
      }
      i = s.find(';', i);  // ignore junk after the closing quote
    } else {
      const std::size_t end = std::min(s.find(';', i), s.size());
      param.value.assign(trim(s.substr(i, end - i)));
      i = end;
    }
    params.push_back(std::move(param));
  }
  return params;
}

struct Segment {
  unsigned index = 0;
  bool extended = false;
  std::string_view value;
};

}  // namespace

std::string header_token(std::string_view value) {
  const std::string_view token = trim(value.substr(0, std::min(value.find(';'), value.size())));
  std::string out;
  out.reserve(token.size());
  for (const char c : token) {
    out.push_back(lower(c));
  }
  return lenient_utf8(out);
}

std::optional<std::string> find_header_param(std::string_view value, std::string_view name,
                                             std::vector<std::string>* problems) {
  const std::vector<RawParam> params = split_params(value);
  const RawParam* plain = nullptr;
  std::vector<Segment> segments;
  for (const auto& p : params) {
    const std::string_view attr = p.attribute;
    if (attr.size() < name.size() || !equal_ignore_case(attr.substr(0, name.size()), name)) {
      continue;
    }
    std::string_view rest = attr.substr(name.size());
    if (rest.empty()) {
      if (plain == nullptr) {
        plain = &p;
      }
      continue;
    }
    if (rest.front() != '*') {
      continue;  // another parameter that merely starts with `name`
    }
    rest.remove_prefix(1);
    Segment seg;
    seg.value = p.value;
    if (rest.empty()) {  // name*=charset'lang'value
      seg.extended = true;
      segments.push_back(seg);
      continue;
    }
    std::size_t k = 0;
    unsigned index = 0;
    while (k < rest.size() && k < 5 && rest[k] >= '0' && rest[k] <= '9') {
      index = index * 10 + static_cast<unsigned>(rest[k] - '0');
      ++k;
    }
    if (k == 0) {
      continue;
    }
    rest.remove_prefix(k);
    if (rest == "*") {
      seg.extended = true;
    } else if (!rest.empty()) {
      continue;
    }
    seg.index = index;
    segments.push_back(seg);
  }

  if (!segments.empty()) {
    std::stable_sort(segments.begin(), segments.end(),
                     [](const Segment& a, const Segment& b) { return a.index < b.index; });
    std::string charset;
    std::string bytes;
    bool first = true;
    for (const auto& seg : segments) {
      std::string_view v = seg.value;
      if (seg.extended && first) {
        // charset'language'value; mailers that omit the quotes get the whole value
        const std::size_t q1 = v.find('\'');
        const std::size_t q2 = q1 == std::string_view::npos ? q1 : v.find('\'', q1 + 1);
        if (q2 != std::string_view::npos) {
          charset.assign(v.substr(0, q1));
          v.remove_prefix(q2 + 1);
        }
      }
      first = false;
      if (seg.extended) {
        append_percent_decoded(bytes, v);
      } else {
        bytes.append(v);
      }
    }
    std::string out;
    if (!append_charset_to_utf8(out, bytes, charset) && problems != nullptr) {
      problems->push_back("undecodable charset " + lenient_utf8(charset.substr(0, 40)));
    }
    // Some mailers put RFC 2047 words in RFC 2231 values too.
    if (out.find("=?") != std::string::npos) {
      out = decode_header_text(out, problems);
    }
    return out;
  }
  if (plain != nullptr) {
    return decode_header_text(plain->value, problems);
  }
  return std::nullopt;
}

}  // namespace mailvault::mime
