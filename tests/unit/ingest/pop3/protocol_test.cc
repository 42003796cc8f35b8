#include "ingest/pop3/protocol.h"

#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace mailvault::ingest::pop3 {
namespace {

using namespace std::string_literals;

struct ReplyCase {
  std::string line;
  bool valid;
  bool ok;
  std::string code;
  std::string text;
};

TEST(Pop3Reply, Table) {
  const std::vector<ReplyCase> cases = {
      {"+OK", true, true, "", ""},
      {"+OK ", true, true, "", ""},
      {"+OK Dovecot ready. <1.2@host>", true, true, "", "Dovecot ready. <1.2@host>"},
      {"+ok lower case", true, true, "", "lower case"},
      {"-ERR", true, false, "", ""},
      {"-ERR no such message", true, false, "", "no such message"},
      {"-ERR [AUTH] Authentication failed.", true, false, "AUTH", "Authentication failed."},
      {"-ERR [IN-USE] Mailbox locked", true, false, "IN-USE", "Mailbox locked"},
      {"-ERR [SYS/TEMP] Try later", true, false, "SYS/TEMP", "Try later"},
      {"-ERR [sys/perm] lower", true, false, "SYS/PERM", "lower"},
      {"-ERR [LOGIN-DELAY]", true, false, "LOGIN-DELAY", ""},
      {"+OK [XYZ] codes on +OK too", true, true, "XYZ", "codes on +OK too"},
      {"-ERR [not a code", true, false, "", "[not a code"},
      {"-ERR [] empty", true, false, "", "[] empty"},
      {"-ERR [has space] x", true, false, "", "[has space] x"},
      {"+OK  two spaces", true, true, "", " two spaces"},
      {"-ERR tab\there", true, false, "", "tab\there"},
      {"", false, false, "", ""},
      {"+", false, false, "", ""},
      {"+ ", false, false, "", ""},  // SASL continuation is not a status line
      {"+ dGVzdA==", false, false, "", ""},
      {"+OKAY", false, false, "", ""},
      {"-ERROR x", false, false, "", ""},
      {"* OK IMAP4rev1 ready", false, false, "", ""},
      {"220 smtp.example ESMTP", false, false, "", ""},
      {"\x16\x03\x01\x02", false, false, "", ""},
      {" +OK leading space", false, false, "", ""},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE("line: '" + printable(c.line) + "'");
    auto r = parse_reply(c.line);
    ASSERT_EQ(r.has_value(), c.valid) << (r ? "" : r.error().message);
    if (!c.valid) {
      EXPECT_EQ(r.error().code, Code::kInternal);
      EXPECT_NE(r.error().message.find("POP3 protocol error"), std::string::npos);
      continue;
    }
    EXPECT_EQ(r->ok, c.ok);
    EXPECT_EQ(r->code, c.code);
    EXPECT_EQ(r->text, c.text);
  }
}

TEST(Pop3Reply, GarbageIsEscapedAndShortenedInErrors) {
  const std::string line = "\x01\xff" + std::string(300, 'g');
  auto r = parse_reply(line);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("'\\x01\\xFFggg"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("...'"), std::string::npos);
  EXPECT_LT(r.error().message.size(), 200U);
}

TEST(Pop3Reply, ErrorMapping) {
  struct Case {
    std::string line;
    Code fallback;
    Code want;
  };

  const std::vector<Case> cases = {
      {"-ERR [AUTH] Authentication failed.", Code::kUnknown, Code::kUnauthenticated},
      {"-ERR [AUTH/EXPIRED] x", Code::kUnknown, Code::kUnauthenticated},
      {"-ERR [IN-USE] locked", Code::kUnauthenticated, Code::kUnavailable},
      {"-ERR [LOGIN-DELAY] wait", Code::kUnauthenticated, Code::kUnavailable},
      {"-ERR [SYS/TEMP] later", Code::kUnauthenticated, Code::kUnavailable},
      {"-ERR [SYS/PERM] never", Code::kUnauthenticated, Code::kFailedPrecondition},
      {"-ERR [OTHER] x", Code::kNotFound, Code::kNotFound},
      {"-ERR plain", Code::kNotFound, Code::kNotFound},
  };
  for (const auto& c : cases) {
    auto reply = parse_reply(c.line);
    ASSERT_TRUE(reply);
    const Error e = error_from_reply(*reply, "POP3 PASS", c.fallback);
    EXPECT_EQ(e.code, c.want) << c.line;
    EXPECT_EQ(e.message, "POP3 PASS: " + c.line.substr(0)) << c.line;
  }
}

struct MultilineCase {
  std::string wire;     // after the status line, terminator included
  std::string message;  // the decoded bytes
};

const std::vector<MultilineCase>& multiline_cases() {
  static const std::vector<MultilineCase> cases = {
      {".\r\n", ""},
      {"\r\n.\r\n", "\r\n"},
      {"a\r\n.\r\n", "a\r\n"},
      {"Subject: x\r\n\r\nbody\r\n.\r\n", "Subject: x\r\n\r\nbody\r\n"},
      {"..\r\n.\r\n", ".\r\n"},    // a line that is one dot
      {"...\r\n.\r\n", "..\r\n"},  // two dots
      {"..leading dot\r\n.\r\n", ".leading dot\r\n"},
      {".x\r\n.\r\n", "x\r\n"},  // unstuffed though not stuffed (RFC 1939 §3)
      {"a.\r\n.b\r\n.\r\n", "a.\r\nb\r\n"},
      {"bare lf\n.\n", "bare lf\r\n"},  // LF-only servers: CRLF in the result
      {"mixed\nends\r\n.\r\n", "mixed\r\nends\r\n"},
      {"cr inside\r\r\n.\r\n", "cr inside\r\r\n"},  // the extra CR is message content
      {"nul\0byte\r\n.\r\n"s, "nul\0byte\r\n"s},
      {"\xff\xfe 8-bit\r\n.\r\n", "\xff\xfe 8-bit\r\n"},
      {". \r\n.\r\n", " \r\n"},
  };
  return cases;
}

TEST(Pop3Multiline, Table) {
  for (const auto& c : multiline_cases()) {
    SCOPED_TRACE("wire: '" + printable(c.wire) + "'");
    std::string out;
    auto consumed = decode_multiline(c.wire, out);
    ASSERT_TRUE(consumed.has_value());
    EXPECT_EQ(*consumed, c.wire.size());
    EXPECT_EQ(out, c.message);
  }
}

TEST(Pop3Multiline, ByteByByteIncompleteUntilTerminator) {
  for (const auto& c : multiline_cases()) {
    SCOPED_TRACE("wire: '" + printable(c.wire) + "'");
    for (std::size_t n = 0; n < c.wire.size(); ++n) {
      std::string out;
      EXPECT_FALSE(decode_multiline(std::string_view(c.wire).substr(0, n), out).has_value())
          << "prefix of " << n << " bytes";
      EXPECT_LE(out.size(), c.message.size());
      EXPECT_EQ(out, c.message.substr(0, out.size())) << "prefix of " << n << " bytes";
    }
  }
}

TEST(Pop3Multiline, StopsAtTerminator) {
  std::string out;
  const std::string wire = "one\r\n.\r\n+OK next reply\r\n";
  auto consumed = decode_multiline(wire, out);
  ASSERT_TRUE(consumed);
  EXPECT_EQ(wire.substr(*consumed), "+OK next reply\r\n");
  EXPECT_EQ(out, "one\r\n");
}

TEST(Pop3Multiline, LineByLineEqualsWhole) {
  std::string out;
  EXPECT_FALSE(append_multiline("..", out));
  EXPECT_FALSE(append_multiline("", out));
  EXPECT_FALSE(append_multiline("x", out));
  EXPECT_TRUE(append_multiline(".", out));
  EXPECT_EQ(out, ".\r\n\r\nx\r\n");
}

TEST(Pop3Multiline, EncodeTable) {
  EXPECT_EQ(encode_multiline(""), ".\r\n");
  EXPECT_EQ(encode_multiline("a\r\n"), "a\r\n.\r\n");
  EXPECT_EQ(encode_multiline(".\r\n"), "..\r\n.\r\n");
  EXPECT_EQ(encode_multiline("x\r\n.y\r\n..\r\n"), "x\r\n..y\r\n...\r\n.\r\n");
  EXPECT_EQ(encode_multiline("no newline"), "no newline\r\n.\r\n");
}

TEST(Pop3Multiline, RandomRoundTrip) {
  std::mt19937 rng(42);
  const std::vector<std::string> pieces = {".",     "..",       "a",   " ",   "\r",  "\t",
                                           "From ", "\xc3\xa9", "\0"s, "x.y", "\r\n"};
  for (int iteration = 0; iteration < 2000; ++iteration) {
    std::string message;
    const int lines = static_cast<int>(rng() % 12);
    for (int l = 0; l < lines; ++l) {
      const int n = static_cast<int>(rng() % 6);
      for (int p = 0; p < n; ++p) {
        message += pieces[rng() % pieces.size()];
      }
      message += "\r\n";
    }
    // Bare CRs at line ends would merge with the CRLF; the message keeps them (see the table).
    std::string out;
    const std::string wire = encode_multiline(message);
    auto consumed = decode_multiline(wire, out);
    ASSERT_TRUE(consumed);
    EXPECT_EQ(*consumed, wire.size());
    ASSERT_EQ(out, message) << printable(wire, 500);
  }
}

TEST(Pop3Listing, ListEntries) {
  struct Case {
    std::string line;
    bool valid;
    std::uint32_t number;
    std::uint64_t size;
  };

  const std::vector<Case> cases = {
      {"1 120", true, 1, 120},
      {"4294967295 0", true, 4294967295U, 0},
      {"2 18446744073709551615", true, 2, 18446744073709551615ULL},
      {"3 200 extra info", true, 3, 200},
      {"0 120", false, 0, 0},
      {"4294967296 1", false, 0, 0},
      {"1", false, 0, 0},
      {"1 ", false, 0, 0},
      {"1  120", false, 0, 0},
      {" 1 120", false, 0, 0},
      {"+1 120", false, 0, 0},
      {"-1 120", false, 0, 0},
      {"1 -120", false, 0, 0},
      {"1 12a", false, 0, 0},
      {"a 120", false, 0, 0},
      {"", false, 0, 0},
      {"1 18446744073709551616", false, 0, 0},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.line);
    auto r = parse_list_entry(c.line);
    ASSERT_EQ(r.has_value(), c.valid);
    if (c.valid) {
      EXPECT_EQ(to_int(r->number), c.number);
      EXPECT_EQ(r->size, c.size);
    } else {
      EXPECT_EQ(r.error().code, Code::kInternal);
    }
  }
}

