#include "core/mime/parse.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdint>
#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

#include "core/mime/address.h"
#include "core/mime/base64.h"
#include "core/mime/charset.h"
#include "core/mime/gobj.h"
#include "core/mime/html_to_text.h"
#include "core/mime/library.h"
#include "core/mime/params.h"
#include "core/mime/rfc2047.h"

namespace mailvault::mime {
namespace {

using gobj::Ptr;

// GByteArray can only hold 4 GiB; nothing that large is mail.
constexpr std::size_t kMaxInput = std::numeric_limits<guint>::max();
// Problems kept before de-duplication, so that a flood of identical ones stays cheap.
constexpr std::size_t kMaxRawProblems = 10'000;
constexpr std::size_t kMaxItemLength = 64;
constexpr std::size_t kChunk = std::size_t{64} * 1024;

// ---------------------------------------------------------------------------------------------
// Small string helpers

std::string lower_ascii(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') {
      c = static_cast<char>(c - 'A' + 'a');
    }
  }
  return out;
}

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) {
    s.remove_prefix(1);
  }
  while (!s.empty() && is_space(s.back())) {
    s.remove_suffix(1);
  }
  return s;
}

// A short, valid-UTF-8 rendering of some input for a problem message.
std::string excerpt(std::string_view s) {
  s = trim(s);
  std::string out = lenient_utf8(s.substr(0, kMaxItemLength));
  if (s.size() > kMaxItemLength) {
    out.append("...");
  }
  return out;
}

// CRLF and lone CR become LF, in place.
void normalize_newlines(std::string& s) {
  if (s.find('\r') == std::string::npos) {
    return;
  }
  std::size_t w = 0;
  for (std::size_t r = 0; r < s.size(); ++r) {
    if (s[r] == '\r') {
      if (r + 1 < s.size() && s[r + 1] == '\n') {
        continue;
      }
      s[w++] = '\n';
    } else {
      s[w++] = s[r];
    }
  }
  s.resize(w);
}

// Appends one part's text to body_text / attachment_text: parts are separated by one blank
// line; blank lines around the text and trailing blanks are dropped. The first block is moved,
// not copied (the common single-part message).
void append_block(std::string& dst, std::string&& text) {
  std::size_t end = text.size();
  while (end > 0 && is_space(text[end - 1])) {
    --end;
  }
  std::size_t begin = 0;
  while (begin < end && (text[begin] == '\n' || text[begin] == '\r')) {
    ++begin;
  }
  if (begin == end) {
    return;
  }
  if (dst.empty()) {
    text.resize(end);
    text.erase(0, begin);
    dst = std::move(text);
    return;
  }
  dst.append("\n\n");
  dst.append(text, begin, end - begin);
}

// ---------------------------------------------------------------------------------------------
// Problems

void add_problem(std::vector<std::string>& problems, std::string problem) {
  if (problems.size() < kMaxRawProblems) {
    problems.push_back(std::move(problem));
  }
}

// Each problem once, in order of first appearance, at most kMaxProblems.
void finish_problems(std::vector<std::string>& problems) {
  if (problems.empty()) {
    return;
  }
  std::unordered_set<std::string> seen;
  std::vector<std::string> unique;
  std::size_t omitted = 0;
  for (auto& p : problems) {
    if (!seen.insert(p).second) {
      continue;
    }
    if (unique.size() < kMaxProblems) {
      unique.push_back(std::move(p));
    } else {
      ++omitted;
    }
  }
  if (omitted > 0) {
    unique.push_back(std::to_string(omitted) + " more problems omitted");
  }
  problems = std::move(unique);
}

// ---------------------------------------------------------------------------------------------
// Input without copies

// A GByteArray that points at the caller's bytes without copying or owning them: GMime's mem
// stream reads from it directly (g_mime_stream_mem_new_with_buffer would copy the message).
// g_byte_array_new_take adopts the pointer, and the destructor takes it back with
// g_byte_array_steal before the array is freed, so the caller's memory is never freed or
// written (GMime only reads a stream it parses). Must outlive the stream and every object the
// parser creates: their content streams are views of this array.
class BorrowedBytes {
 public:
  explicit BorrowedBytes(std::string_view bytes)
      : array_(g_byte_array_new_take(reinterpret_cast<guint8*>(const_cast<char*>(bytes.data())),
                                     bytes.size())) {}

  BorrowedBytes(const BorrowedBytes&) = delete;
  BorrowedBytes& operator=(const BorrowedBytes&) = delete;
  BorrowedBytes(BorrowedBytes&&) = delete;
  BorrowedBytes& operator=(BorrowedBytes&&) = delete;

  ~BorrowedBytes() {
    static_cast<void>(g_byte_array_steal(array_, nullptr));
    g_byte_array_unref(array_);
  }

