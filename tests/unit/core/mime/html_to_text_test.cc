#include "core/mime/html_to_text.h"

#include <chrono>
#include <string>

#include <gtest/gtest.h>

#include "core/mime/charset.h"

namespace mailvault::mime {
namespace {

struct HtmlCase {
  const char* name;
  std::string html;
  std::string text;
};

std::string case_name(const ::testing::TestParamInfo<HtmlCase>& info) {
  return info.param.name;
}

class HtmlToText : public ::testing::TestWithParam<HtmlCase> {};

TEST_P(HtmlToText, Converts) {
  const auto& c = GetParam();
  EXPECT_EQ(html_to_text(c.html), c.text) << c.html;
}

INSTANTIATE_TEST_SUITE_P(
    Cases, HtmlToText,
    ::testing::Values(
        HtmlCase{"plain", "hello world", "hello world"},
        HtmlCase{"tags_stripped", "<b>bold</b> and <i>italic</i>", "bold and italic"},
        HtmlCase{"whitespace_collapsed", "  a \n\t  b  ", "a b"},
        HtmlCase{"paragraphs", "<p>one</p><p>two</p>", "one\n\ntwo"},
        HtmlCase{"br", "a<br>b<br/><br />c", "a\nb\n\nc"},
        HtmlCase{"br_run_capped", "a<br><br><br><br>b", "a\n\nb"},
        HtmlCase{"div_and_li", "<div>x</div><ul><li>1</li><li>2</li></ul>", "x\n1\n2"},
        HtmlCase{"table_cells", "<table><tr><td>a</td><td>b</td></tr><tr><td>c</td></tr></table>",
                 "a b\nc"},
        HtmlCase{"headings", "<h1>Title</h1>text", "Title\n\ntext"},
        HtmlCase{"script_style_title_dropped",
                 "<html><head><title>T</title><style>p{color:red}</style></head>"
                 "<body><script>var a = '<p>x</p>';</script>visible</body></html>",
                 "visible"},
        HtmlCase{"script_case_insensitive", "<SCRIPT type=x>bad()</ScRiPt >ok", "ok"},
        HtmlCase{"comments_dropped", "a<!-- hidden <b>x</b> -->b", "ab"},
        HtmlCase{"doctype_and_pi", "<!DOCTYPE html><?xml version=\"1.0\"?>text", "text"},
        HtmlCase{"attributes_with_gt", "<a title=\"a>b\" href='x>y'>link</a>", "link"},
        HtmlCase{"apostrophe_in_unquoted_value", "<img alt=it's>x", "x"},
        HtmlCase{"named_entities", "&lt;a&gt; &amp; &quot;q&quot; &apos;s&apos;",
                 "<a> & \"q\" 's'"},
        HtmlCase{"latin_entities", "caf&eacute; &copy; &euro;5",
                 "caf\xC3\xA9 \xC2\xA9 \xE2\x82\xAC"
                 "5"},
        HtmlCase{"nbsp_is_space", "a&nbsp;&nbsp;b", "a b"},
        HtmlCase{"numeric_entities", "&#65;&#x42;&#X43;&#233;&#x1F600;",
                 "ABC\xC3\xA9\xF0\x9F\x98\x80"},
        HtmlCase{"numeric_cp1252_range", "&#150;&#153;", "\xE2\x80\x93\xE2\x84\xA2"},
        HtmlCase{"numeric_invalid", "&#0;&#xD800;&#1114112;&#99999999999;",
                 "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"},
        HtmlCase{"entity_without_semicolon", "&amp x &#65 y", "& x A y"},
        HtmlCase{"unknown_entity_kept", "&bogus; & &; &#; &#x;", "&bogus; & &; &#; &#x;"},
        HtmlCase{"lone_lt", "a < b <> c <3", "a < b <> c <3"},
        HtmlCase{"end_tag_without_start", "a</p>b", "a\n\nb"},
        HtmlCase{"unterminated_comment_ends_at_gt", "a<!-- x > b", "a b"},
        HtmlCase{"unterminated_script_keeps_rest", "a<script>b", "ab"},
        HtmlCase{"unterminated_quote_ends_at_gt", "<a href=\"x>link</a>", "link"},
        HtmlCase{"unterminated_tag", "a<b", "a"},
        HtmlCase{"invalid_utf8",
                 "a\xFF"
                 "b",
                 "a\xEF\xBF\xBD"
                 "b"},
        HtmlCase{"empty", "", ""}),
    case_name);

// Pathological documents must stay linear (each about 1 MB).
TEST(HtmlToTextLimits, PathologicalInputIsLinear) {
  for (const std::string pattern :
       {"<!--", "<script>", "<a href=\"", "<!", "&#", "&amp", "<title>x", "<<<<", "<p>"}) {
    std::string html;
    while (html.size() < (1 << 20)) {
      html += pattern;
    }
    const auto start = std::chrono::steady_clock::now();
    const std::string text = html_to_text(html);
    const auto elapsed = std::chrono::steady_clock::now() - start;
    EXPECT_LT(elapsed, std::chrono::seconds(2)) << pattern;
    EXPECT_TRUE(is_valid_utf8(text));
  }
}

}  // namespace
}  // namespace mailvault::mime
