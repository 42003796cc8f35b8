#include "core/mime/search_text.h"

#include <cstdint>
#include <string>

#include <gtest/gtest.h>

#include "core/mime/parse.h"
#include "tests/unit/core/mime/test_util.h"

namespace mailvault::mime {
namespace {

ParsedMessage full_message() {
  ParsedMessage m;
  m.message_id = "id@example.org";
  m.subject = "Subject \xE2\x82\xAC";
  m.from = {{"Ann", "ann@example.org"}};
  m.sender = {{"", "list@example.org"}};
  m.reply_to = {{"Bob", "bob@example.org"}, {"", ""}};
  m.to = {{"C", "c@example.org"}};
  m.cc = {{"group", ""}, {"", "d@example.org"}};
  m.bcc = {{"E", "e@example.org"}};
  m.date = -27723426;
  m.in_reply_to = "parent@example.org";
  m.references = {"root@example.org", "parent@example.org"};
  m.list_id = "list.example.org";
  m.headers = {
      {"From", "Ann <ann@example.org>"}, {"Subject", "Subject \xE2\x82\xAC"}, {"X-Empty", ""}};
  m.body_text = std::string(300, 'b') + "\nend";
  m.body_html = "<p>not stored</p>";
  m.attachments = {{"a.pdf", "application/pdf", 123456789012ULL}, {"", "image/png", 0}};
  m.attachment_text = "attached text";
  m.has_attachments = true;
  m.problems = {"invalid Date header: x"};
  m.date_zone_minutes = -330;
  m.other_text = "<alternative> text";
  m.nested_header_text = "X-Inner: header";
  return m;
}

// CRC-32 (IEEE), to forge records with a valid checksum.
std::uint32_t crc32(std::string_view data) {
  std::uint32_t c = 0xFFFFFFFFU;
  for (const char ch : data) {
    c ^= static_cast<unsigned char>(ch);
    for (int k = 0; k < 8; ++k) {
      c = (c & 1U) != 0 ? 0xEDB88320U ^ (c >> 1) : c >> 1;
    }
  }
  return c ^ 0xFFFFFFFFU;
}

std::string with_crc(std::string body) {
  const std::uint32_t crc = crc32(body);
  for (int shift = 0; shift < 32; shift += 8) {
    body.push_back(static_cast<char>((crc >> shift) & 0xFFU));
  }
  return body;
}

TEST(SearchText, RoundTripsEveryFieldButHtml) {
  const ParsedMessage m = full_message();
  const std::string bytes = encode_search_text(m);
  EXPECT_EQ(bytes.substr(0, 5), std::string("MVst\x02", 5));
  const auto decoded = decode_search_text(bytes);
  ASSERT_TRUE(decoded.has_value()) << decoded.error().message;
  EXPECT_TRUE(testing::equal_except_html(*decoded, m));
  EXPECT_TRUE(decoded->body_html.empty());
  EXPECT_EQ(encode_search_text(*decoded), bytes);  // deterministic
}

TEST(SearchText, RoundTripsEmptyMessageAndDates) {
  ParsedMessage m;
  auto decoded = decode_search_text(encode_search_text(m));
  ASSERT_TRUE(decoded.has_value());
  EXPECT_TRUE(testing::equal_except_html(*decoded, m));
  EXPECT_FALSE(decoded->date.has_value());
  for (const std::int64_t date : {std::int64_t{0}, std::int64_t{-1}, INT64_MIN, INT64_MAX}) {
    m.date = date;
    decoded = decode_search_text(encode_search_text(m));
    ASSERT_TRUE(decoded.has_value());
    EXPECT_EQ(decoded->date, date);
  }
}

TEST(SearchText, RoundTripsAParsedMessage) {
  const ParsedMessage m = parse_message(
      "From: =?UTF-8?Q?J=C3=B6rg?= <j@example.org>\nSubject: s\nDate: Tue, 1 Jul 2003 10:52:37 "
      "+0200\nContent-Type: multipart/mixed; boundary=b\n\n--b\n\nbody\n--b\nContent-Type: "
      "image/png; name=x.png\n\nPNG\n--b--\n");
  const auto decoded = decode_search_text(encode_search_text(m));
  ASSERT_TRUE(decoded.has_value());
  EXPECT_TRUE(testing::equal_except_html(*decoded, m));
}

TEST(SearchText, EveryTruncationIsDataLoss) {
  const std::string bytes = encode_search_text(full_message());
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    const auto decoded = decode_search_text(std::string_view{bytes}.substr(0, n));
    ASSERT_FALSE(decoded.has_value()) << "prefix of " << n << " bytes";
    EXPECT_EQ(decoded.error().code, Code::kDataLoss) << n;
  }
}

TEST(SearchText, EveryBitFlipIsDataLoss) {
  const std::string bytes = encode_search_text(full_message());
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string corrupt = bytes;
      corrupt[i] = static_cast<char>(corrupt[i] ^ (1 << bit));
      const auto decoded = decode_search_text(corrupt);
      ASSERT_FALSE(decoded.has_value()) << "byte " << i << " bit " << bit;
      // A flipped version byte with an intact checksum cannot happen: the CRC covers it.
      EXPECT_EQ(decoded.error().code, Code::kDataLoss) << i;
    }
  }
}