  [[nodiscard]] GByteArray* get() const { return array_; }

 private:
  GByteArray* array_;
};

// ---------------------------------------------------------------------------------------------
// Part content

// The bytes of a (sub)stream without copying when it is a view of a mem stream, which is what
// the parser creates for every part of a message read from our BorrowedBytes.
std::optional<std::string_view> mem_view(GMimeStream* stream) {
  if (!GMIME_IS_STREAM_MEM(stream)) {
    return std::nullopt;
  }
  GByteArray* array = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(stream));  // borrowed
  if (array == nullptr) {
    return std::nullopt;
  }
  if (g_mime_stream_reset(stream) != 0) {
    return std::nullopt;
  }
  const gint64 start = g_mime_stream_tell(stream);  // == bound_start after a reset
  const gint64 length = g_mime_stream_length(stream);
  if (start < 0 || length < 0 || static_cast<guint64>(start) > array->len) {
    return std::nullopt;
  }
  const auto begin = static_cast<std::size_t>(start);
  const auto size = std::min<std::size_t>(static_cast<std::size_t>(length), array->len - begin);
  return std::string_view{reinterpret_cast<const char*>(array->data) + begin, size};
}

// Calls fn with the raw (still transfer-encoded) bytes of `stream`, in one or more chunks.
void for_each_raw_chunk(GMimeStream* stream, const std::function<void(std::string_view)>& fn) {
  if (const auto view = mem_view(stream)) {
    for (std::size_t i = 0; i < view->size(); i += kChunk) {
      fn(view->substr(i, kChunk));
    }
    return;
  }
  if (g_mime_stream_reset(stream) != 0) {
    return;
  }
  std::string buf(kChunk, '\0');
  while (true) {
    const ssize_t n = g_mime_stream_read(stream, buf.data(), buf.size());
    if (n <= 0) {
      break;
    }
    fn(std::string_view{buf.data(), static_cast<std::size_t>(n)});
  }
}

bool is_identity(GMimeContentEncoding encoding) {
  return encoding == GMIME_CONTENT_ENCODING_DEFAULT || encoding == GMIME_CONTENT_ENCODING_7BIT ||
         encoding == GMIME_CONTENT_ENCODING_8BIT || encoding == GMIME_CONTENT_ENCODING_BINARY;
}

// Calls fn once with the decoded content of a leaf part. Base64 is decoded by our decoder
// (GMime 3.2.13's stops at the first '=', see base64.h); identity encodings are passed as a
// view when possible; quoted-printable and uuencode go through GMime's filters.
void with_decoded_content(GMimePart* part, const std::function<void(std::string_view)>& fn) {
  GMimeDataWrapper* content = g_mime_part_get_content(part);  // borrowed
  GMimeStream* source = content == nullptr ? nullptr : g_mime_data_wrapper_get_stream(content);
  if (source == nullptr) {
    fn({});
    return;
  }
  const GMimeContentEncoding encoding = g_mime_data_wrapper_get_encoding(content);
  if (encoding == GMIME_CONTENT_ENCODING_BASE64) {
    std::string out;
    Base64Decoder decoder;
    for_each_raw_chunk(source, [&](std::string_view chunk) { decoder.feed(chunk, out); });
    decoder.finish(out);
    fn(out);
    return;
  }
  if (is_identity(encoding)) {
    if (const auto view = mem_view(source)) {
      fn(*view);
      return;
    }
    std::string out;
    for_each_raw_chunk(source, [&](std::string_view chunk) { out.append(chunk); });
    fn(out);
    return;
  }
  auto sink = Ptr<GMimeStream>::adopt(g_mime_stream_mem_new());
  g_mime_data_wrapper_write_to_stream(content, sink.get());
  GByteArray* array = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(sink.get()));  // borrowed
  fn(array == nullptr ? std::string_view{}
                      : std::string_view{reinterpret_cast<const char*>(array->data), array->len});
}

// The decoded size of a leaf part, without keeping the decoded bytes.
std::uint64_t decoded_size(GMimePart* part) {
  GMimeDataWrapper* content = g_mime_part_get_content(part);  // borrowed
  GMimeStream* source = content == nullptr ? nullptr : g_mime_data_wrapper_get_stream(content);
  if (source == nullptr) {
    return 0;
  }
  const GMimeContentEncoding encoding = g_mime_data_wrapper_get_encoding(content);
  if (encoding == GMIME_CONTENT_ENCODING_BASE64) {
    std::uint64_t size = 0;
    std::string scratch;
    Base64Decoder decoder;
    for_each_raw_chunk(source, [&](std::string_view chunk) {
      decoder.feed(chunk, scratch);
      size += scratch.size();
      scratch.clear();
    });
    decoder.finish(scratch);
    return size + scratch.size();
  }
  if (is_identity(encoding)) {
    const gint64 length = g_mime_stream_length(source);
    return length < 0 ? 0 : static_cast<std::uint64_t>(length);
  }
  auto counter = Ptr<GMimeStream>::adopt(g_mime_stream_null_new());
  g_mime_data_wrapper_write_to_stream(content, counter.get());
  return GMIME_STREAM_NULL(counter.get())->written;
}