TEST(Pop3Listing, UidlEntries) {
  struct Case {
    std::string line;
    bool valid;
    std::uint32_t number;
    std::string uid;
  };

  const std::string max_uid(70, '~');
  const std::string all_chars = [] {
    std::string s;
    for (int c = 0x21; c <= 0x7E; ++c) {
      s += static_cast<char>(c);
    }
    return s.substr(0, 70);
  }();
  const std::vector<Case> cases = {
      {"1 whqtswO00WBw418f9t5JxYwZ", true, 1, "whqtswO00WBw418f9t5JxYwZ"},
      {"2 000000016B0268E4", true, 2, "000000016B0268E4"},
      {"3 " + max_uid, true, 3, max_uid},
      {"4 " + all_chars, true, 4, all_chars},
      {"5 uid trailing", true, 5, "uid"},
      {"6 " + max_uid + "~", false, 0, ""},  // 71 characters
      {"7 ", false, 0, ""},
      {"7", false, 0, ""},
      {"8  uid", false, 0, ""},
      {"9 a\x7f", false, 0, ""},
      {"9 a\x80", false, 0, ""},
      {"9 \xc3\xa9", false, 0, ""},
      {"9 a\tb", false, 0, ""},
      {"0 uid", false, 0, ""},
      {"x uid", false, 0, ""},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(printable(c.line));
    auto r = parse_uidl_entry(c.line);
    ASSERT_EQ(r.has_value(), c.valid);
    if (c.valid) {
      EXPECT_EQ(to_int(r->number), c.number);
      EXPECT_EQ(r->uid, c.uid);
    } else {
      EXPECT_EQ(r.error().code, Code::kInternal);
      EXPECT_NE(r.error().message.find("unique-id"), std::string::npos);
    }
  }
}

