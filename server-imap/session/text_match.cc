#include "server-imap/session/text_match.h"

#include <clocale>
#include <cstring>
#include <cwctype>

#include "core/base/utf8.h"
#include "core/mime/rfc2047.h"

namespace mailvault::imapd {

namespace {

char lower_ascii(char c) noexcept {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

std::string lower_ascii(std::string_view s) {
  std::string out(s);
  for (auto& c : out)
    c = lower_ascii(c);
  return out;
}

// The C.UTF-8 locale for towlower_l: created once, never freed (one per process).
locale_t utf8_locale() noexcept {
  static const locale_t loc = [] {
    locale_t l = newlocale(LC_CTYPE_MASK, "C.UTF-8", static_cast<locale_t>(nullptr));
    return l;
  }();
  return loc;
}

char32_t lower_code_point(char32_t cp) noexcept {
  const locale_t loc = utf8_locale();
  if (loc == static_cast<locale_t>(nullptr))
    return cp;
  const auto lowered = towlower_l(static_cast<wint_t>(cp), loc);
  // Only a lower-casing that stays a valid scalar value is taken.
  if (lowered > 0x10FFFF || (lowered >= 0xD800 && lowered <= 0xDFFF))
    return cp;
  return static_cast<char32_t>(lowered);
}

bool is_field_name_char(char c) noexcept {
  const auto u = static_cast<unsigned char>(c);
  return u > 32 && u < 127 && c != ':';
}

void fold_into(std::string_view s, std::string& out) {
  out.reserve(out.size() + s.size());
  std::size_t i = 0;
  while (i < s.size()) {
    const char c = s[i];
    if (static_cast<unsigned char>(c) < 0x80) {
      out.push_back(lower_ascii(c));
      ++i;
      continue;
    }
    char32_t cp = 0;
    const std::size_t len = decode_utf8(s, i, cp);
    if (len == 0) {
      out.push_back(c);  // not UTF-8: kept as is, on both sides
      ++i;
      continue;
    }
    append_utf8(out, lower_code_point(cp));
    i += len;
  }
}

}  // namespace

std::string fold(std::string_view utf8) {
  std::string out;
  fold_into(utf8, out);
  return out;
}

bool contains(std::string_view haystack, std::string_view needle) noexcept {
  if (needle.empty())
    return true;
  if (needle.size() > haystack.size())
    return false;
  // glibc memmem (two-way with a memchr-like skip loop) is several times faster than
  // std::string_view::find on long bodies.
  return memmem(haystack.data(), haystack.size(), needle.data(), needle.size()) != nullptr;
}

std::size_t SearchableMessage::bytes() const noexcept {
  std::size_t n = sizeof(*this) + header_text.capacity() + nested_headers.capacity() +
                  body.capacity() + keys.bytes();
  for (const auto& f : fields)
    n += sizeof(f) + f.name.capacity() + f.value.capacity();
  return n;
}

SearchableMessage make_searchable(const mime::ParsedMessage& message) {
  SearchableMessage m;
  m.keys = make_message_keys(message);
  m.fields.reserve(message.headers.size());
  for (const auto& h : message.headers) {
    SearchableMessage::Field f{lower_ascii(h.name), fold(h.value)};
    m.header_text.append(f.name).append(": ").append(f.value).push_back('\n');
    m.fields.push_back(std::move(f));
  }
  fold_into(message.nested_header_text, m.nested_headers);
  fold_into(message.body_text, m.body);
  for (const std::string* more : {&message.attachment_text, &message.other_text}) {
    if (!more->empty()) {
      m.body.push_back('\n');
      fold_into(*more, m.body);
    }
  }
  return m;
}

std::size_t SearchableHeader::bytes() const noexcept {
  return sizeof(*this) + text.capacity() + nested_headers.capacity() +
         ends.capacity() * sizeof(std::uint32_t) + names.capacity() * sizeof(std::uint16_t);
}

SearchableHeader make_searchable_header(const SearchableMessage& message) {
  SearchableHeader h;
  h.text.reserve(message.header_text.size());
  h.ends.reserve(message.fields.size());
  h.names.reserve(message.fields.size());
  for (const auto& f : message.fields) {
    // Field names are short (a header line is at most 998 bytes); a longer one is cut, which
    // only makes HEADER on that absurd name miss (never a wrong match: the name is compared
    // whole).
    const std::size_t name = std::min<std::size_t>(f.name.size(), 0xFFFF);
    h.text.append(f.name, 0, name).append(": ").append(f.value).push_back('\n');
    h.ends.push_back(static_cast<std::uint32_t>(std::min<std::size_t>(h.text.size(), 0xFFFFFFFFU)));
    h.names.push_back(static_cast<std::uint16_t>(name));
  }
  h.nested_headers = message.nested_headers;
  h.text.shrink_to_fit();
  return h;
}

std::vector<mime::Header> parse_header_block(std::string_view header) {
  std::vector<mime::Header> out;
  std::string name;
  std::string raw;
  bool open = false;
  auto flush = [&] {
    if (open)
      out.push_back(mime::Header{name, mime::decode_header_text(raw)});
    open = false;
  };
  std::size_t pos = 0;
  while (pos < header.size()) {
    auto eol = header.find('\n', pos);
    const std::size_t next = eol == std::string_view::npos ? header.size() : eol + 1;
    std::string_view line = header.substr(pos, next - pos);
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r'))
      line.remove_suffix(1);
    pos = next;
    if (line.empty())
      break;  // the empty line ends the header
    if (line.front() == ' ' || line.front() == '\t') {
      if (open)
        raw.append("\r\n").append(line);  // decode_header_text unfolds
      continue;
    }
    flush();
    const auto colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0)
      continue;
    std::string_view n = line.substr(0, colon);
    while (!n.empty() && (n.back() == ' ' || n.back() == '\t'))
      n.remove_suffix(1);
    bool valid = !n.empty();
    for (const char c : n)
      valid = valid && is_field_name_char(c);
    if (!valid)
      continue;
    name.assign(n);
    raw.assign(line.substr(colon + 1));
    open = true;
  }
  flush();
  return out;
}

TextKey make_text_key(const SearchHeader& key) {
  TextKey k;
  k.where = TextKey::Where::kField;
  switch (key.field) {
    case SearchHeader::Field::kFrom:
      k.field = "from";
      break;
    case SearchHeader::Field::kTo:
      k.field = "to";
      break;
    case SearchHeader::Field::kCc:
      k.field = "cc";
      break;
    case SearchHeader::Field::kBcc:
      k.field = "bcc";
      break;
    case SearchHeader::Field::kSubject:
      k.field = "subject";
      break;
    case SearchHeader::Field::kOther:
      k.field = lower_ascii(key.name);
      break;
  }
  k.needle = fold(key.value);
  return k;
}

TextKey make_text_key(const SearchText& key) {
  TextKey k;
  k.where = key.scope == SearchText::Scope::kBody ? TextKey::Where::kBody : TextKey::Where::kText;
  k.needle = fold(key.value);
  return k;
}

bool matches(const TextKey& key, const SearchableMessage& message) noexcept {
  switch (key.where) {
    case TextKey::Where::kField:
      for (const auto& f : message.fields) {
        if (f.name == key.field && contains(f.value, key.needle))
          return true;
      }
      return false;
    case TextKey::Where::kBody:
      return contains(message.body, key.needle);
    case TextKey::Where::kText:
      return matches_header_text(key, message) || contains(message.body, key.needle);
  }
  return false;
}

std::optional<index::TextField> narrowing_field(const TextKey& key) noexcept {
  using index::TextField;
  if (key.where != TextKey::Where::kField)
    return TextField::kBody;
  if (key.needle.empty())
    return std::nullopt;  // HEADER name "": any message with the field matches
  if (key.field == "subject")
    return TextField::kSubject;
  if (key.field == "from" || key.field == "sender")
    return TextField::kFrom;
  if (key.field == "to")
    return TextField::kTo;
  if (key.field == "cc")
    return TextField::kCc;
  if (key.field == "bcc")
    return TextField::kBcc;
  if (key.field == "message-id")
    return TextField::kMessageId;
  return std::nullopt;
}

bool matches_header_text(const TextKey& key, const SearchableHeader& header) noexcept {
  if (key.needle.find('\n') == std::string::npos)
    return contains(header.text, key.needle) || contains(header.nested_headers, key.needle);
  return header.any_field(
      [&](std::string_view, std::string_view value) { return contains(value, key.needle); });
}

bool matches_field(const TextKey& key, const SearchableHeader& header) noexcept {
  return header.any_field([&](std::string_view name, std::string_view value) {
    return name == key.field && contains(value, key.needle);
  });
}

bool matches_header_text(const TextKey& key, const SearchableMessage& message) noexcept {
  if (key.needle.find('\n') == std::string::npos)
    return contains(message.header_text, key.needle) ||
           contains(message.nested_headers, key.needle);
  for (const auto& f : message.fields) {  // never across two fields
    if (contains(f.value, key.needle))
      return true;
  }
  return false;
}

}  // namespace mailvault::imapd
