#include "server-imap/session/message_text.h"

#include <gtest/gtest.h>

namespace mailvault::imapd {
namespace {

TEST(SplitHeader, CrlfMessage) {
  const std::string raw = "From: a@b\r\nSubject: x\r\n\r\nbody\r\n\r\nmore\r\n";
  EXPECT_EQ(header_of(raw), "From: a@b\r\nSubject: x\r\n\r\n");
  EXPECT_EQ(text_of(raw), "body\r\n\r\nmore\r\n");
}

TEST(SplitHeader, LfMessage) {
  const std::string raw = "From: a@b\nSubject: x\n\nbody\n";
  EXPECT_EQ(header_of(raw), "From: a@b\nSubject: x\n\n");
  EXPECT_EQ(text_of(raw), "body\n");
}

TEST(SplitHeader, NoEmptyLineIsAllHeader) {
  EXPECT_EQ(header_of("From: a@b\r\nSubject: x"), "From: a@b\r\nSubject: x");
  EXPECT_EQ(text_of("From: a@b\r\nSubject: x\r\n"), "");
}

TEST(SplitHeader, LeadingEmptyLineMeansEmptyHeader) {
  EXPECT_EQ(header_of("\r\nbody"), "\r\n");
  EXPECT_EQ(text_of("\nbody"), "body");
  EXPECT_EQ(header_of(""), "");
}

TEST(SplitHeader, WhitespaceOnlyLineIsNotEmpty) {
  const std::string raw = "A: 1\r\n \r\nB: 2\r\n\r\nbody";
  EXPECT_EQ(text_of(raw), "body");
}

TEST(HeaderFields, KeepsListedFieldsWithContinuations) {
  const std::string raw =
      "Received: by x\r\n  with y\r\nFrom: Alice <a@b>\r\nSubject: hello\r\n  world\r\n"
      "To: c@d\r\n\r\nbody\r\n";
  EXPECT_EQ(header_fields(raw, {"SUBJECT", "FROM"}, true),
            "From: Alice <a@b>\r\nSubject: hello\r\n  world\r\n\r\n");
  EXPECT_EQ(header_fields(raw, {"RECEIVED", "SUBJECT"}, false),
            "From: Alice <a@b>\r\nTo: c@d\r\n\r\n");
  EXPECT_EQ(header_fields(raw, {"X-NONE"}, true), "\r\n");
}

TEST(HeaderFields, LfMessageAndSpaceBeforeColon) {
  const std::string raw = "Subject : spaced\nFrom: a@b\n\nbody\n";
  EXPECT_EQ(header_fields(raw, {"SUBJECT"}, true), "Subject : spaced\n\r\n");
}

TEST(PartialRange, Bounds) {
  const std::string data = "0123456789";
  EXPECT_EQ(partial_range(data, 0, 4), "0123");
  EXPECT_EQ(partial_range(data, 8, 4), "89");
  EXPECT_EQ(partial_range(data, 10, 4), "");
  EXPECT_EQ(partial_range(data, 99, 1), "");
  EXPECT_EQ(partial_range(data, 3, std::nullopt), "3456789");
}

TEST(InternalDate, Format) {
  EXPECT_EQ(format_internal_date(0), " 1-Jan-1970 00:00:00 +0000");
  EXPECT_EQ(format_internal_date(837571465), "17-Jul-1996 02:44:25 +0000");
}

}  // namespace
}  // namespace mailvault::imapd
