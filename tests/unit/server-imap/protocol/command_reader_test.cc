// CommandReader: framing of commands and literals, every limit, resynchronisation, and that
// feeding byte by byte gives exactly the events of feeding everything at once.
#include "server-imap/protocol/command_reader.h"

#include <array>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

namespace mailvault::imapd {
namespace {

using namespace std::string_literals;

// A compact, comparable rendering of one event.
std::string describe(const ReaderEvent& e) {
  static constexpr std::array<std::string_view, 5> kErrors = {"none", "line", "literal", "command",
                                                              "refused"};
  switch (e.status) {
    case ReadStatus::kNeedMore:
      return "more";
    case ReadStatus::kCommand:
      return "cmd:" + e.command;
    case ReadStatus::kContinuation:
      return "cont:" + std::to_string(e.literal_size);
    case ReadStatus::kError:
      return "err:" + std::string(kErrors[static_cast<std::size_t>(e.error)]) + ":" + e.tag + ":" +
             e.command_name + (e.fatal ? ":fatal" : "");
  }
  return "?";
}

std::vector<std::string> drain(CommandReader& r) {
  std::vector<std::string> out;
  for (ReaderEvent e = r.next(); e.status != ReadStatus::kNeedMore; e = r.next()) {
    out.push_back(describe(e));
  }
  return out;
}

std::vector<std::string> feed_whole(std::string_view input, const Limits& limits) {
  CommandReader r(limits);
  r.feed(input);
  return drain(r);
}

std::vector<std::string> feed_chunks(std::string_view input, const Limits& limits,
                                     std::size_t chunk) {
  CommandReader r(limits);
  std::vector<std::string> out;
  for (std::size_t i = 0; i < input.size(); i += chunk) {
    r.feed(input.substr(i, chunk));
    for (std::string& s : drain(r)) {
      out.push_back(std::move(s));
    }
  }
  return out;
}

// Events for `input`, checked to be the same whether fed at once, byte by byte or in chunks.
std::vector<std::string> feed(std::string_view input, const Limits& limits = {}) {
  std::vector<std::string> whole = feed_whole(input, limits);
  EXPECT_EQ(whole, feed_chunks(input, limits, 1)) << input.substr(0, 200);
  EXPECT_EQ(whole, feed_chunks(input, limits, 7)) << input.substr(0, 200);
  return whole;
}

using V = std::vector<std::string>;

TEST(ImapdCommandReader, SimpleLinesCrLfAndBareLf) {
  EXPECT_EQ(feed("a1 CAPABILITY\r\na2 NOOP\na3 LOGOUT\r\n"),
            (V{"cmd:a1 CAPABILITY", "cmd:a2 NOOP", "cmd:a3 LOGOUT"}));
}

TEST(ImapdCommandReader, IncompleteLineWaits) {
  EXPECT_EQ(feed("a1 NOOP"), V{});
  EXPECT_EQ(feed("a1 NOOP\r"), V{});
}

TEST(ImapdCommandReader, EmptyLineIsAnEmptyCommand) {
  EXPECT_EQ(feed("\r\n"), V{"cmd:"});
}

TEST(ImapdCommandReader, SynchronisingLiteralAsksForContinuation) {
  // RFC 3501 §8 example: LOGIN with literals.
  EXPECT_EQ(feed("A001 LOGIN {11}\r\nFRED FOOBAR {7}\r\nfat man\r\n"),
            (V{"cont:11", "cont:7", "cmd:A001 LOGIN {11}\r\nFRED FOOBAR {7}\r\nfat man"}));
}

TEST(ImapdCommandReader, LiteralBytesAreVerbatim) {
  const std::string data = "a\r\nb\0{3}\r\n\xff"s;
  ASSERT_EQ(data.size(), 11U);
  const std::string in = "t SEARCH TEXT {11}\r\n" + data + "\r\n";
  EXPECT_EQ(feed(in), (V{"cont:11", "cmd:t SEARCH TEXT {11}\r\n" + data}));
}

TEST(ImapdCommandReader, ZeroLengthLiteral) {
  EXPECT_EQ(feed("t LOGIN {0}\r\n {0}\r\n\r\n"),
            (V{"cont:0", "cont:0", "cmd:t LOGIN {0}\r\n {0}\r\n"}));
}

TEST(ImapdCommandReader, NonSynchronisingLiteralNeedsNoContinuation) {
  EXPECT_EQ(feed("a SEARCH SUBJECT {4+}\r\ncaf\xc3 ALL\r\n"),
            (V{"cmd:a SEARCH SUBJECT {4+}\r\ncaf\xc3 ALL"}));
}

TEST(ImapdCommandReader, Literal8IsFramedLikeALiteral) {
  EXPECT_EQ(feed("a X ~{3}\r\n\0\1\2\r\n"s), (V{"cont:3", "cmd:a X ~{3}\r\n\0\1\2"s}));
  EXPECT_EQ(feed("a X ~{2+}\r\nab\r\n"), (V{"cmd:a X ~{2+}\r\nab"}));
}

TEST(ImapdCommandReader, NotLiterals) {
  // {n-} is not RFC 7888 syntax; a brace inside a quoted string does not announce a literal;
  // {} and {+} have no size.
  EXPECT_EQ(feed("a X {5-}\r\n"), V{"cmd:a X {5-}"});
  EXPECT_EQ(feed("a LOGIN \"{5}\r\n"), V{"cmd:a LOGIN \"{5}"});
  EXPECT_EQ(feed("a LOGIN \"x\\\"{5}\"\r\n"), V{"cmd:a LOGIN \"x\\\"{5}\""});
  EXPECT_EQ(feed("a X {}\r\nb X {+}\r\n"), (V{"cmd:a X {}", "cmd:b X {+}"}));
}

TEST(ImapdCommandReader, QuoteStateResetsAfterALiteral) {
  // The literal holds an unbalanced quote; the line after it still announces a literal.
  EXPECT_EQ(feed("a LOGIN {1}\r\n\" {2}\r\nab\r\n"),
            (V{"cont:1", "cont:2", "cmd:a LOGIN {1}\r\n\" {2}\r\nab"}));
}

TEST(ImapdCommandReader, LineTooLongIsRefusedAndSkipped) {
  Limits limits;
  limits.max_line_bytes = 16;
  const std::string longline = "a1 SEARCH TEXT " + std::string(100, 'x') + "\r\n";
  EXPECT_EQ(feed(longline + "a2 NOOP\r\n", limits), (V{"err:line:a1:SEARCH", "cmd:a2 NOOP"}));
  // Exactly at the limit is fine.
  EXPECT_EQ(feed("a3 " + std::string(13, 'y') + "\r\n", limits),
            V{"cmd:a3 " + std::string(13, 'y')});
  EXPECT_EQ(feed("a4 " + std::string(14, 'y') + "\r\n", limits), V{"err:line:a4:YYYYYYYYYYYYYY"});
  EXPECT_EQ(feed("a5 " + std::string(14, 'y') + "\n", limits), V{"err:line:a5:YYYYYYYYYYYYYY"});
}

TEST(ImapdCommandReader, LineLimitCountsEveryLineOfACommand) {
  Limits limits;
  limits.max_line_bytes = 20;
  EXPECT_EQ(feed("a LOGIN {3}\r\nabc 0123456789\r\nb NOOP\r\n", limits),
            (V{"cont:3", "err:line:a:LOGIN", "cmd:b NOOP"}));
}

TEST(ImapdCommandReader, OneMegabyteLineDoesNotGrowTheBuffer) {
  CommandReader r;
  const std::string chunk(4096, 'z');
  r.feed("a1 SEARCH TEXT ");
  std::vector<std::string> events;
  for (int i = 0; i < 256; ++i) {
    r.feed(chunk);
    for (std::string& s : drain(r)) {
      events.push_back(std::move(s));
    }
    EXPECT_EQ(r.buffered(), 0U);
  }
  r.feed("\r\na2 NOOP\r\n");
  for (std::string& s : drain(r)) {
    events.push_back(std::move(s));
  }
  EXPECT_EQ(events, (V{"err:line:a1:SEARCH", "cmd:a2 NOOP"}));
}

TEST(ImapdCommandReader, HugeSynchronisingLiteralIsRefusedAtItsAnnouncement) {
  // 100 MB announced: refused before a byte is read; the client gets no "+" and goes on.
  EXPECT_EQ(feed("a1 SEARCH TEXT {104857600}\r\na2 NOOP\r\n"),
            (V{"err:literal:a1:SEARCH", "cmd:a2 NOOP"}));
  EXPECT_EQ(feed("a1 SEARCH TEXT {99999999999999999999999999}\r\n"), V{"err:literal:a1:SEARCH"});
}

TEST(ImapdCommandReader, LiteralLimitIsInclusive) {
  Limits limits;
  limits.max_literal_bytes = 4;
  EXPECT_EQ(feed("a LOGIN {4}\r\nabcd x\r\n", limits), (V{"cont:4", "cmd:a LOGIN {4}\r\nabcd x"}));
  EXPECT_EQ(feed("a LOGIN {5}\r\n", limits), V{"err:literal:a:LOGIN"});
}

TEST(ImapdCommandReader, NonSynchronisingLiteralOverLimitIsFatal) {
  // LITERAL-: at most 4096 bytes without waiting.
  EXPECT_EQ(feed("a LOGIN {4096+}\r\n" + std::string(4096, 'p') + " x\r\n"),
            V{"cmd:a LOGIN {4096+}\r\n" + std::string(4096, 'p') + " x"});
  CommandReader r;
  r.feed("a1 LOGIN {4097+}\r\n" + std::string(4097, 'p') + "\r\na2 NOOP\r\n");
  EXPECT_EQ(drain(r), V{"err:literal:a1:LOGIN:fatal"});
  EXPECT_TRUE(r.closed());
  r.feed("a3 NOOP\r\n");
  EXPECT_EQ(drain(r), V{});
  EXPECT_EQ(r.buffered(), 0U);
}

TEST(ImapdCommandReader, LiteralPlusRaisesTheNonSynchronisingLimit) {
  Limits limits;
  limits.max_nonsync_literal_bytes = limits.max_literal_bytes;
  const std::string big(10000, 'q');
  EXPECT_EQ(feed("a LOGIN {10000+}\r\n" + big + " x\r\n", limits),
            V{"cmd:a LOGIN {10000+}\r\n" + big + " x"});
}

TEST(ImapdCommandReader, CommandSizeLimit) {
  Limits limits;
  limits.max_command_bytes = 41;
  EXPECT_EQ(feed("a LOGIN {10}\r\n0123456789 {10}\r\n0123456789 {10}\r\nb NOOP\r\n", limits),
            (V{"cont:10", "cont:10", "err:command:a:LOGIN", "cmd:b NOOP"}));
  EXPECT_EQ(feed("a LOGIN {10+}\r\n0123456789 {30+}\r\n", limits), V{"err:command:a:LOGIN:fatal"});
}

TEST(ImapdCommandReader, AppendLiteralIsRefusedAtItsAnnouncement) {
  EXPECT_EQ(feed("A003 APPEND saved-messages (\\Seen) {310}\r\nA004 NOOP\r\n"),
            (V{"err:refused:A003:APPEND", "cmd:A004 NOOP"}));
  // A small non-synchronising APPEND is read (the parser recognises it and the session says
  // NO [CANNOT]); a large one is fatal like any other.
  EXPECT_EQ(feed("a APPEND x {2+}\r\nhi\r\n"), V{"cmd:a APPEND x {2+}\r\nhi"});
  // A session that accepts uploads passes an empty refusal list.
  CommandReader r(Limits{}, {});
  r.feed("a APPEND x {2}\r\nhi\r\n");
  EXPECT_EQ(drain(r), (V{"cont:2", "cmd:a APPEND x {2}\r\nhi"}));
}

TEST(ImapdCommandReader, ErrorsCarryAResponseCode) {
  CommandReader r;
  r.feed("a APPEND x {5}\r\nb SEARCH TEXT {99999999}\r\n");
  ReaderEvent e = r.next();
  EXPECT_EQ(e.response_code, "CANNOT");
  EXPECT_EQ(e.message, "APPEND is not allowed on this server");
  e = r.next();
  EXPECT_EQ(e.response_code, "TOOBIG");
  EXPECT_EQ(e.message, "literal larger than 1048576 bytes");
}

TEST(ImapdCommandReader, ErrorWithoutTag) {
  Limits limits;
  limits.max_line_bytes = 8;
  EXPECT_EQ(feed("(((((((((((((\r\n", limits), V{"err:line::"});
  EXPECT_EQ(feed("a1 UID SEARCH TEXT {9999999999}\r\n"), V{"err:literal:a1:UID SEARCH"});
}

TEST(ImapdCommandReader, LiteralEndingInCrThenLf) {
  // Fuzzer finding: the CR of "x\r" belongs to the literal; the LF alone ends the command.
  EXPECT_EQ(feed("a LOGIN {2}\r\nx\r\n"), (V{"cont:2", "cmd:a LOGIN {2}\r\nx\r"}));
  EXPECT_EQ(feed("a LOGIN {2+}\r\nx\r\nb NOOP\r\n"), (V{"cmd:a LOGIN {2+}\r\nx\r", "cmd:b NOOP"}));
}

TEST(ImapdCommandReader, HostileBytesPassThrough) {
  const std::string in = "a\0b \xff\xfe \x80\r\n"s;
  EXPECT_EQ(feed(in), V{"cmd:a\0b \xff\xfe \x80"s});
}

TEST(ImapdCommandReader, ManySmallCommandsInOneFeed) {
  std::string in;
  V expected;
  for (int i = 0; i < 1000; ++i) {
    in += "t" + std::to_string(i) + " NOOP\r\n";
    expected.push_back("cmd:t" + std::to_string(i) + " NOOP");
  }
  EXPECT_EQ(feed_whole(in, {}), expected);
  EXPECT_EQ(feed_chunks(in, {}, 13), expected);
}

}  // namespace
}  // namespace mailvault::imapd
