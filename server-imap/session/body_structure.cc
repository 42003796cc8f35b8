#include "server-imap/session/body_structure.h"

#include <algorithm>
#include <string>
#include <utility>

#include "core/mime/base64.h"
#include "server-imap/session/envelope.h"
#include "server-imap/session/rfc822_lexer.h"

namespace mailvault::imapd {

namespace {

char lower(char c) noexcept {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

bool iequals(std::string_view a, std::string_view b) noexcept {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(),
                                            [](char x, char y) { return lower(x) == lower(y); });
}

bool istarts_with(std::string_view s, std::string_view prefix) noexcept {
  return s.size() >= prefix.size() && iequals(s.substr(0, prefix.size()), prefix);
}

// The offset just after the line that starts at `pos` (after its LF, or the end).
std::size_t next_line(std::string_view raw, std::size_t pos) noexcept {
  const auto lf = raw.find('\n', pos);
  return lf == std::string_view::npos ? raw.size() : lf + 1;
}

// Where a part whose body starts at `begin` ends when a boundary line starts at `line`: the
// line break before the boundary line belongs to the boundary (RFC 2046 5.1.1).
std::size_t end_before(std::string_view raw, std::size_t line, std::size_t begin) noexcept {
  if (line <= begin)
    return begin;
  std::size_t end = line - 1;  // raw[end] is the LF that ends the previous line
  if (end > begin && raw[end - 1] == '\r')
    --end;
  return end;
}

// A "type/subtype" value split the way Dovecot's content-type parser does: both tokens as
// written; a broken value has empty type and subtype and no parameters.
struct ContentType {
  std::string type;
  std::string subtype;
  std::vector<MimeParam> params;
};

ContentType parse_content_type(std::string_view value) {
  ContentType ct;
  Rfc822Lexer lx(value);
  lx.skip_cfws();
  const auto broken = [&ct] {
    ct.type.clear();
    ct.subtype.clear();
    return ct;
  };
  if (!lx.mime_token(ct.type))
    return broken();
  lx.skip_cfws();
  if (lx.peek() != '/')
    return broken();
  lx.advance();
  lx.skip_cfws();
  if (!lx.mime_token(ct.subtype))
    return broken();
  if (lx.skip_cfws() && lx.peek() != ';')
    return broken();
  ct.params = parse_mime_params(value.substr(lx.pos()));
  return ct;
}

class StructureParser {
 public:
  StructureParser(std::string_view raw, MimeStructure& s) : raw_(raw), s_(s) {}

  void run() {
    s_.parts.emplace_back();
    parse_part(0, 0, 0);
  }

 private:
  struct Boundary {
    std::string text;
    std::size_t owner = 0;
  };

  // A boundary line found at `line` (bound indexes bounds_), or none (line = raw size).
  struct Stop {
    std::size_t line = 0;
    std::size_t bound = 0;
    bool found = false;
    bool closing = false;  // "--b--"
    std::size_t end = 0;   // where the part that stopped here ends
  };

  Stop boundary_at(std::size_t pos) const {
    Stop none{raw_.size(), 0, false, false, 0};
    if (bounds_.empty() || s_.parts.size() >= kMaxMimeParts)
      return none;
    if (pos + 2 > raw_.size() || raw_[pos] != '-' || raw_[pos + 1] != '-')
      return none;
    std::size_t end = next_line(raw_, pos);
    if (end > pos && raw_[end - 1] == '\n')
      --end;
    if (end > pos + 2 && raw_[end - 1] == '\r')
      --end;
    const std::string_view line = raw_.substr(pos + 2, end - pos - 2);
    const bool trailing_dashes = line.size() > 2 && line.substr(line.size() - 2) == "--";
    // Newest first, so that a boundary reused by a nested multipart belongs to the inner one;
    // the longest prefix wins; an exact match ends the search.
    std::optional<std::size_t> best;
    for (std::size_t i = bounds_.size(); i-- > 0;) {
      const auto& b = bounds_[i].text;
      if (b.size() > line.size() || line.compare(0, b.size(), b) != 0)
        continue;
      if (best && bounds_[*best].text.size() >= b.size())
        continue;
      best = i;
      if (b.size() == line.size() || (trailing_dashes && b.size() + 2 == line.size()))
        break;
    }
    if (!best)
      return none;
    const auto len = bounds_[*best].text.size();
    return Stop{pos, *best, true, line.size() >= len + 2 && line.substr(len, 2) == "--", 0};
  }

