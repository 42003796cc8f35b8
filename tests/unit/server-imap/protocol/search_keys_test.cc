// SEARCH keys → search tree: every RFC 3501 key, the extensions clients send, charsets, RETURN
// options, dates, sequence sets, nesting limits. Expected trees are written as to_string().
#include "server-imap/protocol/search_keys.h"

#include <string>
#include <string_view>
#include <variant>

#include <gtest/gtest.h>

#include "server-imap/protocol/command_parser.h"

namespace mailvault::imapd {
namespace {

using namespace std::string_literals;

std::string tree(std::string_view args, bool uid = false, const Limits& limits = {}) {
  auto r = parse_search(args, uid, limits);
  if (const auto* e = std::get_if<SearchParseError>(&r)) {
    return "error at " + std::to_string(e->offset) + ": " + e->message +
           (e->response_code.empty() ? "" : " [" + e->response_code + "]");
  }
  return to_string(std::get<SearchProgram>(r).key);
}

SearchProgram program(std::string_view args) {
  auto r = parse_search(args, false);
  if (const auto* e = std::get_if<SearchParseError>(&r)) {
    ADD_FAILURE() << e->message;
    return {};
  }
  return std::get<SearchProgram>(r);
}

struct Case {
  std::string_view args;
  std::string_view expected;
};

constexpr Case kEveryKey[] = {
    {"ALL", "(all)"},
    {"ANSWERED", "(flag \\Answered)"},
    {"BCC boss", "(bcc \"boss\")"},
    {"BEFORE 1-Feb-1994", "(before 1-Feb-1994)"},
    {"BODY \"quarterly report\"", "(body \"quarterly report\")"},
    {"CC {5}\r\nal ce", "(cc \"al ce\")"},
    {"DELETED", "(flag \\Deleted)"},
    {"DRAFT", "(flag \\Draft)"},
    {"FLAGGED", "(flag \\Flagged)"},
    {"FROM \"Smith\"", "(from \"Smith\")"},
    {"HEADER X-Mailer \"\"", "(header \"X-Mailer\" \"\")"},
    {"HEADER \"List-Id\" dev.example", "(header \"List-Id\" \"dev.example\")"},
    {"KEYWORD $Junk", "(keyword $Junk)"},
    {"LARGER 10000", "(larger 10000)"},
    {"NEW", "(and (flag \\Recent) (unflag \\Seen))"},
    {"NOT SEEN", "(not (flag \\Seen))"},
    {"OLD", "(not (flag \\Recent))"},
    {"ON 29-feb-2024", "(on 29-Feb-2024)"},
    {"OR SEEN FLAGGED", "(or (flag \\Seen) (flag \\Flagged))"},
    {"RECENT", "(flag \\Recent)"},
    {"SEEN", "(flag \\Seen)"},
    {"SENTBEFORE \"1-Jan-2000\"", "(sentbefore 1-Jan-2000)"},
    {"SENTON 31-DEC-1999", "(senton 31-Dec-1999)"},
    {"SENTSINCE 01-Jan-2018", "(sentsince 1-Jan-2018)"},
    {"SINCE 1-Jan-2018", "(since 1-Jan-2018)"},
    {"SMALLER 5000", "(smaller 5000)"},
    {"SUBJECT invoice", "(subject \"invoice\")"},
    {"TEXT \"string not in mailbox\"", "(text \"string not in mailbox\")"},
    {"TO bob@example.org", "(to \"bob@example.org\")"},
    {"UID 1:3,7", "(uid 1:3,7)"},
    {"UNANSWERED", "(unflag \\Answered)"},
    {"UNDELETED", "(unflag \\Deleted)"},
    {"UNDRAFT", "(unflag \\Draft)"},
    {"UNFLAGGED", "(unflag \\Flagged)"},
    {"UNKEYWORD $Forwarded", "(unkeyword $Forwarded)"},
    {"UNSEEN", "(unflag \\Seen)"},
    {"1:3,5", "(seq 1:3,5)"},
    {"2,4:*", "(seq 2,4:*)"},
    {"(SEEN FLAGGED)", "(and (flag \\Seen) (flag \\Flagged))"},
    {"(SEEN)", "(flag \\Seen)"},
    {"YOUNGER 3600", "(younger 3600)"},
    {"OLDER 86400", "(older 86400)"},
    {"$", "(seq $)"},
    {"LARGER 9223372036854775807", "(larger 9223372036854775807)"},
    // Case-insensitive key names.
    {"subject x or from a to b", "(and (subject \"x\") (or (from \"a\") (to \"b\")))"},
};

TEST(ImapdSearchKeys, EveryKey) {
  for (const Case& c : kEveryKey) {
    EXPECT_EQ(tree(c.args), c.expected) << c.args;
  }
}

TEST(ImapdSearchKeys, Rfc3501Examples) {
  EXPECT_EQ(tree("FLAGGED SINCE 1-Feb-1994 NOT FROM \"Smith\""),
            "(and (flag \\Flagged) (since 1-Feb-1994) (not (from \"Smith\")))");
  EXPECT_EQ(tree("DELETED FROM \"SMITH\" SINCE 1-Feb-1994"),
            "(and (flag \\Deleted) (from \"SMITH\") (since 1-Feb-1994))");
  EXPECT_EQ(tree("OR ((FROM a TO b) SUBJECT c) NOT (SEEN DELETED)"),
            "(or (and (and (from \"a\") (to \"b\")) (subject \"c\")) "
            "(not (and (flag \\Seen) (flag \\Deleted))))");
}

TEST(ImapdSearchKeys, WhatClientsSend) {
  // Python imaplib: M.uid('SEARCH', 'SUBJECT', 'invoice', 'SINCE', '1-Jan-2018').
  EXPECT_EQ(tree("SUBJECT invoice SINCE 1-Jan-2018", true),
            "(and (subject \"invoice\") (since 1-Jan-2018))");
  // Mutt's ~b / ~h patterns with CHARSET; Thunderbird-style OR chains.
  EXPECT_EQ(tree("CHARSET UTF-8 BODY {6}\r\ncaf\xc3\xa9!"), "(body \"caf\xc3\xa9!\")");
  EXPECT_EQ(tree("OR OR FROM x TO x SUBJECT x UNDELETED"),
            "(and (or (or (from \"x\") (to \"x\")) (subject \"x\")) (unflag \\Deleted))");
  // curl: imap://host/INBOX?SUBJECT%20invoice
  EXPECT_EQ(tree("SUBJECT invoice"), "(subject \"invoice\")");
  // 8-bit in a quoted string (RFC 9051 / UTF8=ACCEPT); invalid UTF-8 is a syntax error that
  // names where the string starts (BAD), in every text key.
  EXPECT_EQ(tree("SUBJECT \"\xe6\x97\xa5\xe6\x9c\xac\""), "(subject \"\xe6\x97\xa5\xe6\x9c\xac\")");
  EXPECT_EQ(tree("SUBJECT \"\xff\xfe\""), "error at 8: search string is not valid UTF-8 (byte 0)");
  EXPECT_EQ(tree("CHARSET UTF-8 BODY {4}\r\nab\xc3("),
            "error at 19: search string is not valid UTF-8 (byte 2)");
  EXPECT_EQ(tree("HEADER X-A \"\xc0\xaf\""), "error at 11: search string is not valid UTF-8 (byte 0)");
  EXPECT_EQ(tree("TEXT \"\xed\xa0\x80\""), "error at 5: search string is not valid UTF-8 (byte 0)");
}

TEST(ImapdSearchKeys, UidAndSavedSets) {
  // A bare set is of sequence numbers even in UID SEARCH; UID set is of UIDs.
  EXPECT_EQ(tree("1:4 UID 10:*", true), "(and (seq 1:4) (uid 10:*))");
  EXPECT_EQ(tree("$", true), "(uid $)");
  EXPECT_EQ(tree("UID $"), "(uid $)");
  EXPECT_EQ(tree("7:3"), "(seq 3:7)");
  EXPECT_EQ(tree("*:3"), "(seq 3:*)");
  EXPECT_EQ(tree("0"), "error at 0: 0 is not a valid message number");
  EXPECT_EQ(tree("1:4294967296"), "error at 2: message number too large");
  EXPECT_EQ(tree("UID 1:18446744073709551617"), "error at 6: number too large");
}

TEST(ImapdSearchKeys, CharsetsAndReturnOptions) {
  SearchProgram p = program("CHARSET us-ascii ALL");
  EXPECT_EQ(p.charset, "US-ASCII");
  EXPECT_FALSE(p.returns.has_value());
  EXPECT_EQ(tree("CHARSET ISO-8859-1 SUBJECT x"),
            "error at 8: unsupported charset ISO-8859-1 [BADCHARSET (UTF-8 US-ASCII)]");
  auto r = parse_search("CHARSET \"KOI8-R\" ALL", false);
  ASSERT_TRUE(std::holds_alternative<SearchParseError>(r));
  EXPECT_TRUE(std::get<SearchParseError>(r).is_no);

  p = program("RETURN (MIN MAX COUNT) UNSEEN");
  ASSERT_TRUE(p.returns.has_value());
  EXPECT_EQ(*p.returns, (SearchReturn{true, true, true, false, false}));
  p = program("RETURN () ALL");
  EXPECT_EQ(*p.returns, (SearchReturn{false, false, false, true, false}));
  p = program("RETURN (SAVE) CHARSET UTF-8 FROM x");
  EXPECT_EQ(*p.returns, (SearchReturn{false, false, false, false, true}));
  EXPECT_EQ(p.charset, "UTF-8");
  EXPECT_EQ(tree("RETURN (PARTIAL 1:10) ALL"), "error at 8: unknown search return option PARTIAL");
  EXPECT_EQ(tree("CHARSET UTF-8 RETURN (ALL) ALL"), "error at 14: unknown search key RETURN");
}

TEST(ImapdSearchKeys, Dates) {
  const std::pair<std::string_view, std::string_view> cases[] = {
      {"ON 1-Jan-2024", "(on 1-Jan-2024)"},
      {"ON \"1-jAN-2024\"", "(on 1-Jan-2024)"},
      {"ON 29-Feb-2000", "(on 29-Feb-2000)"},
      {"ON 29-Feb-1900", "error at 3: invalid date (day out of range)"},
      {"ON 29-Feb-2023", "error at 3: invalid date (day out of range)"},
      {"ON 31-Apr-2024", "error at 3: invalid date (day out of range)"},
      {"ON 0-Jan-2024", "error at 3: invalid date (day out of range)"},
      {"ON 32-Jan-2024", "error at 3: invalid date (day out of range)"},
      {"ON 1-Foo-2024", "error at 3: invalid month in date"},
      {"ON 1-Jan-24", "error at 3: invalid date (expected d-Mon-yyyy)"},
      {"ON 1-Jan-20245", "error at 3: invalid date (year has more than 4 digits)"},
      {"ON 2024-01-01", "error at 5: expected - in date"},
      {"ON \"1-Jan-2024", "error at 14: expected closing \" of the date"},
      {"ON 123-Jan-2024", "error at 5: expected - in date"},
      {"ON", "error at 2: missing argument"},
  };
  for (const auto& [args, expected] : cases) {
    EXPECT_EQ(tree(args), expected) << args;
  }
  EXPECT_EQ(days_since_epoch(Date{1970, 1, 1}), 0);
  EXPECT_EQ(days_since_epoch(Date{2024, 3, 1}) - days_since_epoch(Date{2024, 2, 28}), 2);
  EXPECT_EQ(days_since_epoch(Date{1969, 12, 31}), -1);
}

TEST(ImapdSearchKeys, Errors) {
  const std::pair<std::string_view, std::string_view> cases[] = {
      {"", "error at 0: missing argument"},
      {"FOO", "error at 0: unknown search key FOO"},
      {"SAVEDBEFORE 1-Jan-2020", "error at 0: search key SAVEDBEFORE is not supported"},
      {"OR SEEN", "error at 7: missing argument"},
      {"NOT", "error at 3: missing argument"},
      {"(SEEN", "error at 5: expected )"},
      {"SEEN)", "error at 4: unexpected characters after the command"},
      {"()", "error at 1: expected an atom"},
      {"SEEN  FLAGGED", "error at 5: expected an atom"},
      {"LARGER -1", "error at 7: expected a number"},
      {"LARGER 9223372036854775808", "error at 7: number too large"},
      {"YOUNGER 0", "error at 8: 0 is not allowed here"},
      {"HEADER Subject", "error at 14: missing argument"},
      {"KEYWORD \"x\"", "error at 8: expected an atom"},
      {"SUBJECT {3}\r\nab", "error at 8: literal data is truncated"},
      {"SEEN ", "error at 5: missing argument"},
  };
  for (const auto& [args, expected] : cases) {
    EXPECT_EQ(tree(args), expected) << args;
  }
}

TEST(ImapdSearchKeys, DeepNestingIsAnErrorNotAStackOverflow) {
  const std::string parens = std::string(10000, '(') + "ALL" + std::string(10000, ')');
  EXPECT_EQ(tree(parens), "error at 65: parentheses nested too deeply");
  std::string nots;
  for (int i = 0; i < 10000; ++i) {
    nots += "NOT ";
  }
  nots += "ALL";
  EXPECT_EQ(tree(nots), "error at 1028: search keys nested too deeply");
  std::string ors;
  for (int i = 0; i < 10000; ++i) {
    ors += "OR ALL ";
  }
  EXPECT_EQ(tree(ors).substr(0, 9), "error at ");
  // Within the limits, deep trees are fine (and destroyed without trouble).
  std::string ok;
  for (int i = 0; i < 200; ++i) {
    ok += "NOT ";
  }
  ok += "ALL";
  EXPECT_EQ(tree(ok).substr(0, 11), "(not (not (");
}

TEST(ImapdSearchKeys, ArgumentLimit) {
  Limits limits;
  limits.max_arguments = 100;
  std::string many = "SEEN";
  for (int i = 0; i < 100; ++i) {
    many += " SEEN";
  }
  EXPECT_EQ(tree(many, false, limits).find("too many arguments") != std::string::npos, true);
  EXPECT_EQ(tree(many).find("error"), std::string::npos);
}

TEST(ImapdSearchKeys, ThroughTheCommandParser) {
  const ParseResult r = parse_command("a UID SEARCH RETURN () CHARSET UTF-8 TEXT x");
  const auto& cmd = std::get<Command>(r);
  const auto& s = std::get<SearchCommand>(cmd.args);
  EXPECT_EQ(to_string(s.program.key), "(text \"x\")");
  const ParseResult bad = parse_command("a SEARCH CHARSET WINDOWS-1252 TEXT x");
  const auto& e = std::get<CommandError>(bad);
  EXPECT_EQ(e.kind, CommandError::Kind::kNo);
  EXPECT_EQ(e.tag, "a");
  EXPECT_EQ(e.response_code, kBadCharsetCode);
}

}  // namespace
}  // namespace mailvault::imapd
