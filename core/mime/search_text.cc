#include "core/mime/search_text.h"

#include <array>
#include <cstddef>
#include <cstdint>
#include <utility>

namespace mailvault::mime {
namespace {

constexpr std::string_view kMagic = "MVst";
constexpr std::size_t kCrcSize = 4;
constexpr std::size_t kHeaderSize = 5;  // magic + version

constexpr std::array<std::uint32_t, 256> make_crc_table() {
  std::array<std::uint32_t, 256> table{};
  for (std::uint32_t i = 0; i < 256; ++i) {
    std::uint32_t c = i;
    for (int k = 0; k < 8; ++k) {
      c = (c & 1U) != 0 ? 0xEDB88320U ^ (c >> 1) : c >> 1;
    }
    table[i] = c;
  }
  return table;
}

constexpr auto kCrcTable = make_crc_table();

// CRC-32 (IEEE 802.3, as zlib's crc32). A checksum rather than trust in the blob store's
// compression: a flipped bit inside a string would otherwise decode "successfully".
std::uint32_t crc32(std::string_view data) {
  std::uint32_t c = 0xFFFFFFFFU;
  for (const char ch : data) {
    c = kCrcTable[(c ^ static_cast<unsigned char>(ch)) & 0xFFU] ^ (c >> 8);
  }
  return c ^ 0xFFFFFFFFU;
}

class Writer {
 public:
  void byte(std::uint8_t b) { out_.push_back(static_cast<char>(b)); }

  void varint(std::uint64_t v) {
    while (v >= 0x80) {
      byte(static_cast<std::uint8_t>(v | 0x80));
      v >>= 7;
    }
    byte(static_cast<std::uint8_t>(v));
  }

  void string(std::string_view s) {
    varint(s.size());
    out_.append(s);
  }

  void strings(const std::vector<std::string>& list) {
    varint(list.size());
    for (const auto& s : list) {
      string(s);
    }
  }

  void addresses(const std::vector<Address>& list) {
    varint(list.size());
    for (const auto& a : list) {
      string(a.name);
      string(a.email);
    }
  }

  std::string& buffer() { return out_; }

 private:
  std::string out_;
};

Error corrupt(std::string what) {
  return Error{Code::kDataLoss, "search text: " + std::move(what)};
}

// Every read checks the remaining length first; counts are checked against the bytes left
// (each element takes at least one), so hostile counts cannot make us allocate.
class Reader {
 public:
  explicit Reader(std::string_view data) : data_(data) {}

  bool byte(std::uint8_t& b) {
    if (pos_ >= data_.size()) {
      return false;
    }
    b = static_cast<std::uint8_t>(data_[pos_++]);
    return true;
  }

  bool varint(std::uint64_t& v) {
    v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      std::uint8_t b = 0;
      if (!byte(b)) {
        return false;
      }
      if (shift == 63 && b > 1) {
        return false;  // more than 64 bits
      }
      v |= static_cast<std::uint64_t>(b & 0x7F) << shift;
      if ((b & 0x80) == 0) {
        return true;
      }
    }
    return false;
  }

  bool count(std::size_t& n) {
    std::uint64_t v = 0;
    if (!varint(v) || v > remaining()) {
      return false;
    }
    n = static_cast<std::size_t>(v);
    return true;
  }

  bool string(std::string& s) {
    std::size_t n = 0;
    if (!count(n)) {
      return false;
    }
    s.assign(data_.substr(pos_, n));
    pos_ += n;
    return true;
  }

  bool strings(std::vector<std::string>& list) {
    std::size_t n = 0;
    if (!count(n)) {
      return false;
    }
    list.resize(n);
    for (auto& s : list) {
      if (!string(s)) {
        return false;
      }
    }
    return true;
  }

  bool addresses(std::vector<Address>& list) {
    std::size_t n = 0;
    if (!count(n)) {
      return false;
    }
    list.resize(n);
    for (auto& a : list) {
      if (!string(a.name) || !string(a.email)) {
        return false;
      }
    }
    return true;
  }

  bool flag(bool& value) {
    std::uint8_t b = 0;
    if (!byte(b) || b > 1) {
      return false;
    }
    value = b == 1;
    return true;
  }

  [[nodiscard]] std::size_t remaining() const { return data_.size() - pos_; }