  // The first boundary line at a line start in [from, end of message); `from` is a line start.
  Stop scan(std::size_t from) const {
    if (bounds_.empty() || s_.parts.size() >= kMaxMimeParts)
      return Stop{raw_.size(), 0, false, false, 0};
    std::size_t pos = from;
    while (pos < raw_.size()) {
      if (raw_[pos] == '-') {
        auto stop = boundary_at(pos);
        if (stop.found)
          return stop;
      }
      pos = next_line(raw_, pos);
    }
    return Stop{raw_.size(), 0, false, false, 0};
  }

  void forget_boundaries_from(std::size_t index) {
    if (index < bounds_.size())
      bounds_.resize(index);
  }

  // Parses the part at parts[idx] whose header starts at `pos`; returns the boundary line that
  // ended it (or the end of the message).
  Stop parse_part(std::size_t idx, std::size_t pos, std::size_t depth) {
    s_.parts[idx].header_begin = pos;
    // Header: up to the empty line; a boundary line ends it early (and the part).
    std::size_t q = pos;
    std::optional<Stop> header_stop;
    std::size_t body_begin = raw_.size();
    while (q < raw_.size()) {
      if (raw_[q] == '-') {
        auto stop = boundary_at(q);
        if (stop.found) {
          header_stop = stop;
          body_begin = end_before(raw_, q, pos);
          break;
        }
      }
      if (raw_[q] == '\n') {
        body_begin = q + 1;
        break;
      }
      if (raw_[q] == '\r' && q + 1 < raw_.size() && raw_[q + 1] == '\n') {
        body_begin = q + 2;
        break;
      }
      q = next_line(raw_, q);
    }
    s_.parts[idx].body_begin = body_begin;
    read_content_headers(idx, raw_.substr(pos, body_begin - pos));
    const std::optional<std::string> boundary = classify(idx, depth);
    if (header_stop) {
      if (s_.parts[idx].kind == MimePart::Kind::kMessage) {
        s_.parts[idx].kind = MimePart::Kind::kLeaf;
        s_.parts[idx].truncated = true;
      }
      finish(idx, body_begin);
      header_stop->end = body_begin;
      return *header_stop;
    }
    switch (s_.parts[idx].kind) {
      case MimePart::Kind::kLeaf:
        return end_at(idx, scan(body_begin), body_begin);
      case MimePart::Kind::kMessage: {
        const std::size_t child = add_child(idx);
        const auto stop = parse_part(child, body_begin, depth + 1);
        finish(idx, stop.end);
        return stop;
      }
      case MimePart::Kind::kMultipart:
        break;
    }
    if (!boundary)  // multipart without a boundary: no children (BODYSTRUCTURE fills one in)
      return end_at(idx, scan(body_begin), body_begin);
    const std::size_t own = bounds_.size();
    bounds_.push_back(Boundary{*boundary, idx});
    // The first line of the preamble or of the epilogue: a boundary line there takes no line
    // break from the text before it (Dovecot's "first line" rule).
    std::size_t first_line = body_begin;
    Stop stop = scan(body_begin);
    bool from_child = false;
    while (stop.found) {
      if (bounds_[stop.bound].owner != idx) {
        // An enclosing multipart's boundary: this one ends here (its end boundary is missing
        // or was seen already), where the text before the boundary line ends.
        forget_boundaries_from(own);
        if (!from_child)
          return end_at(idx, stop, first_line);
        finish(idx, stop.end);
        return stop;
      }
      forget_boundaries_from(stop.bound + 1);  // inner multiparts left open end here
      const std::size_t after = next_line(raw_, stop.line);
      if (stop.closing) {
        forget_boundaries_from(own);  // the epilogue runs to an outer boundary or the end
        first_line = after;
        from_child = false;
        stop = scan(after);
        continue;
      }
      if (s_.parts.size() >= kMaxMimeParts)
        break;
      const std::size_t child = add_child(idx);
      stop = parse_part(child, after, depth + 1);
      from_child = true;
    }
    forget_boundaries_from(own);
    stop.found = false;
    return end_at(idx, stop, body_begin);
  }