// ---------------------------------------------------------------------------------------------
// Headers

const char* raw_header(GMimeObject* object, const char* name) {
  GMimeHeaderList* list = g_mime_object_get_header_list(object);  // borrowed
  GMimeHeader* header = list == nullptr ? nullptr : g_mime_header_list_get_header(list, name);
  return header == nullptr ? nullptr : g_mime_header_get_raw_value(header);
}

// msg-ids in a References / In-Reply-To / Message-ID value: the text inside each <...>
// (blanks removed); without any '<', the blank-separated words.
std::vector<std::string> msg_ids(std::string_view value) {
  std::vector<std::string> ids;
  const auto push = [&](std::string_view id) {
    std::string clean;
    for (const char c : id) {
      if (!is_space(c) && c != '<' && c != '>') {
        clean.push_back(c);
      }
    }
    if (!clean.empty()) {
      ids.push_back(std::move(clean));
    }
  };
  if (value.find('<') != std::string_view::npos) {
    std::size_t i = value.find('<');
    std::size_t close = value.find('>', i);  // kept while ahead of i: "<<<<...>" stays linear
    while (i != std::string_view::npos) {
      if (close != std::string_view::npos && close < i) {
        close = value.find('>', i);
      }
      if (close == std::string_view::npos) {
        push(value.substr(i + 1));
        break;
      }
      const std::size_t next_open = value.find('<', i + 1);
      if (next_open < close) {
        i = next_open;  // "<<id>" or a stray '<'
        continue;
      }
      push(value.substr(i + 1, close - i - 1));
      i = value.find('<', close + 1);
    }
    return ids;
  }
  std::size_t i = 0;
  while (i < value.size()) {
    while (i < value.size() && (is_space(value[i]) || value[i] == ',')) {
      ++i;
    }
    std::size_t j = i;
    while (j < value.size() && !is_space(value[j]) && value[j] != ',') {
      ++j;
    }
    push(value.substr(i, j - i));
    i = j;
  }
  return ids;
}

std::string first_msg_id(std::string_view value, bool require_at_sign) {
  const auto ids = msg_ids(value);
  for (const auto& id : ids) {
    if (id.find('@') != std::string::npos) {
      return id;
    }
  }
  if (require_at_sign || ids.empty()) {
    return {};
  }
  return ids.front();
}

struct HeaderDate {
  std::int64_t unix_seconds = 0;
  std::int32_t zone_minutes = 0;  // east of UTC, as written
};

std::optional<HeaderDate> parse_date(const std::string& value) {
  const gobj::DateTimePtr date{g_mime_utils_header_decode_date(value.c_str())};
  if (!date) {
    return std::nullopt;
  }
  // GMime gives the instant in the zone written in the header (UTC for "-0000" or none).
  const GTimeSpan offset = g_date_time_get_utc_offset(date.get());  // microseconds
  return HeaderDate{g_date_time_to_unix(date.get()),
                    static_cast<std::int32_t>(offset / G_TIME_SPAN_MINUTE)};
}

struct RepairedDate {
  std::string value;
  int year = 0;
};

// Y2K-era mailers wrote struct tm's tm_year (years since 1900) where the year belongs:
// "Wed, 18 Sep 0102 23:32:17" is 2002. Returns the value with such a year replaced, if any.
std::optional<RepairedDate> repair_tm_year(std::string_view value) {
  std::size_t i = 0;
  while (i < value.size()) {
    while (i < value.size() && (is_space(value[i]) || value[i] == ',')) {
      ++i;
    }
    std::size_t j = i;
    while (j < value.size() && !is_space(value[j]) && value[j] != ',') {
      ++j;
    }
    const std::string_view token = value.substr(i, j - i);
    int tm_year = 0;
    const auto [end, error] = std::from_chars(token.data(), token.data() + token.size(), tm_year);
    if ((token.size() == 3 || token.size() == 4) && error == std::errc{} &&
        end == token.data() + token.size() && tm_year >= 100 && tm_year <= 199) {
      RepairedDate repaired{std::string{value.substr(0, i)}, 1900 + tm_year};
      repaired.value.append(std::to_string(repaired.year));
      repaired.value.append(value.substr(j));
      return repaired;
    }
    i = j;
  }
  return std::nullopt;
}