TEST(SearchText, TrailingBytesAreDataLoss) {
  std::string bytes = encode_search_text(full_message());
  bytes.resize(bytes.size() - 4);
  bytes.push_back('\0');
  const auto decoded = decode_search_text(with_crc(bytes));
  ASSERT_FALSE(decoded.has_value());
  EXPECT_EQ(decoded.error().code, Code::kDataLoss);
}

TEST(SearchText, ForgedHugeCountsAreRejectedWithoutAllocating) {
  // A well-formed checksum over a body that claims 2^60 addresses.
  std::string body("MVst\x01", 5);
  body += '\0';                                    // message_id ""
  body += '\0';                                    // subject ""
  body += "\x80\x80\x80\x80\x80\x80\x80\x80\x10";  // from: count 2^60
  const auto decoded = decode_search_text(with_crc(body));
  ASSERT_FALSE(decoded.has_value());
  EXPECT_EQ(decoded.error().code, Code::kDataLoss);
}

TEST(SearchText, OverlongVarintIsRejected) {
  std::string body("MVst\x01", 5);
  body += std::string(11, '\xFF');
  const auto decoded = decode_search_text(with_crc(body));
  ASSERT_FALSE(decoded.has_value());
  EXPECT_EQ(decoded.error().code, Code::kDataLoss);
}

TEST(SearchText, ReadsVersionOne) {
  // Version 1 is version 2 without the trailing zone varint and other_text string.
  ParsedMessage m = full_message();
  m.date_zone_minutes = 0;
  m.other_text.clear();
  m.nested_header_text.clear();
  std::string bytes = encode_search_text(m);
  bytes.resize(bytes.size() - 4 - 3);  // CRC, zone 0, empty other_text and nested_header_text
  bytes[4] = 1;
  const auto decoded = decode_search_text(with_crc(bytes));
  ASSERT_TRUE(decoded.has_value()) << decoded.error().message;
  EXPECT_TRUE(testing::equal_except_html(*decoded, m));
}

TEST(SearchText, ImpossibleZoneIsDataLoss) {
  ParsedMessage m = full_message();
  m.date_zone_minutes = 25 * 60;
  const auto decoded = decode_search_text(encode_search_text(m));
  ASSERT_FALSE(decoded.has_value());
  EXPECT_EQ(decoded.error().code, Code::kDataLoss);
}

TEST(SearchText, OtherVersionIsUnimplemented) {
  std::string bytes = encode_search_text(full_message());
  bytes.resize(bytes.size() - 4);
  bytes[4] = 3;
  const auto decoded = decode_search_text(with_crc(bytes));
  ASSERT_FALSE(decoded.has_value());
  EXPECT_EQ(decoded.error().code, Code::kUnimplemented);
}

TEST(SearchText, BadMagicIsDataLoss) {
  const auto decoded = decode_search_text(with_crc(std::string("XXXX\x01", 5)));
  ASSERT_FALSE(decoded.has_value());
  EXPECT_EQ(decoded.error().code, Code::kDataLoss);
}

}  // namespace
}  // namespace mailvault::mime