  // Ends parts[idx] where `stop` says, `first_line` being the line from which the text ran.
  Stop end_at(std::size_t idx, Stop stop, std::size_t first_line) {
    if (!stop.found)
      stop.end = raw_.size();
    else
      stop.end = stop.line == first_line ? first_line : end_before(raw_, stop.line, first_line);
    finish(idx, stop.end);
    return stop;
  }

  std::size_t add_child(std::size_t parent) {
    const std::size_t child = s_.parts.size();
    s_.parts.emplace_back();
    s_.parts[child].parent = parent;
    s_.parts[parent].children.push_back(child);
    return child;
  }

  void finish(std::size_t idx, std::size_t body_end) {
    auto& p = s_.parts[idx];
    p.body_end = std::max(body_end, p.body_begin);
    const auto body = raw_.substr(p.body_begin, p.body_end - p.body_begin);
    p.body_lines = static_cast<std::uint32_t>(std::count(body.begin(), body.end(), '\n'));
  }

  void read_content_headers(std::size_t idx, std::string_view header) {
    auto& p = s_.parts[idx];
    bool seen_type = false;
    auto fields = parse_header_fields(header);
    // Content-* fields count in a multipart's children, and elsewhere only with MIME-Version
    // or Content-Type (RFC 2045 4; Dovecot ignores them otherwise).
    const bool in_multipart = idx != 0 && s_.parts[p.parent].kind == MimePart::Kind::kMultipart;
    const bool mime = in_multipart || std::any_of(fields.begin(), fields.end(), [](const auto& f) {
                        return iequals(f.name, "MIME-Version") || iequals(f.name, "Content-Type");
                      });
    if (!mime)
      return;
    for (auto& f : fields) {
      if (!istarts_with(f.name, "Content-"))
        continue;
      const std::string_view name = std::string_view{f.name}.substr(8);
      if (iequals(name, "Type")) {
        if (seen_type)
          continue;
        seen_type = true;
        auto ct = parse_content_type(f.value);
        p.type = std::move(ct.type);
        p.subtype = std::move(ct.subtype);
        p.params = std::move(ct.params);
      } else if (iequals(name, "Transfer-Encoding")) {
        if (p.encoding)
          continue;
        Rfc822Lexer lx(f.value);
        lx.skip_cfws();
        std::string token;
        if (lx.mime_token(token) && !lx.skip_cfws())
          p.encoding = std::move(token);
      } else if (iequals(name, "ID")) {
        if (!p.id)
          p.id = std::move(f.value);
      } else if (iequals(name, "MD5")) {
        if (!p.md5)
          p.md5 = std::move(f.value);
      } else if (iequals(name, "Description")) {
        if (!p.description)
          p.description = std::move(f.value);
      } else if (iequals(name, "Location")) {
        if (!p.location)
          p.location = std::move(f.value);
      } else if (iequals(name, "Language")) {
        if (!p.language.empty())
          continue;
        Rfc822Lexer lx(f.value);
        lx.skip_cfws();
        std::string lang;
        while (lx.atom(lang)) {
          p.language.push_back(std::move(lang));
          lang.clear();
          lx.skip_cfws();
          if (lx.peek() != ',')
            break;
          lx.advance();
          lx.skip_cfws();
        }
      } else if (iequals(name, "Disposition")) {
        if (p.disposition)
          continue;
        Rfc822Lexer lx(f.value);
        lx.skip_cfws();
        std::string token;
        if (!lx.mime_token(token))
          continue;
        p.disposition = std::move(token);
        p.disposition_params = parse_mime_params(std::string_view{f.value}.substr(lx.pos()));
      }
    }
  }