void read_date(const std::string& value, ParsedMessage& m) {
  auto date = parse_date(value);
  if (date) {
    m.date = date->unix_seconds;
    m.date_zone_minutes = date->zone_minutes;
    return;
  }
  if (const auto repaired = repair_tm_year(value)) {
    date = parse_date(repaired->value);
    if (date) {
      m.date = date->unix_seconds;
      m.date_zone_minutes = date->zone_minutes;
      add_problem(m.problems, "invalid Date header: " + excerpt(value) + " (year read as " +
                                  std::to_string(repaired->year) + ")");
      return;
    }
  }
  add_problem(m.problems, "invalid Date header: " + excerpt(value));
}

// Address headers and where they go; every occurrence of a field adds to the list.
struct AddressField {
  std::string_view name;  // lower-case
  std::vector<Address> ParsedMessage::*list;
};

constexpr std::array<AddressField, 6> kAddressFields = {{
    {"from", &ParsedMessage::from},
    {"sender", &ParsedMessage::sender},
    {"reply-to", &ParsedMessage::reply_to},
    {"to", &ParsedMessage::to},
    {"cc", &ParsedMessage::cc},
    {"bcc", &ParsedMessage::bcc},
}};

// A message's header fields in the order they were written (borrowed pointers).
std::vector<GMimeHeader*> ordered_header_fields(GMimeMessage* message) {
  // GMime files the top-level Content-* fields under the root MIME part and the rest under
  // the message; their stream offsets restore the order they were written in.
  std::vector<GMimeHeader*> fields;
  for (GMimeObject* owner : {GMIME_OBJECT(message), g_mime_message_get_mime_part(message)}) {
    GMimeHeaderList* list = owner == nullptr ? nullptr : g_mime_object_get_header_list(owner);
    const int n = list == nullptr ? 0 : g_mime_header_list_get_count(list);
    for (int i = 0; i < n; ++i) {
      if (GMimeHeader* h = g_mime_header_list_get_header_at(list, i)) {  // borrowed
        fields.push_back(h);
      }
    }
  }
  std::stable_sort(fields.begin(), fields.end(), [](GMimeHeader* a, GMimeHeader* b) {
    return static_cast<guint64>(g_mime_header_get_offset(a)) <
           static_cast<guint64>(g_mime_header_get_offset(b));  // -1 (synthesised) sorts last
  });
  return fields;
}

// Reads the top-level header block: every field in order, decoded, then the fields with
// their own members in ParsedMessage.
void read_headers(GMimeMessage* message, ParsedMessage& m) {
  const std::vector<GMimeHeader*> fields = ordered_header_fields(message);
  bool have_message_id = false;
  bool have_subject = false;
  bool have_date = false;
  bool have_in_reply_to = false;
  bool have_list_id = false;
  m.headers.reserve(fields.size());
  for (GMimeHeader* h : fields) {
    const char* name_c = g_mime_header_get_name(h);
    const char* raw_c = g_mime_header_get_raw_value(h);
    const std::string_view raw = raw_c == nullptr ? std::string_view{} : raw_c;
    if (std::any_of(raw.begin(), raw.end(),
                    [](char c) { return static_cast<unsigned char>(c) >= 0x80; })) {
      add_problem(m.problems,
                  "raw 8-bit bytes in header " + excerpt(name_c == nullptr ? "" : name_c));
    }
    Header header{lenient_utf8(name_c == nullptr ? "" : name_c),
                  decode_header_text(raw, &m.problems)};
    const std::string name = lower_ascii(header.name);
    const std::string& value = header.value;

    const auto* const address_field =
        std::find_if(kAddressFields.begin(), kAddressFields.end(),
                     [&](const AddressField& field) { return field.name == name; });
    if (address_field != kAddressFields.end()) {
      auto& list = m.*(address_field->list);
      auto parsed = parse_address_list(raw, &m.problems);
      list.insert(list.end(), std::make_move_iterator(parsed.begin()),
                  std::make_move_iterator(parsed.end()));
    } else if (name == "message-id" && !have_message_id) {
      have_message_id = true;
      m.message_id = first_msg_id(value, false);
    } else if (name == "subject" && !have_subject) {
      have_subject = true;
      m.subject = value;
    } else if (name == "date" && !have_date) {
      have_date = true;
      read_date(value, m);
    } else if (name == "in-reply-to" && !have_in_reply_to) {
      have_in_reply_to = true;
      m.in_reply_to = first_msg_id(value, true);
    } else if (name == "references") {
      auto ids = msg_ids(value);
      m.references.insert(m.references.end(), std::make_move_iterator(ids.begin()),
                          std::make_move_iterator(ids.end()));
    } else if (name == "list-id" && !have_list_id) {
      have_list_id = true;
      const auto open = value.find('<');
      const auto close = open == std::string::npos ? open : value.find('>', open + 1);
      m.list_id = close == std::string::npos ? std::string{trim(value)}
                                             : value.substr(open + 1, close - open - 1);
    }
    m.headers.push_back(std::move(header));
  }
}

