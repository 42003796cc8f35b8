#include "core/mime/address.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace mailvault::mime {
namespace {

struct AddressCase {
  const char* name;
  std::string raw;
  std::vector<Address> expected;
};

std::string case_name(const ::testing::TestParamInfo<AddressCase>& info) {
  return info.param.name;
}

class ParseAddressList : public ::testing::TestWithParam<AddressCase> {};

TEST_P(ParseAddressList, Parses) {
  const auto& c = GetParam();
  const auto got = parse_address_list(c.raw);
  ASSERT_EQ(got.size(), c.expected.size()) << c.raw;
  for (std::size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].name, c.expected[i].name) << c.raw << " #" << i;
    EXPECT_EQ(got[i].email, c.expected[i].email) << c.raw << " #" << i;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Rfc5322, ParseAddressList,
    ::testing::Values(
        AddressCase{"bare", "john@example.org", {{"", "john@example.org"}}},
        AddressCase{"angle", "<john@example.org>", {{"", "john@example.org"}}},
        AddressCase{"phrase", "John Doe <john@example.org>", {{"John Doe", "john@example.org"}}},
        AddressCase{"quoted_phrase_with_comma",
                    "\"Doe, John\" <john@example.org>",
                    {{"Doe, John", "john@example.org"}}},
        AddressCase{
            "comment_as_name", "john@example.org (John Doe)", {{"John Doe", "john@example.org"}}},
        AddressCase{
            "list",
            "John <john@example.org>, jane@example.org,\r\n \"Bob\" <bob@example.org>",
            {{"John", "john@example.org"}, {"", "jane@example.org"}, {"Bob", "bob@example.org"}}},
        AddressCase{"group",
                    "Friends: a@example.org, B <b@example.org>;, c@example.org",
                    {{"Friends", ""},
                     {"", "a@example.org"},
                     {"B", "b@example.org"},
                     {"", "c@example.org"}}},
        AddressCase{"empty_group", "undisclosed-recipients:;", {{"undisclosed-recipients", ""}}},
        AddressCase{"no_domain", "root", {{"", "root"}}},
        AddressCase{"rfc2047_name",
                    "=?ISO-8859-1?Q?Keld_J=F8rn_Simonsen?= <keld@example.dk>",
                    {{"Keld J\xC3\xB8rn Simonsen", "keld@example.dk"}}},
        AddressCase{"rfc2047_gmime133",
                    "=?UTF-8?B?SGVsbG8=?= =?UTF-8?B?IHdvcmxk?= <h@example.org>",
                    {{"Hello world", "h@example.org"}}},
        AddressCase{"rfc2047_in_quotes",
                    "\"=?UTF-8?B?SGVsbG8=?= =?UTF-8?B?IHdvcmxk?=\" <h@example.org>",
                    {{"Hello world", "h@example.org"}}},
        AddressCase{"rfc2047_specials_in_name",
                    "=?UTF-8?Q?Doe=2C_=22J=22?= <j@example.org>, k@example.org",
                    {{"Doe, \"J\"", "j@example.org"}, {"", "k@example.org"}}},
        AddressCase{"rfc2047_in_comment",
                    "j@example.org (=?UTF-8?Q?J=C3=B6rg?=)",
                    {{"J\xC3\xB6rg", "j@example.org"}}},
        AddressCase{
            "raw_utf8_name", "J\xC3\xB6rg <j@example.org>", {{"J\xC3\xB6rg", "j@example.org"}}},
        AddressCase{"raw_latin1_name",
                    "\"J\xF6rg, M\" <j@example.org>",
                    {{"J\xC3\xB6rg, M", "j@example.org"}}},
        AddressCase{"unterminated_angle", "John <john@example.org", {{"John", "john@example.org"}}},
        AddressCase{"garbage_kept_as_text", "<<>>> ,,, @@", {{"<<>>> ,,, @@", ""}}},
        AddressCase{"empty", "", {}}, AddressCase{"blank", " \r\n ", {}}),
    case_name);

TEST(ParseAddressListLimits, TruncatesHugeLists) {
  std::string raw;
  for (std::size_t i = 0; i < kMaxAddressesPerHeader + 5; ++i) {
    raw.append("a").append(std::to_string(i)).append("@example.org, ");
  }
  std::vector<std::string> problems;
  const auto list = parse_address_list(raw, &problems);
  EXPECT_EQ(list.size(), kMaxAddressesPerHeader);
  ASSERT_FALSE(problems.empty());
  EXPECT_NE(problems.back().find("truncated"), std::string::npos);
}

}  // namespace
}  // namespace mailvault::mime
