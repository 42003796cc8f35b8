// ResponseWriter (atom / quoted / literal choice, lists, status lines, SEARCH and ESEARCH),
// sequence-set compression and resolution, and modified UTF-7.
#include "server-imap/protocol/response_writer.h"

#include <cstdint>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/base/mutf7.h"
#include "server-imap/protocol/command_parser.h"
#include "server-imap/protocol/sequence_set.h"

namespace mailvault::imapd {
namespace {

using namespace std::string_literals;

std::string one(std::string_view s, bool utf8 = false) {
  ResponseWriter w(WriterOptions{utf8, 1024});
  w.string(s);
  return w.take();
}

TEST(ImapdResponseWriter, QuotedOrLiteral) {
  EXPECT_EQ(one("hello world"), "\"hello world\"");
  EXPECT_EQ(one(""), "\"\"");
  EXPECT_EQ(one("a\"b\\c"), "\"a\\\"b\\\\c\"");
  EXPECT_EQ(one("a\r\nb"), "{4}\r\na\r\nb");
  EXPECT_EQ(one("a\nb"), "{3}\r\na\nb");
  EXPECT_EQ(one("a\0b"s), "{3}\r\na\0b"s);
  // 8-bit: a literal unless UTF8=ACCEPT, and then only if it is valid UTF-8.
  EXPECT_EQ(one("caf\xc3\xa9"), "{5}\r\ncaf\xc3\xa9");
  EXPECT_EQ(one("caf\xc3\xa9", true), "\"caf\xc3\xa9\"");
  EXPECT_EQ(one("caf\xc3", true), "{4}\r\ncaf\xc3");
  EXPECT_EQ(one(std::string(1024, 'x')), "\"" + std::string(1024, 'x') + "\"");
  EXPECT_EQ(one(std::string(1025, 'x')), "{1025}\r\n" + std::string(1025, 'x'));
}

TEST(ImapdResponseWriter, AstringNstringAndMailbox) {
  ResponseWriter w;
  w.astring("INBOX").astring("a b").astring("").astring("NIL").astring("x]y").astring("%");
  w.nstring(std::nullopt).nstring("v").nil();
  EXPECT_EQ(w.take(), "INBOX \"a b\" \"\" \"NIL\" x]y \"%\" NIL \"v\" NIL");
  w.mailbox("Archive/K\xc3\xa4se & Wein");
  EXPECT_EQ(w.take(), "\"Archive/K&AOQ-se &- Wein\"");
  w.set_utf8_accept(true);
  w.mailbox("K\xc3\xa4se");
  EXPECT_EQ(w.take(), "\"K\xc3\xa4se\"");
}

TEST(ImapdResponseWriter, FetchResponseWithListsAndLiterals) {
  ResponseWriter w;
  w.untagged().number(12).atom("FETCH").open_list();
  w.atom("UID").number(7).atom("FLAGS").open_list().atom("\\Seen").atom("$Junk").close_list();
  w.atom("FLAGS").open_list().close_list();
  w.atom("BODY[]").string("Subject: x\r\n\r\nbody\r\n").close_list().end_line();
  EXPECT_EQ(w.take(),
            "* 12 FETCH (UID 7 FLAGS (\\Seen $Junk) FLAGS () BODY[] {20}\r\nSubject: "
            "x\r\n\r\nbody\r\n)\r\n");
  w.untagged().number(1).atom("FETCH").open_list().atom("BINARY[]").literal8("\0\1"s);
  w.close_list().end_line();
  EXPECT_EQ(w.take(), "* 1 FETCH (BINARY[] ~{2}\r\n\0\1)\r\n"s);
}

TEST(ImapdResponseWriter, StatusLines) {
  EXPECT_EQ(status_line("a1", StatusKind::kOk, "READ-ONLY", "EXAMINE completed"),
            "a1 OK [READ-ONLY] EXAMINE completed\r\n");
  EXPECT_EQ(status_line("a2", StatusKind::kNo, "CANNOT", "Mailbox is read-only"),
            "a2 NO [CANNOT] Mailbox is read-only\r\n");
  EXPECT_EQ(status_line("*", StatusKind::kBye, "", "Logging out"), "* BYE Logging out\r\n");
  EXPECT_EQ(status_line("", StatusKind::kBad, "", "bad\r\nline"), "* BAD bad  line\r\n");
  EXPECT_EQ(status_line("a3", StatusKind::kNo, kBadCharsetCode, "Unsupported charset"),
            "a3 NO [BADCHARSET (UTF-8 US-ASCII)] Unsupported charset\r\n");
  ResponseWriter w;
  w.continuation().text("Ready for literal data").end_line();
  EXPECT_EQ(w.take(), "+ Ready for literal data\r\n");
  w.continuation().end_line();
  EXPECT_EQ(w.take(), "+ \r\n");
}

TEST(ImapdResponseWriter, ErrorLines) {
  const ParseResult bad = parse_command("a1 FETCH 0 FLAGS");
  EXPECT_EQ(error_line(std::get<CommandError>(bad)), "a1 BAD 0 is not a valid message number\r\n");
  const ParseResult charset = parse_command("a2 SEARCH CHARSET KOI8-R ALL");
  EXPECT_EQ(error_line(std::get<CommandError>(charset)),
            "a2 NO [BADCHARSET (UTF-8 US-ASCII)] unsupported charset KOI8-R\r\n");
  EXPECT_EQ(error_line(std::get<CommandError>(parse_command("+ NOOP"))),
            "* BAD missing or invalid tag\r\n");
  EXPECT_EQ(error_line(std::get<CommandError>(parse_command("a3 FROB"))),
            "a3 BAD unknown command FROB\r\n");

  CommandReader reader;
  reader.feed("a4 APPEND INBOX {100}\r\na5 LOGIN {100000000}\r\na6 LOGIN {5000+}\r\n");
  EXPECT_EQ(error_line(reader.next()), "a4 NO [CANNOT] APPEND is not allowed on this server\r\n");
  EXPECT_EQ(error_line(reader.next()), "a5 BAD [TOOBIG] literal larger than 1048576 bytes\r\n");
  EXPECT_EQ(error_line(reader.next()),
            "a6 BAD [TOOBIG] non-synchronising literal larger than 4096 bytes\r\n"
            "* BYE Too much data without synchronisation\r\n");
}

TEST(ImapdResponseWriter, Search) {
  EXPECT_EQ(search_line({2, 3, 5}), "* SEARCH 2 3 5\r\n");
  EXPECT_EQ(search_line({}), "* SEARCH\r\n");
}

TEST(ImapdResponseWriter, Esearch) {
  // RFC 4731 §3 examples.
  const SearchReturn min_count{true, false, true, false, false};
  EXPECT_EQ(esearch_line("A282", false, min_count, {2, 10, 11}),
            "* ESEARCH (TAG \"A282\") MIN 2 COUNT 3\r\n");
  const SearchReturn all{false, false, false, true, false};
  EXPECT_EQ(
      esearch_line(
          "A283", false, all,
          {2,   10,  11,  3,   4,   5,   6,   7,   8,   9,   12,  13,  14,  15,  16,  17,  18,
           19,  20,  21,  22,  23,  24,  25,  26,  27,  28,  29,  30,  31,  32,  33,  34,  35,
           36,  37,  38,  39,  40,  41,  42,  43,  44,  45,  46,  47,  48,  49,  50,  51,  52,
           53,  54,  55,  56,  57,  58,  59,  60,  61,  62,  63,  64,  65,  66,  67,  68,  69,
           70,  71,  72,  73,  74,  75,  76,  77,  78,  79,  80,  81,  82,  83,  84,  85,  86,
           87,  88,  89,  90,  91,  92,  93,  94,  95,  96,  97,  98,  99,  100, 101, 102, 103,
           104, 105, 106, 107, 108, 109, 110, 111, 112, 113, 114, 115, 116, 117, 118, 119, 120,
           121, 122, 123, 124, 125, 126, 127, 128, 129, 130, 131, 132, 133, 134, 135, 136, 137,
           138, 139, 140, 141, 142, 143, 144, 145, 146, 147, 148, 149, 150, 151, 152, 153, 154,
           155, 156, 157, 158, 159, 160, 161, 162, 163, 164, 165, 166, 167, 168, 169, 170, 171,
           172, 173, 174, 175, 176, 177, 178, 179, 180, 181, 182, 183, 184, 185, 186, 187, 188,
           189, 190, 191, 192, 193, 194, 195, 196, 197, 198, 199, 200}),
      "* ESEARCH (TAG \"A283\") ALL 2:200\r\n");
  const SearchReturn every{true, true, true, true, false};
  EXPECT_EQ(esearch_line("a", true, every, {7, 1, 2, 3}),
            "* ESEARCH (TAG \"a\") UID MIN 1 MAX 7 COUNT 4 ALL 1:3,7\r\n");
  // No matches: MIN, MAX and ALL are left out; COUNT 0 only if asked.
  EXPECT_EQ(esearch_line("a", false, every, {}), "* ESEARCH (TAG \"a\") COUNT 0\r\n");
  EXPECT_EQ(esearch_line("a", true, all, {}), "* ESEARCH (TAG \"a\") UID\r\n");
}

// ─── Sequence sets ───────────────────────────────────────────────────────────────────────────

TEST(ImapdSequenceSet, Compress) {
  EXPECT_EQ(compress_sequence_set({1, 2, 3, 7}), "1:3,7");
  EXPECT_EQ(compress_sequence_set({7, 3, 1, 2, 2}), "1:3,7");
  EXPECT_EQ(compress_sequence_set({}), "");
  EXPECT_EQ(compress_sequence_set({4294967295U, 4294967294U}), "4294967294:4294967295");
  EXPECT_EQ(compress_sequence_set({5}), "5");
}

SequenceSet parsed_set(std::string_view text, bool uid) {
  const std::string line =
      std::string(uid ? "a UID FETCH " : "a FETCH ") + std::string(text) + " FLAGS";
  const ParseResult r = parse_command(line);
  return std::get<FetchCommand>(std::get<Command>(r).args).set;
}

TEST(ImapdSequenceSet, ResolveStarAndReversedRanges) {
  using R = std::vector<SeqRange>;
  const auto seq = [](std::uint32_t a, std::uint32_t b) {
    return SeqRange{SeqNum{a}, SeqNum{b}};
  };
  EXPECT_EQ(parsed_set("1:*", false).resolve(SeqNum{10}), (R{seq(1, 10)}));
  EXPECT_EQ(parsed_set("*", false).resolve(SeqNum{10}), (R{seq(10, 10)}));
  EXPECT_EQ(parsed_set("5:2,4:8,20,9", false).resolve(SeqNum{10}), (R{seq(2, 9)}));
  EXPECT_EQ(parsed_set("1:*", false).resolve(SeqNum{0}), R{});
  // Fuzzer finding: numeric ranges used to survive an empty mailbox ("2:4" with largest 0).
  EXPECT_EQ(parsed_set("2:4", false).resolve(SeqNum{0}), R{});
  EXPECT_EQ(parsed_set("2:4,9", true).resolve(Uid{0}), std::vector<UidRange>{});
  EXPECT_EQ(parsed_set("1:4294967295", false).resolve(SeqNum{3}), (R{seq(1, 3)}));
  // UID n:* includes the last message even when n is beyond it (RFC 3501 §6.4.8).
  const auto uid = [](std::uint32_t a, std::uint32_t b) {
    return UidRange{Uid{a}, Uid{b}};
  };
  EXPECT_EQ(parsed_set("900:*", true).resolve(Uid{300}), (std::vector<UidRange>{uid(300, 300)}));
  EXPECT_EQ(parsed_set("*:900", true).resolve(Uid{300}), (std::vector<UidRange>{uid(300, 300)}));
  EXPECT_EQ(parsed_set("900", true).resolve(Uid{300}), std::vector<UidRange>{});
  EXPECT_EQ(parsed_set("1:3,4:5", true).resolve(Uid{300}), (std::vector<UidRange>{uid(1, 5)}));
  EXPECT_EQ(parsed_set("4294967295,1", true).resolve(Uid{4294967295U}),
            (std::vector<UidRange>{uid(1, 1), uid(4294967295U, 4294967295U)}));
}

// ─── Modified UTF-7 ──────────────────────────────────────────────────────────────────────────

TEST(ImapdMutf7, Rfc3501Examples) {
  EXPECT_EQ(
      mutf7_encode("~peter/mail/\xe5\x8f\xb0\xe5\x8c\x97/\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e"),
      "~peter/mail/&U,BTFw-/&ZeVnLIqe-");
  EXPECT_EQ(*mutf7_decode("~peter/mail/&U,BTFw-/&ZeVnLIqe-"),
            "~peter/mail/\xe5\x8f\xb0\xe5\x8c\x97/\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e");
  EXPECT_EQ(mutf7_encode("Entw\xc3\xbc"
                         "rfe"),
            "Entw&APw-rfe");
  EXPECT_EQ(mutf7_encode("A&B"), "A&-B");
  EXPECT_EQ(*mutf7_decode("A&-B"), "A&B");
  EXPECT_EQ(mutf7_encode(""), "");
}

TEST(ImapdMutf7, RoundTrips) {
  const std::string cases[] = {"INBOX",
                               "K\xc3\xa4se",
                               "\xf0\x9f\x93\xa7 mail",
                               "a\tb",
                               "\xc3\xa4\xc3\xb6\xc3\xbc",
                               "&&&",
                               "x\xe2\x82\xac",
                               "\xf0\x9f\x98\x80\xf0\x9f\x98\x81",
                               "a\x7f"
                               "b"};
  for (const std::string& c : cases) {
    const std::string enc = mutf7_encode(c);
    const Result<std::string> dec = mutf7_decode(enc);
    ASSERT_TRUE(dec.has_value()) << enc << ": " << dec.error().message;
    EXPECT_EQ(*dec, c) << enc;
  }
  // Invalid UTF-8 is encoded as U+FFFD.
  EXPECT_EQ(*mutf7_decode(mutf7_encode("a\xff")), "a\xef\xbf\xbd");
}

TEST(ImapdMutf7, RejectsWhatRfc3501Forbids) {
  for (std::string_view bad : {"&", "&AOQ", "&AOQ-&AOQ-", "&AGE-", "&-&", "a\xc3\xa4", "&Jjo!-",
                               "&2D0-", "&3gA-", "&AAA-", "&ACY-", "&AOR-", "a\tb"}) {
    EXPECT_FALSE(mutf7_decode(bad).has_value()) << bad;
  }
  EXPECT_TRUE(mutf7_decode("&AOQA5A-").has_value());
}

}  // namespace
}  // namespace mailvault::imapd