TEST(Pop3Listing, Stat) {
  auto s = parse_stat("2 320");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->count, 2U);
  EXPECT_EQ(s->size, 320U);
  EXPECT_TRUE(parse_stat("0 0 extra"));
  EXPECT_FALSE(parse_stat("2"));
  EXPECT_FALSE(parse_stat("two 320"));
  EXPECT_FALSE(parse_stat(""));
}

TEST(Pop3Capabilities, DovecotAndOthers) {
  auto caps = parse_capabilities({"CAPA", "TOP", "UIDL", "RESP-CODES", "PIPELINING",
                                  "AUTH-RESP-CODE", "STLS", "USER", "SASL PLAIN LOGIN"});
  EXPECT_TRUE(caps.known);
  EXPECT_TRUE(caps.top && caps.uidl && caps.resp_codes && caps.pipelining && caps.auth_resp_code &&
              caps.stls && caps.user);
  EXPECT_TRUE(caps.has_sasl("PLAIN"));
  EXPECT_TRUE(caps.has_sasl("login"));
  EXPECT_FALSE(caps.has_sasl("CRAM-MD5"));
  EXPECT_EQ(caps.lines.size(), 9U);

  auto minimal = parse_capabilities({"top", "sasl  cram-md5", "EXPIRE NEVER", "IMPLEMENTATION x"});
  EXPECT_TRUE(minimal.top);
  EXPECT_FALSE(minimal.uidl || minimal.pipelining || minimal.stls || minimal.user);
  EXPECT_EQ(minimal.sasl, std::vector<std::string>{"CRAM-MD5"});

  EXPECT_FALSE(Capabilities{}.known);
}

