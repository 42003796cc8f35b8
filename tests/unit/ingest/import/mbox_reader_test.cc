#include "ingest/import/mbox_reader.h"

#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "ingest/import/byte_source.h"

namespace mailvault::ingest {
namespace {

struct Split {
  std::vector<MboxEntry> entries;
  std::vector<std::string> messages;
  std::string error;
};

Split split(std::string_view data, std::size_t buffer_size) {
  Split out;
  StringByteSource source(data);
  MboxReader reader(source, MboxReaderOptions{buffer_size});
  while (true) {
    auto next = reader.next();
    if (!next) {
      out.error = next.error().message;
      break;
    }
    if (!*next) {
      break;
    }
    out.messages.emplace_back(data.substr(static_cast<std::size_t>((*next)->offset),
                                          static_cast<std::size_t>((*next)->length)));
    out.entries.push_back(std::move(**next));
  }
  return out;
}

// Every test runs with tiny buffers too, so that lines, CRLF pairs and From_ lines straddle
// buffer refills.
class MboxReaderTest : public ::testing::TestWithParam<std::size_t> {
 protected:
  static Split split(std::string_view data) { return ingest::split(data, GetParam()); }
};

INSTANTIATE_TEST_SUITE_P(BufferSizes, MboxReaderTest,
                         ::testing::Values(1, 2, 3, 5, 7, 16, std::size_t{64} * 1024));

TEST_P(MboxReaderTest, TwoMessagesSeparatedByAnEmptyLine) {
  const std::string data =
      "From alice@example.com Sat Jan  3 01:05:34 1996\n"
      "Subject: one\n"
      "\n"
      "body one\n"
      "\n"
      "From bob@example.com Sun Jan  4 10:00:00 1996\n"
      "Subject: two\n"
      "\n"
      "body two\n";
  const Split s = split(data);
  ASSERT_EQ(s.error, "");
  ASSERT_EQ(s.messages.size(), 2U);
  EXPECT_EQ(s.messages[0], "Subject: one\n\nbody one\n");
  EXPECT_EQ(s.messages[1], "Subject: two\n\nbody two\n");
  EXPECT_EQ(s.entries[0].from_line_offset, 0U);
  EXPECT_EQ(s.entries[0].offset, 48U);
  EXPECT_EQ(s.entries[0].from_line, "From alice@example.com Sat Jan  3 01:05:34 1996");
  EXPECT_EQ(s.entries[1].from_line_offset, data.find("From bob"));
  EXPECT_EQ(s.entries[1].offset, data.find("Subject: two"));
}

TEST_P(MboxReaderTest, CrlfFile) {
  const std::string data =
      "From a Sat Jan  3 01:05:34 1996\r\n"
      "Subject: one\r\n"
      "\r\n"
      "body one\r\n"
      "\r\n"
      "From b Sat Jan  3 01:05:34 1996\r\n"
      "Subject: two\r\n"
      "\r\n"
      "body two\r\n";
  const Split s = split(data);
  ASSERT_EQ(s.messages.size(), 2U);
  EXPECT_EQ(s.messages[0], "Subject: one\r\n\r\nbody one\r\n");
  EXPECT_EQ(s.messages[1], "Subject: two\r\n\r\nbody two\r\n");
}

TEST_P(MboxReaderTest, FromInBodyAfterTextLineIsBodyText) {
  const std::string data =
      "From a Sat Jan  3 01:05:34 1996\n"
      "Subject: one\n"
      "\n"
      "I said\n"
      "From here on, it is body text.\n"
      "From Russia with love\n"
      "Year: 1963\n";
  const Split s = split(data);
  ASSERT_EQ(s.messages.size(), 1U);
  EXPECT_EQ(s.messages[0], data.substr(data.find('\n') + 1));
}

TEST_P(MboxReaderTest, FromAfterEmptyLineStartsAMessageEvenInABody) {
  // mimekit unmunged.mbox: without Content-Length an un-munged "From " line after an empty
  // line is a boundary (MimeKit finds 4 messages in that file too).
  const std::string data =
      "From -\n"
      "Subject: movie\n"
      "\n"
      "My favourite:\n"
      "\n"
      "From Russia with love\n"
      "\n"
      "What does Thunderbird do?\n";
  const Split s = split(data);
  ASSERT_EQ(s.messages.size(), 2U);
  EXPECT_EQ(s.messages[0], "Subject: movie\n\nMy favourite:\n");
  EXPECT_EQ(s.entries[1].from_line, "From Russia with love");
  EXPECT_EQ(s.messages[1], "\nWhat does Thunderbird do?\n");
}

TEST_P(MboxReaderTest, MungedFromIsKeptAsIs) {
  const std::string data =
      "From a Sat Jan  3 01:05:34 1996\n"
      "Subject: one\n"
      "\n"
      ">From the start\n"
      "\n"
      ">>From quoted twice\n";
  const Split s = split(data);
  ASSERT_EQ(s.messages.size(), 1U);
  EXPECT_EQ(s.messages[0], "Subject: one\n\n>From the start\n\n>>From quoted twice\n");
}

TEST_P(MboxReaderTest, NetscapeFromLinesWithoutEmptyLine) {
  // gmime substring.mbox / mimekit simple.mbox: "From - " directly after the last body line.
  const std::string data =
      "From - \n"
      "From: a@example.com\n"
      "\n"
      "one\n"
      "From - \n"
      "From: b@example.com\n"
      "\n"
      "two\n"
      "From - Mon Jun  3 12:50:27 1996\n"
      "Subject: three\n"
      "\n"
      "three\n";
  const Split s = split(data);
  ASSERT_EQ(s.messages.size(), 3U);
  // The line break before the From_ line is the separator.
  EXPECT_EQ(s.messages[0], "From: a@example.com\n\none");
  EXPECT_EQ(s.messages[1], "From: b@example.com\n\ntwo");
  EXPECT_EQ(s.messages[2], "Subject: three\n\nthree\n");
}

TEST_P(MboxReaderTest, WellFormedFromLineWithoutHeaderAfterItIsBodyText) {
  const std::string data =
      "From a Sat Jan  3 01:05:34 1996\n"
      "Subject: one\n"
      "\n"
      "text\n"
      "From b Sat Jan  3 01:05:34 1996\n"
      "not a header line\n";
  const Split s = split(data);
  ASSERT_EQ(s.messages.size(), 1U);
}

TEST_P(MboxReaderTest, ContentLengthSkipsUnmungedFromLines) {
  const std::string body = "line\n\nFrom Russia with love\nYear: 1963\n";
  const std::string data =
      "From a Sat Jan  3 01:05:34 1996\n"
      "Subject: one\n"
      "Content-Length: " +
      std::to_string(body.size()) +
      "\n"
      "\n" +
      body +
      "\n"
      "From b Sat Jan  3 01:05:34 1996\n"
      "Subject: two\n"
      "\n"
      "two\n";
  const Split s = split(data);
  ASSERT_EQ(s.messages.size(), 2U);
  EXPECT_EQ(s.messages[0],
            data.substr(s.entries[0].offset, data.find("\nFrom b") - s.entries[0].offset));
  EXPECT_TRUE(s.messages[0].ends_with(body));
  EXPECT_EQ(s.messages[1], "Subject: two\n\ntwo\n");
}

TEST_P(MboxReaderTest, ContentLengthLandingAtEndOfFile) {
  const std::string body = "x\n\nFrom y Sat Jan  3 01:05:34 1996\nSubject: not a message\n";
  const std::string data =
      "From a\ncontent-length :  " + std::to_string(body.size()) + "  \n\n" + body;
  const Split s = split(data);
  ASSERT_EQ(s.messages.size(), 1U);
  EXPECT_TRUE(s.messages[0].ends_with(body));
}

TEST_P(MboxReaderTest, ContentLengthLandingAtFinalSeparator) {
  const std::string body = "x\n\nFrom y\n";
  const std::string data =
      "From a\nContent-Length: " + std::to_string(body.size()) + "\n\n" + body + "\n";
  const Split s = split(data);
  ASSERT_EQ(s.messages.size(), 1U);
  EXPECT_TRUE(s.messages[0].ends_with(body));
  EXPECT_FALSE(s.messages[0].ends_with(body + "\n"));
}

TEST_P(MboxReaderTest, ContentLengthWithoutFinalNewlineNetscapeStyle) {
  // mimekit content-length.mbox: the body length excludes the line break before "From - ".
  const std::string data =
      "From - \n"
      "Content-Length: 3\n"
      "\n"
      "abc\n"
      "From - \n"
      "Subject: two\n"
      "\n"
      "two\n";
  const Split s = split(data);
  ASSERT_EQ(s.messages.size(), 2U);
  EXPECT_EQ(s.messages[0], "Content-Length: 3\n\nabc");
  EXPECT_EQ(s.messages[1], "Subject: two\n\ntwo\n");
}

TEST_P(MboxReaderTest, ContentLengthLandingOnTheFromLine) {
  const std::string data =
      "From a\r\n"
      "Content-Length: 5\r\n"
      "\r\n"
      "abc\r\n"
      "From b\r\n"
      "Subject: two\r\n";
  const Split s = split(data);
  ASSERT_EQ(s.messages.size(), 2U);
  EXPECT_EQ(s.messages[0], "Content-Length: 5\r\n\r\nabc");
  EXPECT_EQ(s.messages[1], "Subject: two\r\n");
}

TEST_P(MboxReaderTest, WrongContentLengthIsIgnored) {
  for (const std::string length : {"4", "999999", "12x", "", "-1", "99999999999999999999999"}) {
    SCOPED_TRACE(length);
    const std::string data =
        "From a\n"
        "Content-Length: " +
        length +
        "\n"
        "\n"
        "0123456789\n"
        "\n"
        "From b\n"
        "Subject: two\n";
    const Split s = split(data);
    ASSERT_EQ(s.messages.size(), 2U);
    EXPECT_EQ(s.messages[0], "Content-Length: " + length + "\n\n0123456789\n");
    EXPECT_EQ(s.messages[1], "Subject: two\n");
  }
}

TEST_P(MboxReaderTest, ContentLengthOutsideTheHeaderBlockIsIgnored) {
  const std::string data =
      "From a\n"
      "Subject: one\n"
      "\n"
      "Content-Length: 0\n"
      "\n"
      "From b\n"
      "Subject: two\n";
  const Split s = split(data);
  ASSERT_EQ(s.messages.size(), 2U);
  EXPECT_EQ(s.messages[0], "Subject: one\n\nContent-Length: 0\n");
}

TEST_P(MboxReaderTest, EmptyMessagesBetweenSeparators) {
  const std::string data =
      "From a\n"
      "\n"
      "From b\n"
      "From c Sat Jan  3 01:05:34 1996\n"
      "Subject: c\n"
      "\n"
      "From d\n";
  const Split s = split(data);
  ASSERT_EQ(s.messages.size(), 4U);
  EXPECT_EQ(s.entries[0].length, 0U);
  EXPECT_EQ(s.entries[0].offset, 7U);
  // "From c" follows "From b" directly: a well-formed From_ line followed by a header.
  EXPECT_EQ(s.entries[1].length, 0U);
  EXPECT_EQ(s.messages[2], "Subject: c\n");
  EXPECT_EQ(s.entries[3].from_line, "From d");
  EXPECT_EQ(s.entries[3].length, 0U);
  EXPECT_EQ(s.entries[3].offset, data.size());
}

TEST_P(MboxReaderTest, TruncatedLastMessageIsKeptAsIs) {
  const std::string data =
      "From a\n"
      "Subject: one\n"
      "\n"
      "one\n"
      "\n"
      "From b\n"
      "Subject: two\n"
      "\n"
      "half a li";
  const Split s = split(data);
  ASSERT_EQ(s.messages.size(), 2U);
  EXPECT_EQ(s.messages[1], "Subject: two\n\nhalf a li");
}

TEST_P(MboxReaderTest, FromLineWithoutNewlineAtEndOfFile) {
  const Split s = split("From a Sat Jan  3 01:05:34 1996");
  ASSERT_EQ(s.entries.size(), 1U);
  EXPECT_EQ(s.entries[0].length, 0U);
  EXPECT_EQ(s.entries[0].from_line, "From a Sat Jan  3 01:05:34 1996");
}

TEST_P(MboxReaderTest, TrailingEmptyLineIsTheLastSeparator) {
  EXPECT_EQ(split("From a\nSubject: x\n\nbody\n\n").messages.at(0), "Subject: x\n\nbody\n");
  EXPECT_EQ(split("From a\r\nSubject: x\r\n\r\nbody\r\n\r\n").messages.at(0),
            "Subject: x\r\n\r\nbody\r\n");
  EXPECT_EQ(split("From a\nSubject: x\n\nbody\n").messages.at(0), "Subject: x\n\nbody\n");
  EXPECT_EQ(split("From a\nSubject: x\n\nbody").messages.at(0), "Subject: x\n\nbody");
}

TEST_P(MboxReaderTest, Utf8ByteOrderMarkBeforeTheFirstFromLine) {
  const std::string data =
      "\xEF\xBB\xBF"
      "From -\nSubject: x\n";
  const Split s = split(data);
  ASSERT_EQ(s.entries.size(), 1U);
  EXPECT_EQ(s.entries[0].from_line_offset, 3U);
  EXPECT_EQ(s.entries[0].offset, 10U);
  EXPECT_EQ(s.messages[0], "Subject: x\n");
}

TEST_P(MboxReaderTest, NotAnMbox) {
  EXPECT_EQ(split("Subject: x\n").error, "not an mbox (no From_ line at the start)");
  EXPECT_EQ(split("").error, "not an mbox (no From_ line at the start)");
}

TEST_P(MboxReaderTest, VeryLongLines) {
  const std::string long_line(5000, 'x');
  const std::string data = "From a\nSubject: " + long_line + "\n\n" + long_line + "\n\nFrom " +
                           long_line + "\n" + long_line;
  const Split s = split(data);
  ASSERT_EQ(s.entries.size(), 2U);
  EXPECT_EQ(s.messages[0], "Subject: " + long_line + "\n\n" + long_line + "\n");
  EXPECT_EQ(s.entries[1].from_line.size(), 1000U);  // capped
  EXPECT_EQ(s.messages[1], long_line);
}

// Random mboxes: the result must not depend on the buffer size, entries must be ordered,
// inside the file and start after a From_ line.
TEST(MboxReaderFuzz, IndependentOfBufferSize) {
  const std::vector<std::string> pieces = {"From ",
                                           "\n",
                                           "\r\n",
                                           "\n\n",
                                           "x",
                                           ":",
                                           "Subject: a\n",
                                           "Content-Length: 3\n",
                                           "Content-Length: 0\n",
                                           "From - Mon Jun  3 12:50:27 1996\n",
                                           "From - \n",
                                           "abc",
                                           "\xEF\xBB\xBF"};
  std::mt19937 rng(12345);
  for (int round = 0; round < 2000; ++round) {
    std::string data = "From x\n";
    const int count = static_cast<int>(rng() % 40);
    for (int i = 0; i < count; ++i) {
      data += pieces[rng() % pieces.size()];
    }
    const Split reference = split(data, std::size_t{64} * 1024);
    ASSERT_EQ(reference.error, "");
    std::uint64_t last_end = 0;
    for (const auto& e : reference.entries) {
      ASSERT_GE(e.from_line_offset, last_end) << data;
      ASSERT_EQ(data.compare(e.from_line_offset, 5, "From "), 0) << data;
      ASSERT_GT(e.offset, e.from_line_offset) << data;
      ASSERT_LE(e.offset + e.length, data.size()) << data;
      last_end = e.offset + e.length;
    }
    for (std::size_t buffer : {1U, 2U, 3U, 8U}) {
      const Split other = split(data, buffer);
      ASSERT_EQ(other.messages, reference.messages) << "buffer " << buffer << ": " << data;
    }
  }
}

TEST(FromLineDate, AsctimeDates) {
  EXPECT_EQ(parse_from_line_date("From alice@example.com Sat Jan  3 01:05:34 1996"), 820631134);
  EXPECT_EQ(parse_from_line_date("From - Mon Jun  3 12:50:27 1996\r\n"), 833806227);
  // Gmail Takeout: zone before the year.
  EXPECT_EQ(parse_from_line_date("From 1844347792267117879@xxx Fri Sep 26 17:18:40 +0000 2025"),
            1758907120);
  EXPECT_EQ(parse_from_line_date("From a@b Fri Sep 26 17:18:40 2025 +0200"), 1758907120 - 7200);
  EXPECT_EQ(parse_from_line_date("From a@b Mon Jun  3 12:50:27 PDT 1996"), 833806227 + 7 * 3600);
  EXPECT_EQ(parse_from_line_date("From a@b Mon Jun  3 12:50 1996 remote from x"), 833806227 - 27);
  EXPECT_EQ(parse_from_line_date("From a@b Thu Feb 29 00:00:00 2024"), 1709164800);
}

TEST(FromLineDate, Rfc5322StyleDates) {
  EXPECT_EQ(parse_from_line_date("From a@b Mon, 3 Jun 1996 12:50:27 -0700"), 833806227 + 7 * 3600);
  EXPECT_EQ(parse_from_line_date("From a@b 3 Jun 96 12:50:27 GMT"), 833806227);
}

TEST(FromLineDate, NoDate) {
  EXPECT_EQ(parse_from_line_date("From - "), std::nullopt);
  EXPECT_EQ(parse_from_line_date("From -"), std::nullopt);
  EXPECT_EQ(parse_from_line_date("From 1844347792267117879@xxx"), std::nullopt);
  EXPECT_EQ(parse_from_line_date("From Russia with love"), std::nullopt);
  EXPECT_EQ(parse_from_line_date("From a Fri Feb 30 17:18:40 2025"), std::nullopt);
  EXPECT_EQ(parse_from_line_date("From a Fri Sep 26 25:18:40 2025"), std::nullopt);
  EXPECT_EQ(parse_from_line_date("From a Fri Sep 26 17:18:40"), std::nullopt);
  EXPECT_EQ(parse_from_line_date("Subject: Fri Sep 26 17:18:40 2025"), std::nullopt);
}

TEST(FromLineDate, StrictFromLines) {
  EXPECT_TRUE(is_strict_from_line("From - \n"));
  EXPECT_TRUE(is_strict_from_line("From - Mon Jun  3 12:50:27 1996"));
  EXPECT_TRUE(is_strict_from_line("From a@b Mon Jun  3 12:50:27 1996\r\n"));
  EXPECT_FALSE(is_strict_from_line("From a@b"));
  EXPECT_FALSE(is_strict_from_line("From Russia with love"));
  EXPECT_FALSE(is_strict_from_line("From - to the end"));
  EXPECT_FALSE(is_strict_from_line("From "));
  EXPECT_FALSE(is_strict_from_line("From: a@b"));
}

TEST(MboxStart, Detection) {
  EXPECT_TRUE(is_mbox_start("From x"));
  EXPECT_TRUE(
      is_mbox_start("\xEF\xBB\xBF"
                    "From x"));
  EXPECT_FALSE(is_mbox_start("From: x"));
  EXPECT_FALSE(is_mbox_start(">From x"));
  EXPECT_FALSE(is_mbox_start(""));
}

}  // namespace
}  // namespace mailvault::ingest