  // Sets kind and is_text; returns the boundary of a multipart that has one.
  std::optional<std::string> classify(std::size_t idx, std::size_t depth) {
    auto& p = s_.parts[idx];
    const bool digest_child = idx != 0 && s_.parts[p.parent].kind == MimePart::Kind::kMultipart &&
                              s_.parts[p.parent].type &&
                              iequals(s_.parts[p.parent].subtype, "digest");
    const bool too_deep = depth + 1 >= kMaxMimeDepth;
    if (!p.type) {
      if (digest_child) {
        if (too_deep || s_.parts.size() >= kMaxMimeParts)
          p.truncated = true;
        else
          p.kind = MimePart::Kind::kMessage;
      } else {
        p.is_text = true;
      }
      return std::nullopt;
    }
    if (iequals(*p.type, "text")) {
      p.is_text = true;
      return std::nullopt;
    }
    if (iequals(*p.type, "message") && iequals(p.subtype, "rfc822")) {
      if (too_deep || s_.parts.size() >= kMaxMimeParts)
        p.truncated = true;
      else
        p.kind = MimePart::Kind::kMessage;
      return std::nullopt;
    }
    if (!iequals(*p.type, "multipart"))
      return std::nullopt;
    if (too_deep) {
      p.truncated = true;
      return std::nullopt;
    }
    p.kind = MimePart::Kind::kMultipart;
    for (const auto& param : p.params) {
      if (iequals(param.name, "boundary") || iequals(param.name, "boundary*"))
        return param.value.substr(0, 80);  // Dovecot truncates boundaries at 70 + 10 bytes
    }
    return std::nullopt;
  }

  std::string_view raw_;
  MimeStructure& s_;
  std::vector<Boundary> bounds_;
};

// ─── BODY / BODYSTRUCTURE ────────────────────────────────────────────────────────────────────

void write_params(ResponseWriter& w, const std::vector<MimeParam>& params, bool default_charset) {
  const bool has_charset = std::any_of(
      params.begin(), params.end(), [](const MimeParam& p) { return iequals(p.name, "charset"); });
  if (params.empty() && !default_charset) {
    w.nil();
    return;
  }
  w.open_list();
  for (const auto& p : params)
    w.string(p.name).string(p.value);
  if (default_charset && !has_charset)
    w.string("charset").string("us-ascii");
  w.close_list();
}

void write_nstring_unfolded(ResponseWriter& w, const std::optional<std::string>& s) {
  if (!s) {
    w.nil();
    return;
  }
  w.string(*s);
}

void write_common_extensions(ResponseWriter& w, const MimePart& p) {
  if (!p.disposition) {
    w.nil();
  } else {
    w.open_list().string(*p.disposition);
    write_params(w, p.disposition_params, false);
    w.close_list();
  }
  if (p.language.empty()) {
    w.nil();
  } else {
    w.open_list();
    for (const auto& l : p.language)
      w.string(l);
    w.close_list();
  }
  write_nstring_unfolded(w, p.location);
}

void write_part(ResponseWriter& w, const MimeStructure& s, std::string_view raw, std::size_t index,
                bool ext);

// "(...)" of one part as bytes, written with w's options: RFC 3501 puts no space between the
// bodies of a multipart ("1*body"), which the writer's automatic separation would add.
std::string render_part(const ResponseWriter& w, const MimeStructure& s, std::string_view raw,
                        std::size_t index, bool ext) {
  ResponseWriter sub(w.options());
  write_part(sub, s, raw, index, ext);
  return sub.take();
}

void write_empty_body(ResponseWriter& w, bool ext) {
  w.open_list().string("text").string("plain").open_list().string("charset").string("us-ascii");
  w.close_list().nil().nil().string("7bit").number(0).number(0);
  if (ext)
    w.nil().nil().nil().nil();
  w.close_list();
}

void write_part(ResponseWriter& w, const MimeStructure& s, std::string_view raw, std::size_t index,
                bool ext) {
  const MimePart& p = s.parts[index];
  w.open_list();
  if (p.kind == MimePart::Kind::kMultipart) {
    if (p.children.empty()) {
      write_empty_body(w, ext);
    } else {
      std::string bodies;
      for (const auto c : p.children)
        bodies += render_part(w, s, raw, c, ext);
      w.atom(bodies);
    }
    w.string(p.subtype);
    if (ext) {
      write_params(w, p.params, false);
      write_common_extensions(w, p);
    }
    w.close_list();
    return;
  }
  bool text = false;
  if (p.kind == MimePart::Kind::kMessage) {
    w.string("message").string("rfc822");
  } else if (p.truncated || (!p.type && !p.is_text)) {
    w.string("application").string("octet-stream");
  } else if (!p.type) {
    text = true;
    w.string("text").string("plain");
  } else {
    text = iequals(*p.type, "text");
    w.string(*p.type).string(p.subtype);
  }
  write_params(w, p.params, text);
  write_nstring_unfolded(w, p.id);
  write_nstring_unfolded(w, p.description);
  if (p.encoding)
    w.string(*p.encoding);
  else
    w.string("7bit");
  w.number(p.body_end - p.body_begin);
  if (text) {
    w.number(p.body_lines);
  } else if (p.kind == MimePart::Kind::kMessage && !p.children.empty()) {
    const MimePart& m = s.parts[p.children.front()];
    write_envelope(w, raw.substr(m.header_begin, m.body_begin - m.header_begin));
    write_part(w, s, raw, p.children.front(), ext);
    w.number(p.body_lines);
  }
  if (ext) {
    write_nstring_unfolded(w, p.md5);
    write_common_extensions(w, p);
  }
  w.close_list();
}

int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  return -1;
}

// RFC 2045 6.7: trailing blanks of a line are dropped, "=" at a line end is a soft break,
// "=XX" a byte; a malformed "=" is kept as it is.
std::string decode_quoted_printable(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  std::size_t pos = 0;
  while (pos < in.size()) {
    auto lf = in.find('\n', pos);
    const bool has_lf = lf != std::string_view::npos;
    std::size_t end = has_lf ? lf : in.size();
    std::size_t content_end = end;
    if (has_lf && content_end > pos && in[content_end - 1] == '\r')
      --content_end;
    const bool crlf = has_lf && content_end != end;
    while (content_end > pos && (in[content_end - 1] == ' ' || in[content_end - 1] == '\t'))
      --content_end;
    bool soft = false;
    for (std::size_t i = pos; i < content_end; ++i) {
      const char c = in[i];
      if (c != '=') {
        out += c;
        continue;
      }
      if (i + 1 == content_end) {
        soft = true;
        break;
      }
      const int hi = i + 2 < content_end ? hex_value(in[i + 1]) : -1;
      const int lo = i + 2 < content_end ? hex_value(in[i + 2]) : -1;
      if (hi < 0 || lo < 0) {
        out += c;
        continue;
      }
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    }
    if (has_lf && !soft)
      out += crlf ? "\r\n" : "\n";
    pos = has_lf ? lf + 1 : in.size();
  }
  return out;
}

}  // namespace