// The lines a reader sees at the top of a forwarded message.
std::string nested_header_block(GMimeMessage* inner, std::vector<std::string>& problems) {
  std::string block;
  for (const char* name : {"From", "To", "Cc", "Subject", "Date"}) {
    if (const char* raw = raw_header(GMIME_OBJECT(inner), name)) {
      block.append(name);
      block.append(": ");
      block.append(decode_header_text(raw, &problems));
      block.push_back('\n');
    }
  }
  return block;
}

// Appends "Name: decoded value\n" for one header field.
void append_header_line(std::string& block, GMimeHeader* h, std::vector<std::string>& problems) {
  const char* name = g_mime_header_get_name(h);
  const char* raw = g_mime_header_get_raw_value(h);
  block.append(lenient_utf8(name == nullptr ? "" : name));
  block.append(": ");
  block.append(decode_header_text(raw == nullptr ? "" : raw, &problems));
  block.push_back('\n');
}

// Every header field of a nested message, decoded, one "Name: value" line each.
std::string nested_header_lines(GMimeMessage* inner, std::vector<std::string>& problems) {
  std::string block;
  for (GMimeHeader* h : ordered_header_fields(inner)) {
    append_header_line(block, h, problems);
  }
  return block;
}

// The header fields of a MIME body part (Content-Type with its name=, Content-Disposition with
// its filename=, ...), decoded, one "Name: value" line each: IMAP TEXT searches them, as
// Dovecot does (a message whose attachment is named "objects.zip" has "object" in its text).
std::string part_header_lines(GMimeObject* part, std::vector<std::string>& problems) {
  std::string block;
  GMimeHeaderList* list = g_mime_object_get_header_list(part);  // borrowed
  const int n = list == nullptr ? 0 : g_mime_header_list_get_count(list);
  for (int i = 0; i < n; ++i) {
    if (GMimeHeader* h = g_mime_header_list_get_header_at(list, i)) {  // borrowed
      append_header_line(block, h, problems);
    }
  }
  return block;
}

// ---------------------------------------------------------------------------------------------
// The MIME tree

struct PartInfo {
  std::string type;         // lower-case, e.g. "text"
  std::string subtype;      // lower-case, e.g. "plain"
  std::string disposition;  // lower-case disposition type, empty when absent
  std::optional<std::string> filename;
  std::string charset;

  [[nodiscard]] std::string mime_type() const { return type + "/" + subtype; }
};

PartInfo describe(GMimeObject* object, std::vector<std::string>& problems) {
  PartInfo info;
  GMimeContentType* ct = g_mime_object_get_content_type(object);  // borrowed
  const char* type = ct == nullptr ? nullptr : g_mime_content_type_get_media_type(ct);
  const char* subtype = ct == nullptr ? nullptr : g_mime_content_type_get_media_subtype(ct);
  info.type = lower_ascii(lenient_utf8(type == nullptr ? "text" : type));
  info.subtype = lower_ascii(lenient_utf8(subtype == nullptr ? "plain" : subtype));
  const char* disposition = raw_header(object, "Content-Disposition");
  const char* content_type = raw_header(object, "Content-Type");
  if (disposition != nullptr) {
    info.disposition = header_token(disposition);
    info.filename = find_header_param(disposition, "filename", &problems);
  }
  if (content_type != nullptr) {
    if (!info.filename) {
      info.filename = find_header_param(content_type, "name", &problems);
    }
    info.charset = find_header_param(content_type, "charset").value_or(std::string{});
  }
  return info;
}

// Parts that carry no content of their own: signatures and the PGP/MIME control part.
bool is_crypto_control(const PartInfo& info) {
  if (info.type != "application") {
    return false;
  }
  return info.subtype == "pgp-signature" || info.subtype == "pkcs7-signature" ||
         info.subtype == "x-pkcs7-signature" || info.subtype == "pgp-encrypted";
}

// Leaves whose content is text for a reader even though the type is not text/*.
bool is_textual(const PartInfo& info) {
  if (info.type == "text") {
    return true;
  }
  if (info.type != "message") {
    return false;
  }
  return info.subtype == "partial" || info.subtype == "delivery-status" ||
         info.subtype == "disposition-notification" || info.subtype == "feedback-report" ||
         info.subtype == "global-delivery-status" ||
         info.subtype == "global-disposition-notification" || info.subtype == "global-headers";
}

class Walker {
 public:
  Walker(ParsedMessage& m, std::string_view input) : m_(m), input_(input) {}

