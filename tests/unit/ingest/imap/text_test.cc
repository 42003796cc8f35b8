#include "ingest/imap/text.h"

#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

namespace mailvault::ingest::imap {
namespace {

// --- modified UTF-7 ---

struct Mutf7Case {
  std::string utf8;
  std::string mutf7;
};

TEST(IngestImapMutf7Test, EncodesAndDecodesKnownNames) {
  const std::vector<Mutf7Case> cases = {
      {"INBOX", "INBOX"},
      {"", ""},
      {"&", "&-"},
      {"R&D", "R&-D"},
      {"Prüfung/Übersicht", "Pr&APw-fung/&ANw-bersicht"},
      {"日本語", "&ZeVnLIqe-"},
      // RFC 3501 §5.1.3 example.
      {"~peter/mail/台北/日本語", "~peter/mail/&U,BTFw-/&ZeVnLIqe-"},
      {"Entwürfe", "Entw&APw-rfe"},
      {"😀 smile", "&2D3eAA- smile"},
      {"a\tb", "a&AAk-b"},  // control characters are not printable: encoded
  };
  for (const auto& c : cases) {
    auto encoded = mutf7_encode(c.utf8);
    ASSERT_TRUE(encoded) << c.utf8;
    EXPECT_EQ(*encoded, c.mutf7) << c.utf8;
    auto decoded = mutf7_decode(c.mutf7);
    ASSERT_TRUE(decoded) << c.mutf7 << ": " << decoded.error().message;
    EXPECT_EQ(*decoded, c.utf8);
  }
}

TEST(IngestImapMutf7Test, RoundTripsEveryBmpBlockAndAstralPlanes) {
  std::string all;
  auto append = [&](std::uint32_t cp) {
    if (cp < 0x80) {
      all.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      all.push_back(static_cast<char>(0xc0 | (cp >> 6)));
      all.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
    } else if (cp < 0x10000) {
      all.push_back(static_cast<char>(0xe0 | (cp >> 12)));
      all.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
      all.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
    } else {
      all.push_back(static_cast<char>(0xf0 | (cp >> 18)));
      all.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3f)));
      all.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
      all.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
    }
  };
  for (std::uint32_t cp = 1; cp < 0x110000; cp += 97) {
    if (cp >= 0xd800 && cp <= 0xdfff) {
      continue;
    }
    append(cp);
  }
  auto encoded = mutf7_encode(all);
  ASSERT_TRUE(encoded);
  auto decoded = mutf7_decode(*encoded);
  ASSERT_TRUE(decoded) << decoded.error().message;
  EXPECT_EQ(*decoded, all);
}

TEST(IngestImapMutf7Test, RejectsInvalidInput) {
  for (std::string_view bad : {
           "&",           // unterminated
           "a&AOQ",       // unterminated
           "&AGE",        // unterminated
           "&AE$-",       // bad base64 character
           "&AEE-",       // "A" encoded: printable ASCII must be sent as itself
           "&AOQ/-",      // '/' is not the modified alphabet
           "&AO-",        // 12 bits: not a whole UTF-16 unit
           "&AOR-",       // leftover non-zero bits
           "&2D0-",       // unpaired high surrogate
           "&3gA-",       // unpaired low surrogate
           "Pr\xc3\xbc",  // 8-bit bytes are not modified UTF-7
           "a\nb",        // control character
       }) {
    auto r = mutf7_decode(bad);
    EXPECT_FALSE(r) << bad;
    if (!r) {
      EXPECT_EQ(r.error().code, Code::kInvalidArgument);
    }
  }
}

TEST(IngestImapMutf7Test, RejectsInvalidUtf8WhenEncoding) {
  for (std::string_view bad : {"\xc3", "\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xff"}) {
    EXPECT_FALSE(mutf7_encode(bad)) << bad;
    EXPECT_FALSE(is_valid_utf8(bad));
  }
  EXPECT_TRUE(is_valid_utf8("Prüfung 日本語 😀"));
}

TEST(IngestImapMutf7Test, MailboxNamesFromUtf8AcceptServersAreKept) {
  EXPECT_EQ(decode_mailbox_name("Prüfung/Übersicht"), "Prüfung/Übersicht");
  EXPECT_EQ(decode_mailbox_name("Pr&APw-fung"), "Prüfung");
  EXPECT_EQ(decode_mailbox_name("R&D"), "R&D");  // not valid modified UTF-7: kept as sent
  EXPECT_EQ(decode_mailbox_name("INBOX"), "INBOX");
}

// --- glob ---

struct GlobCase {
  std::string_view pattern;
  std::string_view name;
  char delimiter;
  bool match;
};