std::vector<HeaderField> parse_header_fields(std::string_view header) {
  std::vector<HeaderField> fields;
  std::size_t pos = 0;
  bool in_field = false;
  while (pos < header.size()) {
    const std::size_t end = next_line(header, pos);
    std::string_view line = header.substr(pos, end - pos);
    pos = end;
    if (line == "\n" || line == "\r\n")
      break;
    if (line.front() == ' ' || line.front() == '\t') {
      if (in_field)
        fields.back().value += line;
      continue;
    }
    const auto colon = line.find(':');
    in_field = colon != std::string_view::npos;
    if (!in_field)
      continue;
    auto name = line.substr(0, colon);
    while (!name.empty() && (name.back() == ' ' || name.back() == '\t'))
      name.remove_suffix(1);
    auto value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t'))
      value.remove_prefix(1);
    fields.push_back(HeaderField{std::string{name}, std::string{value}});
  }
  // Undo the folding: a line break before a blank goes, any other one becomes a space (and a
  // break at the end goes).
  for (auto& f : fields) {
    std::string out;
    out.reserve(f.value.size());
    const std::string& v = f.value;
    for (std::size_t i = 0; i < v.size(); ++i) {
      if (v[i] != '\r' && v[i] != '\n') {
        out += v[i];
        continue;
      }
      const char next = i + 1 < v.size() ? v[i + 1] : '\0';
      if (next != ' ' && next != '\t' && next != '\r' && next != '\n' && next != '\0')
        out += ' ';
    }
    f.value = std::move(out);
  }
  return fields;
}