  // Depth-first, pre-order, with an explicit stack: nesting depth is bounded by kMaxMimeDepth
  // and part count by kMaxMimeParts, and no input can overflow the call stack.
  void walk(GMimeObject* root) {
    stack_.push_back(Frame{root, 0, true, true});
    while (!stack_.empty()) {
      const Frame frame = stack_.back();
      stack_.pop_back();
      if (frame.object == nullptr) {
        continue;
      }
      if (++parts_ > kMaxMimeParts) {
        add_problem(m_.problems, "more than " + std::to_string(kMaxMimeParts) +
                                     " MIME parts; the rest was not read");
        return;
      }
      if (frame.depth > kMaxMimeDepth) {
        add_problem(m_.problems, "MIME nesting deeper than " + std::to_string(kMaxMimeDepth) +
                                     " levels; deeper parts were not read");
        continue;
      }
      if (GMIME_IS_MULTIPART(frame.object)) {
        visit_multipart(frame);
      } else if (GMIME_IS_MESSAGE_PART(frame.object)) {
        visit_message_part(frame);
      } else if (GMIME_IS_PART(frame.object)) {
        visit_leaf(frame);
      }
    }
  }

 private:
  struct Frame {
    GMimeObject* object;  // borrowed from the message being walked
    int depth;
    bool to_body;    // text goes to body_text; false (alternatives not chosen): other_text
    bool main_body;  // not inside a message/rfc822 part (where body_html comes from)
  };

  std::string& text_of(const Frame& frame) { return frame.to_body ? m_.body_text : m_.other_text; }

  void visit_multipart(const Frame& frame) {
    GMimeMultipart* multipart = GMIME_MULTIPART(frame.object);
    GMimeContentType* ct = g_mime_object_get_content_type(frame.object);  // borrowed
    const char* subtype_c = ct == nullptr ? nullptr : g_mime_content_type_get_media_subtype(ct);
    const std::string subtype = lower_ascii(subtype_c == nullptr ? "" : subtype_c);
    if (subtype == "encrypted") {
      return;  // nothing readable without the key; the control part is not an attachment
    }
    check_termination(multipart, subtype);
    const int count = g_mime_multipart_get_count(multipart);
    if (count == 0) {
      // A multipart whose boundary never appears (or has none) holds everything in its
      // prologue: keep that as text rather than lose the message.
      if (const char* prologue = g_mime_multipart_get_prologue(multipart); prologue != nullptr) {
        std::string text = lenient_utf8(prologue);
        normalize_newlines(text);
        append_block(text_of(frame), std::move(text));
      }
      return;
    }
    const int chosen = subtype == "alternative" ? choose_alternative(multipart, count) : -1;
    for (int k = 0; k < count; ++k) {
      if (GMimeObject* child = g_mime_multipart_get_part(multipart, k)) {  // borrowed
        append_block(m_.nested_header_text, part_header_lines(child, m_.problems));
      }
    }
    for (int k = count - 1; k >= 0; --k) {  // reversed: the stack pops them in order
      stack_.push_back(Frame{g_mime_multipart_get_part(multipart, k), frame.depth + 1,
                             frame.to_body && (chosen < 0 || k == chosen), frame.main_body});
    }
  }

  // Which alternative provides body_text: text/plain if there is one with any text in it (spam
  // pairs a blank text/plain with the real HTML), else HTML (converted), else a multipart
  // (multipart/related around HTML), else the first.
  static int choose_alternative(GMimeMultipart* multipart, int count) {
    int html = -1;
    int nested = -1;
    for (int k = 0; k < count; ++k) {
      GMimeObject* child = g_mime_multipart_get_part(multipart, k);  // borrowed
      if (child == nullptr) {
        continue;
      }
      if (GMIME_IS_MULTIPART(child)) {
        nested = nested < 0 ? k : nested;
        continue;
      }
      GMimeContentType* ct = g_mime_object_get_content_type(child);  // borrowed
      if (ct == nullptr || !GMIME_IS_PART(child)) {
        continue;
      }
      const char* disposition = raw_header(child, "Content-Disposition");
      if (disposition != nullptr && header_token(disposition) == "attachment") {
        continue;
      }
      if (g_mime_content_type_is_type(ct, "text", "plain") != FALSE &&
          !is_blank_part(GMIME_PART(child))) {
        return k;
      }
      if (g_mime_content_type_is_type(ct, "text", "html") != FALSE && html < 0) {
        html = k;
      }
    }
    if (html >= 0) {
      return html;
    }
    return nested >= 0 ? nested : 0;
  }

  // True for a small part holding only whitespace; larger parts are not decoded to check.
  static bool is_blank_part(GMimePart* part) {
    GMimeDataWrapper* content = g_mime_part_get_content(part);  // borrowed
    GMimeStream* raw = content == nullptr ? nullptr : g_mime_data_wrapper_get_stream(content);
    if (raw == nullptr) {
      return true;
    }
    if (g_mime_stream_length(raw) > 1024) {
      return false;
    }
    bool blank = true;
    with_decoded_content(part, [&](std::string_view bytes) {
      blank = std::all_of(bytes.begin(), bytes.end(), [](char c) { return is_space(c); });
    });
    return blank;
  }

