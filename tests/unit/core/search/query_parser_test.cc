#include "core/search/query_parser.h"

#include <string>
#include <string_view>

#include <gtest/gtest.h>

#include "core/search/query.h"

namespace mailvault::search {
namespace {

struct Case {
  std::string_view input;
  std::string_view expected;  // to_string() of the parsed query
};

class ParsesTo : public ::testing::TestWithParam<Case> {};

TEST_P(ParsesTo, Query) {
  const Case& c = GetParam();
  Result<Query> q = parse_query(c.input);
  ASSERT_TRUE(q.has_value()) << "input: " << c.input << "\nerror: " << q.error().message;
  EXPECT_EQ(to_string(*q), c.expected) << "input: " << c.input;
}

// clang-format off
INSTANTIATE_TEST_SUITE_P(Language, ParsesTo, ::testing::Values(
    // Match everything.
    Case{"", "*"},
    Case{"   \t\n", "*"},
    Case{"*", "*"},
    Case{"a OR *", "*"},
    Case{"a * b", "(and (all \"a\") (all \"b\"))"},
    // Words, phrases, prefixes.
    Case{"invoice", "(all \"invoice\")"},
    Case{"hello world", "(and (all \"hello\") (all \"world\"))"},
    Case{"\"quarterly report\"", "(all (phrase \"quarterly report\"))"},
    Case{"\"say \\\"hi\\\"\"", "(all (phrase \"say \\\"hi\\\"\"))"},
    Case{"foo\"bar\"", "(and (all \"foo\") (all (phrase \"bar\")))"},
    Case{"invo*", "(all (prefix \"invo\"))"},
    Case{"alice@example.com", "(all \"alice@example.com\")"},
    Case{"and or not", "(and (all \"and\") (all \"or\") (all \"not\"))"},
    Case{"foo - bar", "(and (all \"foo\") (all \"bar\"))"},
    Case{"well-known", "(all \"well-known\")"},
    // UTF-8 and CJK; ideographic and no-break spaces separate words.
    Case{"日本語", "(all \"日本語\")"},
    Case{"日本語\xe3\x80\x80テスト", "(and (all \"日本語\") (all \"テスト\"))"},
    Case{"Grüße\xc2\xa0Zoë", "(and (all \"Grüße\") (all \"Zoë\"))"},
    Case{"subject:日本*", "(subject (prefix \"日本\"))"},
    // Every field.
    Case{"from:alice@example.com", "(from \"alice@example.com\")"},
    Case{"From:Alice", "(from \"Alice\")"},
    Case{"from:\"Alice Smith\"", "(from (phrase \"Alice Smith\"))"},
    Case{"from:ali*", "(from (prefix \"ali\"))"},
    Case{"to:bob", "(to \"bob\")"},
    Case{"cc:carol", "(cc \"carol\")"},
    Case{"bcc:dave", "(bcc \"dave\")"},
    Case{"subject:\"status report\"", "(subject (phrase \"status report\"))"},
    Case{"body:lunch", "(body \"lunch\")"},
    Case{"attachment:invoice", "(attachment \"invoice\")"},
    Case{"filename:report.pdf", "(filename \"report.pdf\")"},
    Case{"account:work", "(account \"work\")"},
    Case{"folder:\"Sent Items\"", "(folder (phrase \"Sent Items\"))"},
    Case{"folder:INBOX/Work", "(folder \"INBOX/Work\")"},
    Case{"msgid:<abc.123@example.com>", "(msgid \"abc.123@example.com\")"},
    Case{"msgid:abc.123@example.com", "(msgid \"abc.123@example.com\")"},
    Case{"msgid:\"<a b@x>\"", "(msgid (phrase \"a b@x\"))"},
    Case{"list:dev.lists.example.org", "(list \"dev.lists.example.org\")"},
    Case{"subject:(invoice OR receipt)", "(or (subject \"invoice\") (subject \"receipt\"))"},
    Case{"from:(alice -to:bob)", "(and (from \"alice\") (not (to \"bob\")))"},
    Case{"from:a:b", "(from \"a:b\")"},
    // Unknown prefixes are plain words.
    Case{"frm:alice", "(all \"frm:alice\")"},
    Case{"Re: hello", "(and (all \"Re:\") (all \"hello\"))"},
    Case{"10:30", "(all \"10:30\")"},
    Case{"https://example.com/a", "(all \"https://example.com/a\")"},
    // has:, dates and sizes.
    Case{"has:attachment", "(has-attachment)"},
    Case{"has:Attachment", "(has-attachment)"},
    Case{"-has:attachment", "(not (has-attachment))"},
    Case{"date:2024-01-01..2024-03-31", "(date 2024-01-01 2024-04-01)"},
    Case{"date:2024-01-01..", "(date 2024-01-01 *)"},
    Case{"date:..2024-03-31", "(date * 2024-04-01)"},
    Case{"date:2024", "(date 2024-01-01 2025-01-01)"},
    Case{"date:2024-02", "(date 2024-02-01 2024-03-01)"},
    Case{"date:2023-02", "(date 2023-02-01 2023-03-01)"},
    Case{"date:2024-02-29", "(date 2024-02-29 2024-03-01)"},
    Case{"date:2024-12-31", "(date 2024-12-31 2025-01-01)"},
    Case{"date:2023..2024-06", "(date 2023-01-01 2024-07-01)"},
    Case{"date:2024/03/05", "(date 2024-03-05 2024-03-06)"},
    Case{"date:1969-12-31", "(date 1969-12-31 1970-01-01)"},
    Case{"before:2024-03-01", "(date * 2024-03-01)"},
    Case{"after:2024-03-01", "(date 2024-03-01 *)"},
    Case{"after:2024", "(date 2024-01-01 *)"},
    Case{"larger:1M", "(size 1048577 *)"},
    Case{"smaller:500K", "(size * 511999)"},
    Case{"larger:100", "(size 101 *)"},
    Case{"larger:2GB", "(size 2147483649 *)"},
    Case{"smaller:1k", "(size * 1023)"},
    Case{"larger:10K smaller:1M", "(and (size 10241 *) (size * 1048575))"},
    // Operators and precedence: NOT > AND > OR.
    Case{"a OR b", "(or (all \"a\") (all \"b\"))"},
    Case{"a b OR c", "(or (and (all \"a\") (all \"b\")) (all \"c\"))"},
    Case{"a AND b OR c AND d",
         "(or (and (all \"a\") (all \"b\")) (and (all \"c\") (all \"d\")))"},
    Case{"a OR b OR c", "(or (all \"a\") (all \"b\") (all \"c\"))"},
    Case{"NOT a", "(not (all \"a\"))"},
    Case{"NOT a OR b", "(or (not (all \"a\")) (all \"b\"))"},
    Case{"a AND NOT b", "(and (all \"a\") (not (all \"b\")))"},
    Case{"-a", "(not (all \"a\"))"},
    Case{"-\"a b\"", "(not (all (phrase \"a b\")))"},
    Case{"-from:bob", "(not (from \"bob\"))"},
    Case{"NOT NOT a", "(all \"a\")"},
    Case{"--a", "(all \"a\")"},
    Case{"NOT -(-a)", "(not (all \"a\"))"},
    Case{"a -(b OR c)", "(and (all \"a\") (not (or (all \"b\") (all \"c\"))))"},
    Case{"(a OR b) c", "(and (or (all \"a\") (all \"b\")) (all \"c\"))"},
    Case{"(a b) c", "(and (all \"a\") (all \"b\") (all \"c\"))"},
    Case{"((a))", "(all \"a\")"},
    Case{"from:\"Alice Smith\" -has:attachment larger:10K",
         "(and (from (phrase \"Alice Smith\")) (not (has-attachment)) (size 10241 *))"}));

// clang-format on

struct ErrorCase {
  std::string_view input;
  std::string_view message;
};

class FailsWith : public ::testing::TestWithParam<ErrorCase> {};

TEST_P(FailsWith, ColumnAndProblem) {
  const ErrorCase& c = GetParam();
  Result<Query> q = parse_query(c.input);
  ASSERT_FALSE(q.has_value()) << "input: " << c.input << "\nparsed: " << to_string(*q);
  EXPECT_EQ(q.error().code, Code::kInvalidArgument);
  EXPECT_EQ(q.error().message, c.message) << "input: " << c.input;
}

// clang-format off
INSTANTIATE_TEST_SUITE_P(Language, FailsWith, ::testing::Values(
    ErrorCase{"foo)", "column 4: unbalanced \")\""},
    ErrorCase{"(a OR b)) c", "column 9: unbalanced \")\""},
    ErrorCase{"-)", "column 2: unbalanced \")\""},
    ErrorCase{"(foo", "column 1: unbalanced \"(\""},
    ErrorCase{"a (b (c)", "column 3: unbalanced \"(\""},
    ErrorCase{"from:(", "column 6: unbalanced \"(\""},
    ErrorCase{"()", "column 1: empty parentheses"},
    ErrorCase{"from:()", "column 6: empty parentheses"},
    ErrorCase{"日本語 )", "column 5: unbalanced \")\""},
    ErrorCase{"\"unterminated", "column 1: unterminated quoted phrase"},
    ErrorCase{"a \"\"", "column 3: empty quoted phrase"},
    ErrorCase{"date:2024-13-01", "column 6: invalid date \"2024-13-01\""},
    ErrorCase{"date:2023-02-29", "column 6: invalid date \"2023-02-29\""},
    ErrorCase{"date:2024-1-5", "column 6: invalid date \"2024-1-5\""},
    ErrorCase{"date:24", "column 6: invalid date \"24\""},
    ErrorCase{"date:2024-01-01..2024-13-01", "column 18: invalid date \"2024-13-01\""},
    ErrorCase{"date:2024-03..2024-01",
              "column 6: date range \"2024-03..2024-01\" ends before it starts"},
    ErrorCase{"date:..", "column 6: empty date range \"..\""},
    ErrorCase{"date:2024-01-01T10:00", "column 6: invalid date \"2024-01-01T10:00\""},
    ErrorCase{"before:yesterday", "column 8: invalid date \"yesterday\""},
    ErrorCase{"after:0000-01-01", "column 7: invalid date \"0000-01-01\""},
    ErrorCase{"larger:1X", "column 8: invalid size \"1X\""},
    ErrorCase{"larger:M", "column 8: invalid size \"M\""},
    ErrorCase{"larger:1.5M", "column 8: invalid size \"1.5M\""},
    ErrorCase{"larger:99999999999999999999", "column 8: size \"99999999999999999999\" is too large"},
    ErrorCase{"larger:18446744073709551615", "column 8: size \"18446744073709551615\" is too large"},
    ErrorCase{"smaller:99999999999G", "column 9: size \"99999999999G\" is too large"},
    ErrorCase{"smaller:0", "column 9: smaller:0 can match nothing"},
    ErrorCase{"has:pdf", "column 5: unknown has: value \"pdf\" (only has:attachment)"},
    ErrorCase{"from:", "column 1: from: needs a value"},
    ErrorCase{"foo From: bar", "column 5: from: needs a value"},
    ErrorCase{"date:(2024)", "column 1: date: needs a value"},
    ErrorCase{"msgid:<>", "column 7: empty value"},
    ErrorCase{"OR foo", "column 1: OR needs a condition before it"},
    ErrorCase{"AND foo", "column 1: AND needs a condition before it"},
    ErrorCase{"a (OR b)", "column 4: OR needs a condition before it"},
    ErrorCase{"- OR", "column 3: OR needs a condition before it"},
    ErrorCase{"foo OR", "column 5: OR needs a condition after it"},
    ErrorCase{"foo OR OR bar", "column 5: OR needs a condition after it"},
    ErrorCase{"foo AND", "column 5: AND needs a condition after it"},
    ErrorCase{"foo AND OR bar", "column 5: AND needs a condition after it"},
    ErrorCase{"(foo AND)", "column 6: AND needs a condition after it"},
    ErrorCase{"NOT", "column 1: NOT needs a condition after it"},
    ErrorCase{"a NOT OR b", "column 3: NOT needs a condition after it"},
    ErrorCase{"-OR", "column 1: \"-\" needs a condition after it"},
    ErrorCase{"fo*o", "column 3: \"*\" is only allowed at the end of a word"},
    ErrorCase{"*foo", "column 1: \"*\" is only allowed at the end of a word"},
    ErrorCase{"x from:**", "column 8: \"*\" is only allowed at the end of a word"},
    ErrorCase{"ab\xff", "column 3: invalid UTF-8"},
    ErrorCase{"é\xc3", "column 2: invalid UTF-8"},
    ErrorCase{"\xed\xa0\x80", "column 1: invalid UTF-8"},      // surrogate
    ErrorCase{"\xc0\xaf", "column 1: invalid UTF-8"}));        // overlong

// clang-format on

TEST(QueryParser, NestingLimit) {
  const auto nested = [](int depth) {
    return std::string(static_cast<std::size_t>(depth), '(') + "a" +
           std::string(static_cast<std::size_t>(depth), ')');
  };
  Result<Query> ok = parse_query(nested(kMaxQueryNesting));
  ASSERT_TRUE(ok.has_value()) << ok.error().message;
  EXPECT_EQ(to_string(*ok), "(all \"a\")");

  Result<Query> deep = parse_query(nested(kMaxQueryNesting + 1));
  ASSERT_FALSE(deep.has_value());
  EXPECT_EQ(deep.error().message, "column 101: parentheses nested deeper than 100");

  // Far deeper than the limit, unbalanced: must fail cleanly, not overflow the stack.
  Result<Query> huge = parse_query(std::string(60000, '('));
  ASSERT_FALSE(huge.has_value());
  EXPECT_EQ(huge.error().code, Code::kInvalidArgument);
}

TEST(QueryParser, LengthLimit) {
  std::string text(kMaxQueryBytes, 'a');
  EXPECT_TRUE(parse_query(text).has_value());
  text += 'a';
  Result<Query> q = parse_query(text);
  ASSERT_FALSE(q.has_value());
  EXPECT_EQ(q.error().code, Code::kInvalidArgument);
  EXPECT_EQ(q.error().message, "query is 65537 bytes long; the limit is 65536");
}

TEST(QueryParser, LongChainsStayFlat) {
  std::string nots;
  for (int i = 0; i < 16000; ++i) {
    nots += "NOT ";
  }
  nots += "a";
  Result<Query> q = parse_query(nots);
  ASSERT_TRUE(q.has_value()) << q.error().message;
  EXPECT_EQ(to_string(*q), "(all \"a\")");  // an even number of negations cancels

  Result<Query> minus = parse_query(std::string(60001, '-') + "a");
  ASSERT_TRUE(minus.has_value()) << minus.error().message;
  EXPECT_EQ(to_string(*minus), "(not (all \"a\"))");

  std::string ors = "a";
  for (int i = 0; i < 10000; ++i) {
    ors += " OR a";
  }
  Result<Query> o = parse_query(ors);
  ASSERT_TRUE(o.has_value()) << o.error().message;
  ASSERT_TRUE(std::holds_alternative<Or>(o->node));
  EXPECT_EQ(std::get<Or>(o->node).children.size(), 10001U);
}

TEST(QueryParser, DateBoundsAreUtcDays) {
  Result<Query> q = parse_query("date:2024-01-01..2024-03-31");
  ASSERT_TRUE(q.has_value());
  const auto& r = std::get<DateRange>(q->node);
  EXPECT_EQ(r.of, DateRange::Of::kSent);
  EXPECT_EQ(r.begin, 1704067200);  // 2024-01-01T00:00:00Z
  EXPECT_EQ(r.end, 1711929600);    // 2024-04-01T00:00:00Z (exclusive)

  Result<Query> before = parse_query("before:1970-01-02");
  ASSERT_TRUE(before.has_value());
  EXPECT_FALSE(std::get<DateRange>(before->node).begin.has_value());
  EXPECT_EQ(std::get<DateRange>(before->node).end, 86400);
}

TEST(QueryParser, TextNodeShape) {
  Result<Query> q = parse_query("from:Alice@Example.COM");
  ASSERT_TRUE(q.has_value());
  const auto& t = std::get<Text>(q->node);
  EXPECT_EQ(t.field, Field::kFrom);
  EXPECT_EQ(t.kind, Text::Kind::kWords);
  EXPECT_EQ(t.text, "Alice@Example.COM");  // case is the compiler's business
}

}  // namespace
}  // namespace mailvault::search