std::vector<MimeParam> parse_mime_params(std::string_view value_after_token) {
  struct Indexed {
    std::string base;
    unsigned index = 0;
    bool extended = false;
    std::string value;
  };

  std::vector<MimeParam> out;
  std::vector<Indexed> indexed;
  Rfc822Lexer lx(value_after_token);
  while (lx.skip_cfws() && lx.peek() == ';') {
    lx.advance();
    if (!lx.skip_cfws())
      break;
    std::string key;
    if (!lx.mime_token(key)) {
      // Not a parameter: skip to the next ';'.
      while (!lx.at_end() && lx.peek() != ';')
        lx.advance();
      continue;
    }
    lx.skip_cfws();
    if (lx.peek() != '=')
      continue;
    lx.advance();
    lx.skip_cfws();
    std::string value;
    if (lx.peek() == '"')
      lx.quoted_string(value);
    else
      lx.mime_token(value);
    const auto star = key.find('*');
    if (star == std::string::npos || star + 1 == key.size()) {
      const bool dup = std::any_of(out.begin(), out.end(),
                                   [&](const MimeParam& p) { return iequals(p.name, key); });
      if (!dup)
        out.push_back(MimeParam{std::move(key), std::move(value)});
      continue;
    }
    // name*N or name*N*: a continuation segment.
    Indexed seg;
    seg.base = key.substr(0, star);
    std::string_view rest = std::string_view{key}.substr(star + 1);
    if (!rest.empty() && rest.back() == '*') {
      seg.extended = true;
      rest.remove_suffix(1);
    }
    if (rest.empty() || rest.size() > 4 ||
        !std::all_of(rest.begin(), rest.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      out.push_back(MimeParam{std::move(key), std::move(value)});
      continue;
    }
    seg.index = static_cast<unsigned>(std::stoul(std::string{rest}));
    seg.value = std::move(value);
    indexed.push_back(std::move(seg));
  }
  std::stable_sort(indexed.begin(), indexed.end(), [](const Indexed& a, const Indexed& b) {
    return a.base != b.base ? a.base < b.base : a.index < b.index;
  });
  for (std::size_t i = 0; i < indexed.size();) {
    std::size_t j = i;
    bool extended = false;
    std::string value;
    while (j < indexed.size() && indexed[j].base == indexed[i].base) {
      extended = extended || indexed[j].extended;
      value += indexed[j].value;
      ++j;
    }
    std::string name = indexed[i].base + (extended ? "*" : "");
    const bool dup = std::any_of(out.begin(), out.end(),
                                 [&](const MimeParam& p) { return iequals(p.name, name); });
    if (!dup)
      out.push_back(MimeParam{std::move(name), std::move(value)});
    i = j;
  }
  return out;
}

MimeStructure parse_mime_structure(std::string_view raw) {
  MimeStructure s;
  StructureParser(raw, s).run();
  return s;
}

std::optional<std::size_t> find_part(const MimeStructure& s,
                                     const std::vector<std::uint32_t>& path) {
  if (path.empty() || s.parts.empty())
    return std::nullopt;
  std::size_t cur = 0;
  for (std::size_t k = 0; k < path.size(); ++k) {
    const auto n = path[k];
    const bool more = k + 1 < path.size();
    const MimePart& p = s.parts[cur];
    if (p.kind == MimePart::Kind::kMultipart) {
      if (n == 0 || n > p.children.size())
        return std::nullopt;
      cur = p.children[n - 1];
    } else if (n != 1 || (more && p.kind != MimePart::Kind::kMessage)) {
      return std::nullopt;
    }
    // Continuing inside a message/rfc822 part: the numbers address the message it holds.
    if (more && s.parts[cur].kind == MimePart::Kind::kMessage) {
      if (s.parts[cur].children.empty())
        return std::nullopt;
      cur = s.parts[cur].children.front();
    }
  }
  return cur;
}

std::optional<std::size_t> encapsulated_message(const MimeStructure& s, std::size_t part) {
  const MimePart& p = s.parts[part];
  if (p.kind != MimePart::Kind::kMessage || p.children.empty())
    return std::nullopt;
  return p.children.front();
}

void write_body_structure(ResponseWriter& w, const MimeStructure& s, std::string_view raw,
                          std::size_t index, bool extensible) {
  write_part(w, s, raw, index, extensible);
}

std::optional<std::string> decode_transfer_encoding(std::string_view body,
                                                    const std::optional<std::string>& encoding) {
  if (!encoding || iequals(*encoding, "7bit") || iequals(*encoding, "8bit") ||
      iequals(*encoding, "binary"))
    return std::string{body};
  if (iequals(*encoding, "base64")) {
    std::string out;
    mime::append_base64_decoded(out, body);
    return out;
  }
  if (iequals(*encoding, "quoted-printable"))
    return decode_quoted_printable(body);
  return std::nullopt;
}

}  // namespace mailvault::imapd