TEST(IngestImapGlobTest, Table) {
  const std::vector<GlobCase> cases = {
      {"*", "INBOX", '/', true},
      {"*", "a/b/c", '/', true},
      {"*", "", '/', true},
      {"%", "a", '/', true},
      {"%", "a/b", '/', false},
      {"a/%", "a/b", '/', true},
      {"a/%", "a/b/c", '/', false},
      {"a/*", "a/b/c", '/', true},
      {"a/*", "a", '/', false},
      {"a*", "a", '/', true},
      {"Archive/20%", "Archive/2017", '/', true},
      {"Archive/20%", "Archive/2017/Q1", '/', false},
      {"*/Spam", "Lists/Spam", '/', true},
      {"*/Spam", "Spam", '/', false},
      {"%/Spam", "a/b/Spam", '/', false},
      {"*Spam*", "Lists/Spam/old", '/', true},
      {"Sent", "Sent", '/', true},
      {"Sent", "sent", '/', false},   // case-sensitive
      {"inbox", "INBOX", '/', true},  // except INBOX
      {"INBOX/%", "inbox/x", '/', true},
      {"INBOX/%", "Inboxes/x", '/', false},
      {"inbox*", "INBOX.Drafts", '.', true},
      {"%", "a.b", '\0', true},  // no hierarchy: % is *
      {"Prüfung/%", "Prüfung/Übersicht", '/', true},
      {"日本*", "日本語", '/', true},
      {"a%b%c", "axxbyyc", '/', true},
      {"a%b%c", "ax/bc", '/', false},
      {"**%%", "abc", '/', true},
      {"", "", '/', true},
      {"", "a", '/', false},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(glob_match(c.pattern, c.name, c.delimiter), c.match)
        << "pattern '" << c.pattern << "' name '" << c.name << "'";
  }
}

TEST(IngestImapGlobTest, ManyStarsStayFast) {
  const std::string name(2000, 'a');
  const std::string pattern = std::string(200, '*') + "b";
  EXPECT_FALSE(glob_match(pattern, name, '/'));
}

// --- INTERNALDATE ---

TEST(IngestImapInternalDateTest, Parses) {
  // RFC 3501 example: 1996-07-17 09:44:25 UTC.
  EXPECT_EQ(parse_internal_date("17-Jul-1996 02:44:25 -0700"), 837596665);
  EXPECT_EQ(parse_internal_date(" 7-Jan-2020 01:02:03 +0000"), 1578358923);
  EXPECT_EQ(parse_internal_date("7-Jan-2020 01:02:03 +0000"), 1578358923);
  EXPECT_EQ(parse_internal_date("07-jan-2020 01:02:03 +0000"), 1578358923);
  EXPECT_EQ(parse_internal_date("01-Jan-1970 00:00:00 +0000"), 0);
  EXPECT_EQ(parse_internal_date("01-Jan-1970 01:00:00 +0100"), 0);
  EXPECT_EQ(parse_internal_date("29-Feb-2024 23:59:59 +0530"), 1709231399);
  EXPECT_EQ(parse_internal_date("31-Dec-1969 23:59:59 +0000"), -1);
}

TEST(IngestImapInternalDateTest, RejectsMalformedDates) {
  for (std::string_view bad :
       {"", "17-Jul-1996", "17-Jux-1996 02:44:25 -0700", "32-Jul-1996 02:44:25 -0700",
        "29-Feb-2023 00:00:00 +0000", "17-Jul-1996 24:00:00 -0700", "17-Jul-1996 02:44:25 0700",
        "17-Jul-1996 02:44:25 -07000", "117-Jul-1996 02:44:25 -0700", "17-Jul-96 02:44:25 -0700",
        "Wed, 17 Jul 1996 02:44:25 -0700"}) {
    EXPECT_FALSE(parse_internal_date(bad)) << bad;
  }
}

// --- base64 / SASL ---

TEST(IngestImapSaslTest, Base64RoundTrip) {
  EXPECT_EQ(base64_encode(""), "");
  EXPECT_EQ(base64_encode("f"), "Zg==");
  EXPECT_EQ(base64_encode("fo"), "Zm8=");
  EXPECT_EQ(base64_encode("foo"), "Zm9v");
  EXPECT_EQ(base64_encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(base64_decode("Zm9vYg=="), "foob");
  EXPECT_EQ(base64_decode("Zm9vYg"), "foob");
  EXPECT_FALSE(base64_decode("Zm9v!"));
  EXPECT_FALSE(base64_decode("Z"));
}

TEST(IngestImapSaslTest, PlainResponse) {
  // RFC 4616 §4 style: NUL user NUL password.
  EXPECT_EQ(base64_decode(sasl_plain_response("tim", "tanstaaftanstaaf")),
            std::string("\0tim\0tanstaaftanstaaf", 21));
}

TEST(IngestImapSaslTest, XOAuth2Response) {
  // Google's documented example.
  EXPECT_EQ(sasl_xoauth2_response("someuser@example.com",
                                  "ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg"),
            "dXNlcj1zb21ldXNlckBleGFtcGxlLmNvbQFhdXRoPUJlYXJlciB5YTI5LnZGOWRmdDRxbVRjMk52YjNSbGNrQm"
            "hkSFJoZG1semRHRXVZMjl0Q2cBAQ==");
}

}  // namespace
}  // namespace mailvault::ingest::imap
