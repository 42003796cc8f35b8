#include "core/mime/params.h"

#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace mailvault::mime {
namespace {

struct ParamCase {
  const char* name;
  std::string header;
  std::optional<std::string> filename;
};

std::string case_name(const ::testing::TestParamInfo<ParamCase>& info) {
  return info.param.name;
}

class Filename : public ::testing::TestWithParam<ParamCase> {};

TEST_P(Filename, Decodes) {
  const auto& c = GetParam();
  EXPECT_EQ(find_header_param(c.header, "filename"), c.filename) << c.header;
}

INSTANTIATE_TEST_SUITE_P(
    Rfc2231, Filename,
    ::testing::Values(
        ParamCase{"plain_token", "attachment; filename=report.pdf", "report.pdf"},
        ParamCase{"quoted", "attachment; filename=\"my report.pdf\"", "my report.pdf"},
        ParamCase{"quoted_escapes", R"(attachment; filename="a \"b\" \\c.txt")", "a \"b\" \\c.txt"},
        ParamCase{"quoted_semicolon", "attachment; filename=\"a;b.txt\"; size=3", "a;b.txt"},
        ParamCase{"case_insensitive_name", "attachment; FileName=\"X.txt\"", "X.txt"},
        ParamCase{"blanks_around_equals", "attachment; filename = \"x.txt\" ", "x.txt"},
        ParamCase{"unquoted_with_spaces", "attachment; filename=my file.pdf", "my file.pdf"},
        ParamCase{"folded", "attachment;\r\n filename=\"long\r\n name.txt\"", "long name.txt"},
        ParamCase{"absent", "attachment; size=100", std::nullopt},
        ParamCase{"similar_name_only", "attachment; filenames=x", std::nullopt},
        ParamCase{"no_params", "inline", std::nullopt},
        // RFC 2231 section 4: charset and language.
        ParamCase{"extended",
                  "attachment; filename*=us-ascii'en-us'This%20is%20%2A%2A%2Afun%2A%2A%2A",
                  "This is ***fun***"},
        ParamCase{"extended_utf8", "attachment; filename*=UTF-8''%E2%82%AC%20rates.txt",
                  "\xE2\x82\xAC rates.txt"},
        ParamCase{"extended_latin1", "attachment; filename*=iso-8859-1''caf%E9.txt",
                  "caf\xC3\xA9.txt"},
        ParamCase{"extended_quoted", "attachment; filename*=\"UTF-8''a%20b.txt\"", "a b.txt"},
        // RFC 2231 section 3: continuations, plain and extended mixed, in any order.
        ParamCase{"continuations",
                  "message/external-body; filename*0=\"URL /export/home/\"; "
                  "filename*1=\"moore/pub.txt\"",
                  "URL /export/home/moore/pub.txt"},
        ParamCase{"continuations_extended_mixed",
                  "attachment; filename*0*=us-ascii'en'This%20is%20even%20more%20; "
                  "filename*1*=%2A%2A%2Afun%2A%2A%2A%20; filename*2=\"isn't it!\"",
                  "This is even more ***fun*** isn't it!"},
        ParamCase{"continuations_out_of_order",
                  "attachment; filename*1*=%A9.txt; filename*0*=UTF-8''caf%C3", "caf\xC3\xA9.txt"},
        ParamCase{"continuation_charset_split_character",
                  "attachment; filename*0*=UTF-8''%E2%82; filename*1*=%AC", "\xE2\x82\xAC"},
        ParamCase{"extended_wins_over_plain",
                  "attachment; filename=\"fallback.txt\"; filename*=UTF-8''r%C3%A9el.txt",
                  "r\xC3\xA9"
                  "el.txt"},
        ParamCase{"bad_percent_kept", "attachment; filename*=UTF-8''100%25%ZZ.txt", "100%%ZZ.txt"},
        ParamCase{"extended_without_quotes_marks", "attachment; filename*=plain.txt", "plain.txt"},
        ParamCase{"unknown_charset_kept", "attachment; filename*=x-foo''caf%E9", "caf\xC3\xA9"},
        // What mailers really do: RFC 2047 inside a (quoted) parameter, raw 8-bit bytes.
        ParamCase{"rfc2047_in_quotes", "attachment; filename=\"=?UTF-8?Q?r=C3=A9sum=C3=A9.pdf?=\"",
                  "r\xC3\xA9sum\xC3\xA9.pdf"},
        ParamCase{"rfc2047_adjacent_padded_b",
                  "attachment; filename=\"=?UTF-8?B?SGVsbG8=?= =?UTF-8?B?IHdvcmxkLnR4dA==?=\"",
                  "Hello world.txt"},
        ParamCase{"raw_utf8", "attachment; filename=\"caf\xC3\xA9.txt\"", "caf\xC3\xA9.txt"},
        ParamCase{"raw_latin1", "attachment; filename=\"caf\xE9.txt\"", "caf\xC3\xA9.txt"},
        ParamCase{"unterminated_quote", "attachment; filename=\"open.txt", "open.txt"}),
    case_name);

TEST(FindHeaderParam, ReportsUnknownCharset) {
  std::vector<std::string> problems;
  EXPECT_EQ(find_header_param("attachment; filename*=x-foo''abc", "filename", &problems), "abc");
  ASSERT_EQ(problems.size(), 1U);
  EXPECT_EQ(problems[0], "undecodable charset x-foo");
}

TEST(FindHeaderParam, OtherParameters) {
  EXPECT_EQ(find_header_param("text/plain; charset=\"UTF-8\"; format=flowed", "charset"), "UTF-8");
  EXPECT_EQ(find_header_param("text/plain; charset=UTF-8; format=flowed", "format"), "flowed");
  EXPECT_EQ(find_header_param("multipart/mixed; boundary=\"=_a;b\"", "boundary"), "=_a;b");
}

TEST(HeaderToken, LowerCasesTheLeadingToken) {
  EXPECT_EQ(header_token("Attachment; filename=x"), "attachment");
  EXPECT_EQ(header_token("  INLINE  "), "inline");
  EXPECT_EQ(header_token(""), "");
  EXPECT_EQ(header_token("; filename=x"), "");
}

}  // namespace
}  // namespace mailvault::mime