  void visit_message_part(const Frame& frame) {
    GMimeMessage* inner = g_mime_message_part_get_message(GMIME_MESSAGE_PART(frame.object));
    const PartInfo info = describe(frame.object, m_.problems);
    if (info.disposition == "attachment" || info.filename) {
      std::uint64_t size = 0;
      if (inner != nullptr) {
        auto counter = Ptr<GMimeStream>::adopt(g_mime_stream_null_new());
        const ssize_t written =
            g_mime_object_write_to_stream(GMIME_OBJECT(inner), nullptr, counter.get());
        size = written < 0 ? 0 : static_cast<std::uint64_t>(written);
      }
      add_attachment(Attachment{info.filename.value_or(std::string{}), info.mime_type(), size});
    }
    if (inner == nullptr) {
      return;
    }
    if (frame.to_body) {
      append_block(m_.body_text, nested_header_block(inner, m_.problems));
    }
    append_block(m_.nested_header_text, nested_header_lines(inner, m_.problems));
    stack_.push_back(
        Frame{g_mime_message_get_mime_part(inner), frame.depth + 1, frame.to_body, false});
  }

  void visit_leaf(const Frame& frame) {
    GMimePart* part = GMIME_PART(frame.object);
    const PartInfo info = describe(frame.object, m_.problems);
    if (is_crypto_control(info)) {
      return;
    }
    const bool textual = is_textual(info);
    const bool html = info.type == "text" && info.subtype == "html";
    const bool attachment = info.disposition == "attachment" || !textual ||
                            (info.filename.has_value() && info.disposition != "inline");
    if (attachment) {
      std::uint64_t size = 0;
      if (textual) {
        with_decoded_content(part, [&](std::string_view bytes) {
          size = bytes.size();
          std::string text = to_utf8(bytes, info.charset);
          append_block(m_.attachment_text, html ? html_to_text(text) : std::move(text));
        });
      } else {
        size = decoded_size(part);
      }
      add_attachment(Attachment{info.filename.value_or(std::string{}), info.mime_type(), size});
      return;
    }
    const bool wants_html = html && frame.main_body && !have_html_;
    with_decoded_content(part, [&](std::string_view bytes) {
      std::string text = to_utf8(bytes, info.charset);
      if (!html) {
        append_block(text_of(frame), std::move(text));
        return;
      }
      append_block(text_of(frame), html_to_text(text));
      if (wants_html) {
        m_.body_html = std::move(text);
        have_html_ = true;
      }
    });
  }

  std::string to_utf8(std::string_view bytes, const std::string& charset) {
    std::string text;
    if (!append_charset_to_utf8(text, bytes, charset)) {
      add_problem(m_.problems, "undecodable charset " + excerpt(charset));
    }
    normalize_newlines(text);
    return text;
  }

  void add_attachment(Attachment attachment) {
    m_.has_attachments = true;
    if (m_.attachments.size() >= kMaxAttachments) {
      add_problem(m_.problems, "more than " + std::to_string(kMaxAttachments) +
                                   " attachments; the list was truncated");
      return;
    }
    m_.attachments.push_back(std::move(attachment));
  }

  // GMime ends a multipart whose close delimiter never comes at the end of its parent (or of
  // the input), and says so only to a warning callback, which we do not install (see
  // parse_message). So: a multipart is terminated when "--boundary--" starts a line after the
  // content of its last leaf. The search starts there (for a well-formed multipart the
  // delimiter follows within a few bytes), boundaries longer than RFC 2046 allows (70) by far
  // are not searched for, and the number of checks per message is capped, so that no input
  // makes this quadratic.
  void check_termination(GMimeMultipart* multipart, const std::string& subtype) {
    const char* boundary =
        g_mime_object_get_content_type_parameter(GMIME_OBJECT(multipart), "boundary");
    if (boundary == nullptr) {
      add_problem(m_.problems, "multipart/" + subtype + " without boundary, read as text");
      return;
    }
    const std::string_view b{boundary};
    if (b.size() > kMaxBoundaryLength || ++termination_checks_ > kMaxTerminationChecks) {
      return;
    }
    std::string delimiter = "--";
    delimiter.append(b);
    delimiter.append("--");
    std::size_t at = input_.find(delimiter, end_of_last_leaf(multipart));
    while (at != std::string_view::npos && at > 0 && input_[at - 1] != '\n') {
      at = input_.find(delimiter, at + 1);
    }
    if (at == std::string_view::npos) {
      add_problem(m_.problems, "unterminated multipart boundary (multipart/" + subtype + ")");
    }
  }

