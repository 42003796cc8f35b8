// Modified UTF-7 (RFC 3501 §5.1.3), shared by the IMAP client and server: known names, round
// trips over the whole of Unicode, and every form the RFC forbids.
#include "core/base/mutf7.h"

#include <string>
#include <string_view>

#include <gtest/gtest.h>

#include "core/base/utf8.h"

namespace mailvault {
namespace {

TEST(Mutf7, KnownNames) {
  const std::pair<std::string_view, std::string_view> cases[] = {
      {"INBOX", "INBOX"},
      {"", ""},
      {"&", "&-"},
      {"R&D", "R&-D"},
      {"Pr\xc3\xbc"
       "fung/\xc3\x9c"
       "bersicht",
       "Pr&APw-fung/&ANw-bersicht"},
      {"~peter/mail/\xe5\x8f\xb0\xe5\x8c\x97/\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e",
       "~peter/mail/&U,BTFw-/&ZeVnLIqe-"},  // RFC 3501's example
      {"\xf0\x9f\x98\x80 smile", "&2D3eAA- smile"},
      {"a\tb", "a&AAk-b"},  // control characters are not printable: encoded
  };
  for (const auto& [utf8, wire] : cases) {
    EXPECT_EQ(mutf7_encode(utf8), wire) << utf8;
    const auto decoded = mutf7_decode(wire);
    ASSERT_TRUE(decoded.has_value()) << wire << ": " << decoded.error().message;
    EXPECT_EQ(*decoded, utf8);
  }
}

TEST(Mutf7, RoundTripsUnicode) {
  std::string all;
  for (char32_t cp = 1; cp < 0x110000; cp += 89) {
    if (cp < 0xd800 || cp > 0xdfff) {
      append_utf8(all, cp);
    }
  }
  const std::string wire = mutf7_encode(all);
  const auto decoded = mutf7_decode(wire);
  ASSERT_TRUE(decoded.has_value()) << decoded.error().message;
  EXPECT_EQ(*decoded, all);
  EXPECT_EQ(mutf7_encode(*decoded), wire);
}

TEST(Mutf7, InvalidUtf8IsEncodedAsReplacementCharacters) {
  EXPECT_EQ(*mutf7_decode(mutf7_encode("a\xff")), "a\xef\xbf\xbd");
  EXPECT_EQ(*mutf7_decode(mutf7_encode("\xc3")), "\xef\xbf\xbd");
}

TEST(Mutf7, RefusesWhatTheRfcForbidsNamingTheProblem) {
  for (const std::string_view bad : {
           "&", "a&AOQ", "&AGE",  // unterminated
           "&AE$-",               // bad base64 character
           "&AOQ/-",              // '/' is not in the modified alphabet
           "&AEE-",               // printable US-ASCII ("A") encoded
           "&ACY-",               // "&" encoded
           "&AAA-",               // NUL encoded
           "&AO-",                // 12 bits: not a whole UTF-16 unit
           "&AOR-",               // leftover non-zero bits
           "&2D0-", "&3gA-",      // unpaired surrogates
           "Pr\xc3\xbc",          // 8-bit bytes
           "a\nb",                // a raw control character
           "&AOQ-&AOQ-",          // adjacent runs (one run: "&AOQA5A-")
       }) {
    const auto r = mutf7_decode(bad);
    ASSERT_FALSE(r.has_value()) << bad;
    EXPECT_EQ(r.error().code, Code::kInvalidArgument);
    EXPECT_NE(r.error().message.find("modified UTF-7"), std::string::npos) << r.error().message;
  }
  EXPECT_TRUE(mutf7_decode("&AOQA5A-").has_value());
  const auto lenient = mutf7_decode("&AOQ-&AOQ-", Mutf7Rules{.allow_adjacent_runs = true});
  ASSERT_TRUE(lenient.has_value());
  EXPECT_EQ(*lenient, "\xc3\xa4\xc3\xa4");
}

}  // namespace
}  // namespace mailvault
