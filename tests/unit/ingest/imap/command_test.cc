#include "ingest/imap/command.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace mailvault::ingest::imap {
namespace {

TEST(IngestImapCommandTest, AtomsQuotedStringsAndLiterals) {
  Command c =
      CommandBuilder("A1", "EXAMINE", LiteralMode::kSynchronizing).astring("INBOX").finish();
  EXPECT_EQ(c.parts, std::vector<std::string>{"A1 EXAMINE INBOX\r\n"});
  EXPECT_EQ(c.tag, "A1");

  c = CommandBuilder("A2", "EXAMINE", LiteralMode::kSynchronizing).astring("Sent Items").finish();
  EXPECT_EQ(c.parts, std::vector<std::string>{"A2 EXAMINE \"Sent Items\"\r\n"});

  c = CommandBuilder("A3", "EXAMINE", LiteralMode::kSynchronizing).astring("a\"b\\c").finish();
  EXPECT_EQ(c.parts, std::vector<std::string>{"A3 EXAMINE \"a\\\"b\\\\c\"\r\n"});

  c = CommandBuilder("A4", "EXAMINE", LiteralMode::kSynchronizing).astring("NIL").finish();
  EXPECT_EQ(c.parts, std::vector<std::string>{"A4 EXAMINE \"NIL\"\r\n"});

  c = CommandBuilder("A5", "EXAMINE", LiteralMode::kSynchronizing).astring("").finish();
  EXPECT_EQ(c.parts, std::vector<std::string>{"A5 EXAMINE \"\"\r\n"});

  c = CommandBuilder("A6", "EXAMINE", LiteralMode::kSynchronizing).astring("a%b").finish();
  EXPECT_EQ(c.parts, std::vector<std::string>{"A6 EXAMINE \"a%b\"\r\n"});
}

TEST(IngestImapCommandTest, SynchronizingLiteralSplitsTheCommand) {
  Command c = CommandBuilder("A1", "LOGIN", LiteralMode::kSynchronizing)
                  .string("fred")
                  .string("p\xc3\xa4ss", /*secret=*/true)
                  .finish();
  EXPECT_EQ(c.parts, (std::vector<std::string>{"A1 LOGIN \"fred\" {5}\r\n", "p\xc3\xa4ss\r\n"}));
  EXPECT_EQ(c.log_text, "A1 LOGIN \"fred\" {5 secret bytes}");
}

TEST(IngestImapCommandTest, LiteralPlusAndMinus) {
  Command c = CommandBuilder("A1", "LOGIN", LiteralMode::kLiteralPlus)
                  .string("line\r\nbreak")
                  .string("x", true)
                  .finish();
  EXPECT_EQ(c.parts, std::vector<std::string>{"A1 LOGIN {11+}\r\nline\r\nbreak \"x\"\r\n"});
  EXPECT_EQ(c.log_text, "A1 LOGIN {11 bytes} \"***\"");

  const std::string big(5000, '\x80');
  c = CommandBuilder("A2", "X", LiteralMode::kLiteralMinus).string("\x80").string(big).finish();
  ASSERT_EQ(c.parts.size(), 2u);
  EXPECT_EQ(c.parts[0], "A2 X {1+}\r\n\x80 {5000}\r\n");
  EXPECT_EQ(c.parts[1], big + "\r\n");
}

TEST(IngestImapCommandTest, LongValuesBecomeLiterals) {
  const std::string long_value(2000, 'a');
  Command c = CommandBuilder("A1", "X", LiteralMode::kLiteralPlus).string(long_value).finish();
  EXPECT_EQ(c.parts, std::vector<std::string>{"A1 X {2000+}\r\n" + long_value + "\r\n"});
}

TEST(IngestImapCommandTest, SecretsAreHiddenInTheLog) {
  Command c = CommandBuilder("A1", "AUTHENTICATE", LiteralMode::kSynchronizing)
                  .raw("PLAIN")
                  .raw("AGZyZWQAc2VjcmV0", /*secret=*/true)
                  .finish();
  EXPECT_EQ(c.log_text, "A1 AUTHENTICATE PLAIN ***");
  EXPECT_EQ(c.parts, std::vector<std::string>{"A1 AUTHENTICATE PLAIN AGZyZWQAc2VjcmV0\r\n"});
}

TEST(IngestImapCommandTest, UidSets) {
  const std::vector<std::uint32_t> a = {1, 2, 3, 4, 5, 7, 9, 10, 11, 12};
  EXPECT_EQ(format_uid_set(a), "1:5,7,9:12");
  const std::vector<std::uint32_t> b = {12, 3, 3, 1, 2};
  EXPECT_EQ(format_uid_set(b), "1:3,12");
  EXPECT_EQ(format_uid_set({}), "");
  const std::vector<std::uint32_t> c = {4294967295u, 4294967294u};
  EXPECT_EQ(format_uid_set(c), "4294967294:4294967295");
  const std::vector<std::uint32_t> d = {5};
  EXPECT_EQ(format_uid_set(d), "5");
}

TEST(IngestImapCommandTest, TagsAreUnique) {
  TagGenerator tags;
  EXPECT_EQ(tags.next(), "A1");
  EXPECT_EQ(tags.next(), "A2");
}

TEST(IngestImapCommandTest, Quotable) {
  EXPECT_TRUE(is_quotable("hello world"));
  EXPECT_FALSE(is_quotable("a\r\nb"));
  EXPECT_FALSE(is_quotable(std::string("a\0b", 3)));
  EXPECT_FALSE(is_quotable("\xc3\xa4"));
  EXPECT_TRUE(is_atom("INBOX"));
  EXPECT_FALSE(is_atom("a b"));
  EXPECT_FALSE(is_atom(""));
}

}  // namespace
}  // namespace mailvault::ingest::imap
