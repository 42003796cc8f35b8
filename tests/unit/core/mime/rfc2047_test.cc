#include "core/mime/rfc2047.h"

#include <chrono>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/mime/charset.h"
#include "core/mime/parse.h"
#include "tests/unit/core/mime/test_util.h"

namespace mailvault::mime {
namespace {

struct Case {
  const char* name;
  std::string raw;
  std::string decoded;
};

std::string case_name(const ::testing::TestParamInfo<Case>& info) {
  return info.param.name;
}

class DecodeHeaderText : public ::testing::TestWithParam<Case> {};

TEST_P(DecodeHeaderText, Decodes) {
  const Case& c = GetParam();
  const std::string decoded = decode_header_text(c.raw);
  EXPECT_EQ(decoded, c.decoded) << "raw: " << c.raw;
  EXPECT_TRUE(is_valid_utf8(decoded));
}

INSTANTIATE_TEST_SUITE_P(
    Rfc2047, DecodeHeaderText,
    ::testing::Values(
        // gmime#133: GMime 3.2.13 returns "Hello" for this one.
        Case{"gmime133_adjacent_padded_b",
             "=?UTF-8?B?SGVsbG8=?= =?UTF-8?B?IHdvcmxk?=", "Hello world"},
        Case{"adjacent_unpadded_b", "=?UTF-8?B?SGVs?= =?UTF-8?B?bG8gd29y?=", "Hello wor"},
        Case{"b_quantum_split_across_words",
             "=?UTF-8?B?SGVsbG8gd2?= =?UTF-8?B?9ybGQ=?=", "Hello world"},
        Case{"three_padded_b_words", "=?UTF-8?B?YQ==?= =?UTF-8?B?Yg==?= =?UTF-8?B?Yw==?=", "abc"},
        Case{"plain_ascii", "Hello  world", "Hello  world"},
        Case{"q_latin1", "=?iso-8859-1?Q?Copy_of_Rapport_fra_Norges_R=E5fisklag=2Edoc?=",
             "Copy of Rapport fra Norges R\xC3\xA5"
             "fisklag.doc"},
        Case{"rfc2047_example_b_two_charsets",
             "=?ISO-8859-1?B?SWYgeW91IGNhbiByZWFkIHRoaXMgeW8=?= "
             "=?ISO-8859-2?B?dSB1bmRlcnN0YW5kIHRoZSBleGFtcGxlLg==?=",
             "If you can read this you understand the example."},
        // RFC 2047 section 8, the table of encoded-words in comments.
        Case{"rfc2047_s8_1", "(=?ISO-8859-1?Q?a?=)", "(a)"},
        Case{"rfc2047_s8_2", "(=?ISO-8859-1?Q?a?= b)", "(a b)"},
        Case{"rfc2047_s8_3", "(=?ISO-8859-1?Q?a?= =?ISO-8859-1?Q?b?=)", "(ab)"},
        Case{"rfc2047_s8_4", "(=?ISO-8859-1?Q?a?=  =?ISO-8859-1?Q?b?=)", "(ab)"},
        Case{"rfc2047_s8_5", "(=?ISO-8859-1?Q?a?=\r\n    =?ISO-8859-1?Q?b?=)", "(ab)"},
        Case{"rfc2047_s8_6", "(=?ISO-8859-1?Q?a_b?=)", "(a b)"},
        Case{"rfc2047_s8_7", "(=?ISO-8859-1?Q?a?= =?ISO-8859-2?Q?_b?=)", "(a b)"},
        Case{"mixed_charsets",
             "=?UTF-8?Q?caf=C3=A9?= =?ISO-8859-1?Q?_cr=E8me?=", "caf\xC3\xA9 cr\xC3\xA8me"},
        Case{"text_word_text", "Hello =?UTF-8?Q?w=C3=B6rld?= !", "Hello w\xC3\xB6rld !"},
        Case{"utf8_b", "=?UTF-8?B?R3LDvMOfZSBhdXMgS8O2bG4=?=",
             "Gr\xC3\xBC\xC3\x9F"
             "e aus K\xC3\xB6ln"},
        Case{"iso2022jp", "=?ISO-2022-JP?B?GyRCJDMkcyRLJEEkTxsoQg==?=",
             "\xE3\x81\x93\xE3\x82\x93\xE3\x81\xAB\xE3\x81\xA1\xE3\x81\xAF"},
        Case{"gb2312", "=?gb2312?B?xOO6ww==?=", "\xE4\xBD\xA0\xE5\xA5\xBD"},
        Case{"koi8r", "=?koi8-r?B?8NLJ18XU?=", "\xD0\x9F\xD1\x80\xD0\xB8\xD0\xB2\xD0\xB5\xD1\x82"},
        Case{"lowercase_encoding", "=?utf-8?b?SGVsbG8=?= =?utf-8?q?_there?=", "Hello there"},
        Case{"rfc2231_language_suffix", "=?UTF-8*en?Q?hello?=", "hello"},
        Case{"glued_to_text", "Re:=?UTF-8?Q?caf=C3=A9?=", "Re:caf\xC3\xA9"},
        Case{"glued_words", "=?UTF-8?Q?a?==?UTF-8?Q?b?=", "ab"},
        Case{"multibyte_split_across_q_words", "=?UTF-8?Q?caf=C3?= =?UTF-8?Q?=A9?=", "caf\xC3\xA9"},
        Case{"q_triplet_split_across_words", "=?UTF-8?Q?caf=C3=A?= =?UTF-8?Q?9?=", "caf\xC3\xA9"},
        Case{"multibyte_split_across_b_words",
             "=?UTF-8?B?Y2Fmww==?= =?UTF-8?B?qQ==?=", "caf\xC3\xA9"},
        Case{"q_with_raw_space", "=?UTF-8?Q?Hello world?=", "Hello world"},
        Case{"q_malformed_escape_kept", "=?UTF-8?Q?100=ZZ?=", "100=ZZ"},
        Case{"empty_word_between_text", "a =?UTF-8?Q?\?= b", "a  b"},
        // Malformed encoded-words stay as they are.
        Case{"broken_no_terminator", "=?UTF-8?B?SGVsbG8", "=?UTF-8?B?SGVsbG8"},
        Case{"broken_bad_encoding", "=?UTF-8?X?abc?=", "=?UTF-8?X?abc?="},
        Case{"broken_empty_charset", "=?\?B?abc?=", "=?\?B?abc?="},
        Case{"broken_blank_in_base64", "=?UTF-8?B?SGVs bG8=?=", "=?UTF-8?B?SGVs bG8=?="},
        Case{"broken_then_good", "=?UTF-8?Q?x =?UTF-8?B?SGVsbG8=?=", "=?UTF-8?Q?x Hello"},
        Case{"lone_opener", "a =? b", "a =? b"},
        // Unknown charsets keep their text (read as UTF-8 or windows-1252).
        Case{"unknown_charset_kept", "=?x-foo?Q?abc=E9?=", "abc\xC3\xA9"},
        // Raw 8-bit header text.
        Case{"raw_utf8", "Caf\xC3\xA9", "Caf\xC3\xA9"},
        Case{"raw_latin1", "Caf\xE9", "Caf\xC3\xA9"},
        Case{"raw_cp1252_quotes", "\x93quoted\x94", "\xE2\x80\x9Cquoted\xE2\x80\x9D"},
        Case{"raw_mixed_utf8_and_latin1", "\xC3\xA9t\xE9", "\xC3\xA9t\xC3\xA9"},
        Case{"invalid_utf8_in_word", "=?UTF-8?B?/w==?=", "\xEF\xBF\xBD"},
        Case{"nul_in_word", "=?UTF-8?Q?a=00b?=",
             "a\xEF\xBF\xBD"
             "b"},
        Case{"crlf_in_word_becomes_space", "=?UTF-8?Q?a=0D=0Ab?=", "a  b"},
        // Unfolding and trimming.
        Case{"folded", "  Hello\r\n world  ", "Hello world"},
        Case{"folded_lf", "Hello\n\tworld", "Hello\tworld"}, Case{"empty", "", ""},
        Case{"blank", " \t ", ""}),
    case_name);

TEST(DecodeHeaderTextProblems, UnknownCharsetIsReported) {
  std::vector<std::string> problems;
  EXPECT_EQ(decode_header_text("=?x-foo?Q?abc?=", &problems), "abc");
  ASSERT_EQ(problems.size(), 1U);
  EXPECT_EQ(problems[0], "undecodable charset x-foo");
}

TEST(DecodeHeaderTextProblems, KnownCharsetsAreNotReported) {
  std::vector<std::string> problems;
  static_cast<void>(decode_header_text("=?UTF-8?B?SGVsbG8=?= =?koi8-r?B?8NLJ18XU?=", &problems));
  EXPECT_TRUE(problems.empty());
}

// Hostile header values must stay linear: each of these is 1 MB.
TEST(DecodeHeaderTextLimits, PathologicalInputIsLinear) {
  const std::vector<std::string> patterns = {"=?a?b?", "=?utf-8?q?",        "=?a?b?x",       "=?",
                                             "?=",     "=?utf-8?b?SGVs?= ", "\xE9=?x?q?\xFF"};
  for (const auto& pattern : patterns) {
    std::string raw;
    while (raw.size() < (1 << 20)) {
      raw += pattern;
    }
    raw += " ?= tail";
    const auto start = std::chrono::steady_clock::now();
    const std::string decoded = decode_header_text(raw);
    const auto elapsed = std::chrono::steady_clock::now() - start;
    EXPECT_LT(elapsed, std::chrono::seconds(2)) << "pattern " << pattern;
    EXPECT_TRUE(is_valid_utf8(decoded));
  }
}

TEST(ReencodeHeaderForGmime, MergesRunsIntoOneUtf8Word) {
  EXPECT_EQ(
      reencode_header_for_gmime("=?UTF-8?B?SGVsbG8=?= =?UTF-8?B?IHdvcmxk?= <a@b.example>", nullptr),
      "=?UTF-8?B?SGVsbG8gd29ybGQ=?= <a@b.example>");
}

TEST(ReencodeHeaderForGmime, KeepsStructureAndConvertsRawBytes) {
  EXPECT_EQ(reencode_header_for_gmime("\"Caf\xE9, Bar\" <a@b.example>,\r\n c@d.example", nullptr),
            "\"Caf\xC3\xA9, Bar\" <a@b.example>, c@d.example");
}

TEST(ReencodeHeaderForGmime, SpecialsInsideWordsCannotLeakOut) {
  // "\",a" decoded would break the address syntax if written back raw.
  EXPECT_EQ(reencode_header_for_gmime("=?UTF-8?Q?=22=2Ca?= <a@b.example>", nullptr),
            "=?UTF-8?B?Iixh?= <a@b.example>");
}

// Regression file for gmime#133: subject and From name are both affected.
TEST(Rfc2047Regression, AdjacentPaddedBase64WordsInMessage) {
  const std::string raw = testing::read_file(testing::test_data("rfc2047-adjacent-padded-b.eml"));
  ASSERT_FALSE(raw.empty());
  const ParsedMessage m = parse_message(raw);
  EXPECT_EQ(m.subject, "Hello world");
  ASSERT_EQ(m.from.size(), 1U);
  EXPECT_EQ(m.from[0].name, "Hello world");
  EXPECT_EQ(m.from[0].email, "hello@example.org");
  ASSERT_EQ(m.attachments.size(), 1U);
  EXPECT_EQ(m.attachments[0].filename, "Hello world.txt");
}

}  // namespace
}  // namespace mailvault::mime