 private:
  std::string_view data_;
  std::size_t pos_ = 0;
};

std::uint64_t zigzag(std::int64_t v) {
  return (static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63);
}

std::int64_t unzigzag(std::uint64_t v) {
  return static_cast<std::int64_t>(v >> 1) ^ -static_cast<std::int64_t>(v & 1);
}

bool read_fields(Reader& in, std::uint8_t version, ParsedMessage& m) {
  if (!in.string(m.message_id) || !in.string(m.subject) || !in.addresses(m.from) ||
      !in.addresses(m.sender) || !in.addresses(m.reply_to) || !in.addresses(m.to) ||
      !in.addresses(m.cc) || !in.addresses(m.bcc)) {
    return false;
  }
  bool has_date = false;
  if (!in.flag(has_date)) {
    return false;
  }
  if (has_date) {
    std::uint64_t v = 0;
    if (!in.varint(v)) {
      return false;
    }
    m.date = unzigzag(v);
  }
  if (!in.string(m.in_reply_to) || !in.strings(m.references) || !in.string(m.list_id)) {
    return false;
  }
  std::size_t n = 0;
  if (!in.count(n)) {
    return false;
  }
  m.headers.resize(n);
  for (auto& h : m.headers) {
    if (!in.string(h.name) || !in.string(h.value)) {
      return false;
    }
  }
  if (!in.string(m.body_text) || !in.count(n)) {
    return false;
  }
  m.attachments.resize(n);
  for (auto& a : m.attachments) {
    if (!in.string(a.filename) || !in.string(a.content_type) || !in.varint(a.size)) {
      return false;
    }
  }
  if (!in.string(m.attachment_text) || !in.flag(m.has_attachments) || !in.strings(m.problems)) {
    return false;
  }
  if (version < 2) {
    return true;  // version 1 had no date zone, other_text or nested_header_text
  }
  std::uint64_t zone = 0;
  if (!in.varint(zone)) {
    return false;
  }
  const std::int64_t minutes = unzigzag(zone);
  if (minutes < -24 * 60 || minutes > 24 * 60) {
    return false;
  }
  m.date_zone_minutes = static_cast<std::int32_t>(minutes);
  return in.string(m.other_text) && in.string(m.nested_header_text);
}

}  // namespace

std::string encode_search_text(const ParsedMessage& m) {
  Writer out;
  std::size_t estimate =
      kHeaderSize + kCrcSize + m.body_text.size() + m.attachment_text.size() + m.other_text.size() +
      m.nested_header_text.size();
  for (const auto& h : m.headers) {
    estimate += h.name.size() + h.value.size() + 4;
  }
  out.buffer().reserve(estimate + 256);
  out.buffer().append(kMagic);
  out.byte(kSearchTextVersion);
  out.string(m.message_id);
  out.string(m.subject);
  for (const auto* list : {&m.from, &m.sender, &m.reply_to, &m.to, &m.cc, &m.bcc}) {
    out.addresses(*list);
  }
  out.byte(m.date.has_value() ? 1 : 0);
  if (m.date) {
    out.varint(zigzag(*m.date));
  }
  out.string(m.in_reply_to);
  out.strings(m.references);
  out.string(m.list_id);
  out.varint(m.headers.size());
  for (const auto& h : m.headers) {
    out.string(h.name);
    out.string(h.value);
  }
  out.string(m.body_text);
  out.varint(m.attachments.size());
  for (const auto& a : m.attachments) {
    out.string(a.filename);
    out.string(a.content_type);
    out.varint(a.size);
  }
  out.string(m.attachment_text);
  out.byte(m.has_attachments ? 1 : 0);
  out.strings(m.problems);
  out.varint(zigzag(m.date_zone_minutes));
  out.string(m.other_text);
  out.string(m.nested_header_text);
  const std::uint32_t crc = crc32(out.buffer());
  for (int shift = 0; shift < 32; shift += 8) {
    out.byte(static_cast<std::uint8_t>((crc >> shift) & 0xFFU));
  }
  return std::move(out.buffer());
}

Result<ParsedMessage> decode_search_text(std::string_view bytes) {
  if (bytes.size() < kHeaderSize + kCrcSize || bytes.substr(0, kMagic.size()) != kMagic) {
    return corrupt("not a search text record (bad magic or too short)");
  }
  const auto version = static_cast<std::uint8_t>(bytes[kMagic.size()]);
  const std::string_view body = bytes.substr(0, bytes.size() - kCrcSize);
  std::uint32_t stored = 0;
  for (std::size_t k = 0; k < kCrcSize; ++k) {
    stored |= static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[body.size() + k]))
              << (8 * k);
  }
  if (crc32(body) != stored) {
    return corrupt("checksum mismatch (corrupt or truncated)");
  }
  if (version == 0 || version > kSearchTextVersion) {
    return Error{Code::kUnimplemented,
                 "search text: unsupported version " + std::to_string(version)};
  }
  Reader in(body.substr(kHeaderSize));
  ParsedMessage message;
  if (!read_fields(in, version, message)) {
    return corrupt("truncated or malformed field");
  }
  if (in.remaining() != 0) {
    return corrupt("trailing bytes");
  }
  return message;
}

}  // namespace mailvault::mime
