#include "indexer/schema.h"

#include <array>
#include <cstdint>
#include <string>

namespace mailvault::index {
namespace {

using search::Field;

constexpr std::array kAllText{
    IndexField::kBody, IndexField::kSubject, IndexField::kFrom,     IndexField::kTo,
    IndexField::kCc,   IndexField::kBcc,     IndexField::kFilename, IndexField::kAttachmentText};
constexpr std::array kFrom{IndexField::kFrom};
constexpr std::array kTo{IndexField::kTo};
constexpr std::array kCc{IndexField::kCc};
constexpr std::array kBcc{IndexField::kBcc};
constexpr std::array kSubject{IndexField::kSubject};
constexpr std::array kBody{IndexField::kBody};
constexpr std::array kAttachment{IndexField::kFilename, IndexField::kAttachmentText};
constexpr std::array kFilename{IndexField::kFilename};
constexpr std::array kMessageId{IndexField::kMessageId};
constexpr std::array kListId{IndexField::kListId};
constexpr std::array kAccount{IndexField::kAccount};
constexpr std::array kFolder{IndexField::kFolder};

// Order-preserving 8-byte encoding of a signed integer.
void append_ordered(std::string& out, std::int64_t v) {
  const std::uint64_t u = static_cast<std::uint64_t>(v) ^ (std::uint64_t{1} << 63);
  for (int shift = 56; shift >= 0; shift -= 8) {
    out += static_cast<char>((u >> shift) & 0xFFU);
  }
}

}  // namespace

std::span<const IndexField> fields_for(Field field) {
  switch (field) {
    case Field::kAll:
      return kAllText;
    case Field::kFrom:
      return kFrom;
    case Field::kTo:
      return kTo;
    case Field::kCc:
      return kCc;
    case Field::kBcc:
      return kBcc;
    case Field::kSubject:
      return kSubject;
    case Field::kBody:
      return kBody;
    case Field::kAttachment:
      return kAttachment;
    case Field::kFilename:
      return kFilename;
    case Field::kMessageId:
      return kMessageId;
    case Field::kListId:
      return kListId;
    case Field::kAccount:
      return kAccount;
    case Field::kFolder:
      return kFolder;
  }
  return {};
}

std::string unique_term(MessageId id) {
  std::string term(prefix_of(IndexField::kId));
  term += std::to_string(to_int(id));
  return term;
}

std::string stem_class_key(std::string_view stem) {
  std::string key = "Z";
  key += stem;
  return key;
}

std::string bounded_term(std::string_view prefix, std::string_view value) {
  std::string term;
  if (prefix.size() + value.size() <= kMaxTermBytes) {
    term.reserve(prefix.size() + value.size());
    term += prefix;
    term += value;
    return term;
  }
  std::uint64_t hash = 14695981039346656037ULL;  // FNV-1a 64
  for (const char c : value) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 1099511628211ULL;
  }
  constexpr std::size_t kSuffix = 17;  // '#' + 16 hex digits
  std::size_t keep = kMaxTermBytes - prefix.size() - kSuffix;
  // Do not cut inside a UTF-8 sequence.
  while (keep > 0 && (static_cast<unsigned char>(value[keep]) & 0xc0) == 0x80) {
    --keep;
  }
  term.reserve(kMaxTermBytes);
  term += prefix;
  term += value.substr(0, keep);
  term += '#';
  static constexpr std::string_view kHex = "0123456789abcdef";
  for (int shift = 60; shift >= 0; shift -= 4) {
    term += kHex[(hash >> shift) & 0xFU];
  }
  return term;
}

std::string encode_sort_key(std::int64_t sort_date, MessageId id) {
  std::string key;
  key.reserve(16);
  append_ordered(key, sort_date);
  append_ordered(key, to_int(id));
  return key;
}

std::optional<MessageId> decode_sort_key_id(std::string_view value) {
  if (value.size() != 16) {
    return std::nullopt;
  }
  std::uint64_t u = 0;
  for (std::size_t i = 8; i < 16; ++i) {
    u = (u << 8) | static_cast<unsigned char>(value[i]);
  }
  return MessageId{static_cast<std::int64_t>(u ^ (std::uint64_t{1} << 63))};
}

}  // namespace mailvault::index
