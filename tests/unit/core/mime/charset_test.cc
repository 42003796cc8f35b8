#include "core/mime/charset.h"

#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace mailvault::mime {
namespace {

TEST(IsValidUtf8, AcceptsWellFormed) {
  EXPECT_TRUE(is_valid_utf8(""));
  EXPECT_TRUE(is_valid_utf8("plain ascii, long enough for the 8-byte fast path"));
  EXPECT_TRUE(is_valid_utf8("\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80"));  // é € 😀
  EXPECT_TRUE(is_valid_utf8("\xF4\x8F\xBF\xBF"));                      // U+10FFFF
  EXPECT_TRUE(is_valid_utf8(std::string("a\0b", 3)));
}

TEST(IsValidUtf8, RejectsIllFormed) {
  for (const std::string bad :
       {"\xFF", "\xC0\xAF", "\xE0\x80\xAF", "\xED\xA0\x80", "\xF4\x90\x80\x80", "\xC3", "\xE2\x82",
        "abc\x80", "\xF5\x80\x80\x80"}) {
    EXPECT_FALSE(is_valid_utf8(bad)) << ::testing::PrintToString(bad);
  }
}

TEST(AppendSanitizedUtf8, ReplacesMaximalIllFormedSubparts) {
  std::string out;
  append_sanitized_utf8(out,
                        "a\xE2\x82"
                        "b\xFF"
                        "c");
  EXPECT_EQ(out,
            "a\xEF\xBF\xBD"
            "b\xEF\xBF\xBD"
            "c");
  out.clear();
  append_sanitized_utf8(out, std::string("x\0y", 3));
  EXPECT_EQ(out, "x\xEF\xBF\xBDy");
}

TEST(AppendLenientUtf8, KeepsUtf8AndReadsTheRestAsWindows1252) {
  EXPECT_EQ(lenient_utf8("caf\xC3\xA9"), "caf\xC3\xA9");
  EXPECT_EQ(lenient_utf8("caf\xE9"), "caf\xC3\xA9");
  EXPECT_EQ(lenient_utf8("\x80 \x9F \x81"), "\xE2\x82\xAC \xC5\xB8 \xC2\x81");
  EXPECT_EQ(lenient_utf8(std::string("\0", 1)), "\xEF\xBF\xBD");
}

struct Conversion {
  const char* charset;
  std::string input;
  std::string expected;
};

TEST(AppendCharsetToUtf8, ConvertsKnownCharsets) {
  const std::vector<Conversion> cases = {
      {"UTF-8", "caf\xC3\xA9", "caf\xC3\xA9"},
      {"utf8", "bad \xFF", "bad \xEF\xBF\xBD"},
      {"us-ascii", "caf\xE9", "caf\xC3\xA9"},  // 8-bit in "ASCII": lenient
      {"", "caf\xC3\xA9", "caf\xC3\xA9"},
      {"ISO-8859-1", "caf\xE9 \x93x\x94", "caf\xC3\xA9 \xE2\x80\x9Cx\xE2\x80\x9D"},
      {"\"latin1\"", "\xE9", "\xC3\xA9"},
      {"windows-1252", "\x80", "\xE2\x82\xAC"},
      {"iso-8859-15", "\xA4", "\xE2\x82\xAC"},
      {"ISO_8859-2", "\xB1", "\xC4\x85"},
      {"windows-1251", "\xCF\xF0\xE8", "\xD0\x9F\xD1\x80\xD0\xB8"},
      {"koi8-r", "\xF0\xD2\xC9", "\xD0\x9F\xD1\x80\xD0\xB8"},
      {"gb2312", "\xC4\xE3\xBA\xC3", "\xE4\xBD\xA0\xE5\xA5\xBD"},
      {"big5", "\xA4\xA4", "\xE4\xB8\xAD"},
      {"ks_c_5601-1987", "\xC7\xD1", "\xED\x95\x9C"},
      {"shift_jis", "\x82\xA0", "\xE3\x81\x82"},
      {"ISO-2022-JP", "\x1B$B$3$s\x1B(B!", "\xE3\x81\x93\xE3\x82\x93!"},
      {"iso-2022-jp", "\x1B(I12\x1B(B", "\xEF\xBD\xB1\xEF\xBD\xB2"},  // half-width katakana
      {"UTF-16LE", std::string("a\0b\0", 4), "ab"},
      {"utf-8*en", "x", "x"},
  };
  for (const auto& c : cases) {
    std::string out;
    EXPECT_TRUE(append_charset_to_utf8(out, c.input, c.charset)) << c.charset;
    EXPECT_EQ(out, c.expected) << c.charset;
  }
}

TEST(AppendCharsetToUtf8, InvalidBytesBecomeReplacementCharacters) {
  std::string out;
  EXPECT_TRUE(append_charset_to_utf8(out,
                                     "a\x80"
                                     "b",
                                     "shift_jis"));
  EXPECT_TRUE(is_valid_utf8(out));
  EXPECT_NE(out.find("\xEF\xBF\xBD"), std::string::npos);
  out.clear();
  EXPECT_TRUE(append_charset_to_utf8(out, "\xC4", "gb2312"));  // truncated sequence
  EXPECT_EQ(out, "\xEF\xBF\xBD");
  out.clear();
  EXPECT_TRUE(append_charset_to_utf8(out, std::string("a\0b", 3), "koi8-r"));
  EXPECT_EQ(out,
            "a\xEF\xBF\xBD"
            "b");
}

TEST(AppendCharsetToUtf8, UnknownCharsetKeepsTheText) {
  for (const char* charset : {"x-foo", "x/../../etc", "a b", "\xFF\xFE", "unicode-1-1-utf-7x"}) {
    std::string out;
    EXPECT_FALSE(append_charset_to_utf8(out, "caf\xE9", charset)) << charset;
    EXPECT_EQ(out, "caf\xC3\xA9") << charset;
  }
}

TEST(AppendCharsetToUtf8, LargeInputCrossesIconvBuffers) {
  std::string input;
  for (int i = 0; i < 20000; ++i) {
    input += "\xC4\xE3\xBA\xC3";
  }
  std::string out;
  ASSERT_TRUE(append_charset_to_utf8(out, input, "gb2312"));
  EXPECT_EQ(out.size(), 20000U * 6);
  EXPECT_TRUE(is_valid_utf8(out));
}

TEST(AppendCharsetToUtf8, ThreadsDoNotShareDescriptors) {
  std::vector<std::thread> threads;
  threads.reserve(4);
  std::vector<int> failures(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([t, &failures] {
      for (int i = 0; i < 2000; ++i) {
        std::string out;
        static_cast<void>(append_charset_to_utf8(out, "\x1B$B$3$s\x1B(B", "iso-2022-jp"));
        static_cast<void>(append_charset_to_utf8(out, "\xC4\xE3", "gb2312"));
        if (out != "\xE3\x81\x93\xE3\x82\x93\xE4\xBD\xA0") {
          ++failures[static_cast<std::size_t>(t)];
        }
      }
    });
  }
  for (auto& th : threads) {
    th.join();
  }
  for (const int f : failures) {
    EXPECT_EQ(f, 0);
  }
}

TEST(AppendCodePoint, EncodesAndRejects) {
  std::string out;
  append_code_point(out, U'A');
  append_code_point(out, 0xE9);
  append_code_point(out, 0x20AC);
  append_code_point(out, 0x1F600);
  EXPECT_EQ(out, "A\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80");
  out.clear();
  append_code_point(out, 0xD800);
  append_code_point(out, 0x110000);
  append_code_point(out, 0);
  EXPECT_EQ(out, "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
}

}  // namespace
}  // namespace mailvault::mime