TEST(Pop3Apop, TimestampFromGreeting) {
  struct Case {
    std::string greeting;
    std::optional<std::string> want;
  };

  const std::vector<Case> cases = {
      {"POP3 server ready <1896.697170952@dbc.mtview.ca.us>", "<1896.697170952@dbc.mtview.ca.us>"},
      {"Dovecot (Debian) ready. <7991.14.6b0268e4.9A5HgEd9kZf5suGg/SqvqA==@vm>",
       "<7991.14.6b0268e4.9A5HgEd9kZf5suGg/SqvqA==@vm>"},
      {"ready <no-at-sign> <a@b>", "<a@b>"},
      {"Dovecot ready.", std::nullopt},
      {"<has space@x>", std::nullopt},
      {"<unclosed@x", std::nullopt},
      {"<>", std::nullopt},
      {"<<a@b>", "<a@b>"},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(apop_timestamp(c.greeting), c.want) << c.greeting;
  }
}

TEST(Pop3Apop, DigestOfRfc1939Example) {
  EXPECT_EQ(apop_digest("<1896.697170952@dbc.mtview.ca.us>", "tanstaaf"),
            "c4c9334bac560ecc979e58001b3e22fb");
}

TEST(Pop3Sasl, PlainResponseOfRfc5034Example) {
  // RFC 5034 §6: "AUTH PLAIN AHRlc3QAdGVzdA==" is "\0test\0test".
  EXPECT_EQ(sasl_plain_response("test", "test"), "AHRlc3QAdGVzdA==");
  EXPECT_EQ(sasl_plain_response("tim", "tanstaaftanstaaf"), "AHRpbQB0YW5zdGFhZnRhbnN0YWFm");
}

TEST(Pop3Sasl, Base64) {
  EXPECT_EQ(base64_encode(""), "");
  EXPECT_EQ(base64_encode("f"), "Zg==");
  EXPECT_EQ(base64_encode("fo"), "Zm8=");
  EXPECT_EQ(base64_encode("foo"), "Zm9v");
  EXPECT_EQ(base64_encode("foob"), "Zm9vYg==");
  EXPECT_EQ(base64_encode("fooba"), "Zm9vYmE=");
  EXPECT_EQ(base64_encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(base64_encode("\xff\xfe\xfd"), "//79");
}

}  // namespace
}  // namespace mailvault::ingest::pop3