  // Offset in input_ just after the content of the last leaf below `object`, or 0 if unknown.
  [[nodiscard]] std::size_t end_of_last_leaf(GMimeMultipart* multipart) const {
    GMimeObject* object = GMIME_OBJECT(multipart);
    for (int depth = 0; depth <= kMaxMimeDepth && object != nullptr; ++depth) {
      if (GMIME_IS_MULTIPART(object)) {
        const int count = g_mime_multipart_get_count(GMIME_MULTIPART(object));
        object =
            count > 0 ? g_mime_multipart_get_part(GMIME_MULTIPART(object), count - 1) : nullptr;
      } else if (GMIME_IS_MESSAGE_PART(object)) {
        GMimeMessage* inner = g_mime_message_part_get_message(GMIME_MESSAGE_PART(object));
        object = inner == nullptr ? nullptr : g_mime_message_get_mime_part(inner);
      } else {
        break;
      }
    }
    if (object == nullptr || !GMIME_IS_PART(object)) {
      return 0;
    }
    GMimeDataWrapper* content = g_mime_part_get_content(GMIME_PART(object));  // borrowed
    GMimeStream* stream = content == nullptr ? nullptr : g_mime_data_wrapper_get_stream(content);
    const auto view = stream == nullptr ? std::nullopt : mem_view(stream);
    if (!view) {
      return 0;
    }
    // The view points into input_ (our BorrowedBytes); compare addresses as integers.
    const auto begin = reinterpret_cast<std::uintptr_t>(input_.data());
    const auto at = reinterpret_cast<std::uintptr_t>(view->data());
    if (at < begin || at + view->size() > begin + input_.size()) {
      return 0;
    }
    return static_cast<std::size_t>(at - begin) + view->size();
  }

  static constexpr std::size_t kMaxTerminationChecks = 32;
  static constexpr std::size_t kMaxBoundaryLength = 256;

  ParsedMessage& m_;
  std::string_view input_;  // the bytes being parsed
  std::vector<Frame> stack_;
  std::size_t parts_ = 0;
  std::size_t termination_checks_ = 0;
  bool have_html_ = false;
};

// Whatever GMime could not read as a message is still the message: keep it as text.
void keep_as_text(std::string_view input, ParsedMessage& m) {
  std::string text = lenient_utf8(input);
  normalize_newlines(text);
  append_block(m.body_text, std::move(text));
}

}  // namespace

ParsedMessage parse_message(std::string_view raw) {
  ParsedMessage m;
  if (trim(raw).empty()) {
    m.problems.emplace_back("empty message");
    return m;
  }
  ensure_gmime_initialized();

  std::string_view input = raw;
  // An mbox envelope line ("From sender date"), not a header; "From : x" is a header.
  if (input.substr(0, 5) == "From " && trim(input.substr(5, 64)).substr(0, 1) != ":") {
    const auto eol = input.find('\n');
    input.remove_prefix(eol == std::string_view::npos ? input.size() : eol + 1);
  }
  if (input.size() > kMaxInput) {
    input = input.substr(0, kMaxInput);
    add_problem(m.problems, "message larger than 4 GiB; only the first 4 GiB were read");
  }

  // Declaration order is destruction order reversed: the message and parser go first, then
  // the options (header lists keep a pointer to them), the borrowed bytes last.
  //
  // No GMime warning callback: with one installed, GMime decodes every header value of every
  // part while parsing (with its gmime#133 decoder, to validate them), which costs a fifth of
  // the parse time. The problems that matter are detected here instead (read_headers, Walker).
  const BorrowedBytes bytes(input);
  const gobj::ParserOptionsPtr options{g_mime_parser_options_new()};
  const std::array<const char*, 3> fallback = {"UTF-8", "windows-1252", nullptr};
  // GMime copies the list; its prototype lacks a const.
  g_mime_parser_options_set_fallback_charsets(options.get(),
                                              const_cast<const char**>(fallback.data()));
  g_mime_parser_options_set_allow_addresses_without_domain(options.get(), TRUE);
  const auto stream = Ptr<GMimeStream>::adopt(g_mime_stream_mem_new());
  g_mime_stream_mem_set_byte_array(GMIME_STREAM_MEM(stream.get()), bytes.get());  // not owned
  const auto parser = Ptr<GMimeParser>::adopt(g_mime_parser_new_with_stream(stream.get()));
  const auto message =
      Ptr<GMimeMessage>::adopt(g_mime_parser_construct_message(parser.get(), options.get()));

  if (!message) {
    add_problem(m.problems, "no RFC 5322 header block could be read; the input is kept as text");
    keep_as_text(input, m);
  } else {
    read_headers(message.get(), m);
    Walker walker(m, input);
    walker.walk(g_mime_message_get_mime_part(message.get()));
  }
  finish_problems(m.problems);
  return m;
}

}  // namespace mailvault::mime
