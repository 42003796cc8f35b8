// The MIME structure module: byte ranges of parts (RFC 2046 boundaries, Dovecot's recovery
// from broken mail), BODY/BODYSTRUCTURE rendering, section resolution and BINARY decoding.
#include "server-imap/session/body_structure.h"

#include <string>

#include <gtest/gtest.h>

namespace mailvault::imapd {
namespace {

std::string body_of(const std::string& raw, const MimeStructure& s, std::size_t i) {
  const auto& p = s.parts[i];
  return raw.substr(p.body_begin, p.body_end - p.body_begin);
}

std::string header_of_part(const std::string& raw, const MimeStructure& s, std::size_t i) {
  const auto& p = s.parts[i];
  return raw.substr(p.header_begin, p.body_begin - p.header_begin);
}

std::string bodystructure(const std::string& raw, bool ext = true) {
  const auto s = parse_mime_structure(raw);
  ResponseWriter w;
  w.untagged();
  write_body_structure(w, s, raw, 0, ext);
  w.end_line();
  auto out = w.take();
  return out.substr(2, out.size() - 4);
}

std::string section(const std::string& raw, std::vector<std::uint32_t> path) {
  const auto s = parse_mime_structure(raw);
  const auto i = find_part(s, path);
  return i ? body_of(raw, s, *i) : "<none>";
}

const std::string kNested =
    "From: a@example.org\r\n"
    "Content-Type: multipart/mixed; boundary=\"outer\"\r\n"
    "\r\n"
    "preamble\r\n"
    "--outer\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n"
    "\r\n"
    "first\r\n"
    "--outer\r\n"
    "Content-Type: multipart/alternative; boundary=inner\r\n"
    "\r\n"
    "--inner\r\n"
    "\r\n"
    "plain\r\n"
    "--inner\r\n"
    "Content-Type: text/html\r\n"
    "\r\n"
    "<p>html</p>\r\n"
    "--inner--\r\n"
    "inner epilogue\r\n"
    "--outer\r\n"
    "Content-Type: message/rfc822\r\n"
    "\r\n"
    "Subject: inside\r\n"
    "\r\n"
    "enclosed body\r\n"
    "--outer--\r\n"
    "epilogue\r\n";

TEST(BodyStructure, NestedMultipartRanges) {
  const auto s = parse_mime_structure(kNested);
  ASSERT_EQ(s.parts[0].kind, MimePart::Kind::kMultipart);
  ASSERT_EQ(s.parts[0].children.size(), 3U);
  EXPECT_EQ(section(kNested, {1}), "first");
  EXPECT_EQ(section(kNested, {2, 1}), "plain");
  EXPECT_EQ(section(kNested, {2, 2}), "<p>html</p>");
  EXPECT_EQ(section(kNested, {2}),
            "--inner\r\n\r\nplain\r\n--inner\r\nContent-Type: text/html\r\n\r\n<p>html</p>\r\n"
            "--inner--\r\ninner epilogue");
  EXPECT_EQ(section(kNested, {3}), "Subject: inside\r\n\r\nenclosed body");
  // Inside message/rfc822: "3.1" is the body of the (non-multipart) enclosed message.
  EXPECT_EQ(section(kNested, {3, 1}), "enclosed body");
  EXPECT_EQ(section(kNested, {4}), "<none>");
  EXPECT_EQ(section(kNested, {1, 1}), "first");  // as Dovecot: 1 of a leaf is itself
  const auto two = *find_part(s, {2});
  EXPECT_EQ(header_of_part(kNested, s, two),
            "Content-Type: multipart/alternative; boundary=inner\r\n\r\n");
  const auto msg = encapsulated_message(s, *find_part(s, {3}));
  ASSERT_TRUE(msg);
  EXPECT_EQ(header_of_part(kNested, s, *msg), "Subject: inside\r\n\r\n");
  EXPECT_FALSE(encapsulated_message(s, *find_part(s, {1})));
  // The whole body keeps preamble and epilogue.
  EXPECT_EQ(body_of(kNested, s, 0).substr(0, 10), "preamble\r\n");
  EXPECT_EQ(body_of(kNested, s, 0).substr(body_of(kNested, s, 0).size() - 10), "epilogue\r\n");
}

TEST(BodyStructure, NestedBodyStructure) {
  EXPECT_EQ(bodystructure(kNested),
            "((\"text\" \"plain\" (\"charset\" \"utf-8\") NIL NIL \"7bit\" 5 0 NIL NIL NIL NIL)"
            "((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 5 0 NIL NIL NIL NIL)"
            "(\"text\" \"html\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 11 0 NIL NIL NIL NIL)"
            " \"alternative\" (\"boundary\" \"inner\") NIL NIL NIL)"
            "(\"message\" \"rfc822\" NIL NIL NIL \"7bit\" 32 (NIL \"inside\" NIL NIL NIL NIL NIL "
            "NIL NIL NIL) (\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 13 0 "
            "NIL NIL NIL NIL) 2 NIL NIL NIL NIL) \"mixed\" (\"boundary\" \"outer\") NIL NIL NIL)");
  EXPECT_EQ(bodystructure(kNested, false).substr(0, 60),
            "((\"text\" \"plain\" (\"charset\" \"utf-8\") NIL NIL \"7bit\" 5 0)((\"t");
}

TEST(BodyStructure, SinglePartMessage) {
  const std::string raw =
      "Subject: x\r\nMIME-Version: 1.0\r\nContent-Transfer-Encoding: base64\r\n\r\naGVsbG8=\r\n";
  EXPECT_EQ(bodystructure(raw),
            "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"base64\" 10 1 NIL NIL NIL "
            "NIL)");
  EXPECT_EQ(section(raw, {1}), "aGVsbG8=\r\n");
  EXPECT_EQ(section(raw, {2}), "<none>");
  // Without MIME-Version or Content-Type, Content-* fields do not count (RFC 2045 4).
  EXPECT_EQ(bodystructure("Content-Transfer-Encoding: x-uuencode\r\n\r\nb\r\n", false),
            "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 3 1)");
}

TEST(BodyStructure, MissingEndBoundaryEndsAtTheEnclosingBoundaryOrEof) {
  const std::string raw =
      "Content-Type: multipart/mixed; boundary=a\r\n\r\n"
      "--a\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"
      "--b\r\n\r\ninner one\r\n"  // no --b-- : the outer boundary closes it
      "--a\r\n\r\nsecond\r\n";    // no --a-- at all
  const auto s = parse_mime_structure(raw);
  ASSERT_EQ(s.parts[0].children.size(), 2U);
  EXPECT_EQ(section(raw, {1, 1}), "inner one");
  EXPECT_EQ(section(raw, {2}), "second\r\n");
}

TEST(BodyStructure, EmptyPartsAndBoundaryOnFirstLine) {
  const std::string raw =
      "Content-Type: multipart/mixed; boundary=x\r\n\r\n"
      "--x\r\n--x\r\n\r\n--x\r\n\r\n\r\n--x--\r\n";
  const auto s = parse_mime_structure(raw);
  ASSERT_EQ(s.parts[0].children.size(), 3U);
  EXPECT_EQ(section(raw, {1}), "");
  EXPECT_EQ(section(raw, {2}), "");
  EXPECT_EQ(section(raw, {3}), "");
  EXPECT_EQ(header_of_part(raw, s, s.parts[0].children[0]), "");
}

TEST(BodyStructure, MultipartWithoutBoundaryHasAnEmptyChild) {
  const std::string raw = "Content-Type: multipart/mixed\r\n\r\nno parts\r\n";
  EXPECT_EQ(bodystructure(raw, false),
            "((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 0 0) \"mixed\")");
  EXPECT_EQ(section(raw, {1}), "<none>");
}

TEST(BodyStructure, Rfc2231BoundaryAndParams) {
  const std::string raw =
      "Content-Type: multipart/mixed; boundary*0=\"ab\"; boundary*1=\"cd\"\r\n\r\n"
      "--abcd\r\nContent-Disposition: attachment; filename*=utf-8''%E2%82%AC.txt\r\n"
      "Content-Language: en, de\r\nContent-Location: http://x/y\r\n\r\nbody\r\n--abcd--\r\n";
  const auto s = parse_mime_structure(raw);
  ASSERT_EQ(s.parts[0].children.size(), 1U);
  EXPECT_EQ(section(raw, {1}), "body");
  EXPECT_EQ(bodystructure(raw),
            "((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 4 0 NIL "
            "(\"attachment\" (\"filename*\" \"utf-8''%E2%82%AC.txt\")) (\"en\" \"de\") "
            "\"http://x/y\") \"mixed\" (\"boundary\" \"abcd\") NIL NIL NIL)");
}

TEST(BodyStructure, LongestBoundaryPrefixWins) {
  const std::string raw =
      "Content-Type: multipart/mixed; boundary=b\r\n\r\n"
      "--b\r\nContent-Type: multipart/mixed; boundary=bb\r\n\r\n"
      "--bb\r\n\r\none\r\n--bb--\r\n--b\r\n\r\ntwo\r\n--b--\r\n";
  const auto s = parse_mime_structure(raw);
  ASSERT_EQ(s.parts[0].children.size(), 2U);
  EXPECT_EQ(section(raw, {1, 1}), "one");
  EXPECT_EQ(section(raw, {2}), "two");
}

TEST(BodyStructure, DeepNestingIsLimited) {
  std::string raw;
  for (int i = 0; i < 1000; ++i)
    raw += "Content-Type: multipart/mixed; boundary=b" + std::to_string(i) + "x\r\n\r\n--b" +
           std::to_string(i) + "x\r\n";
  raw += "\r\nleaf\r\n";
  const auto s = parse_mime_structure(raw);
  EXPECT_LE(s.parts.size(), kMaxMimeDepth + 1);
  const auto out = bodystructure(raw);
  EXPECT_NE(out.find("\"application\" \"octet-stream\""), std::string::npos);
  // The same with message/rfc822 nesting.
  std::string msgs;
  for (int i = 0; i < 1000; ++i)
    msgs += "Content-Type: message/rfc822\r\n\r\n";
  msgs += "Subject: end\r\n\r\nbody\r\n";
  EXPECT_LE(parse_mime_structure(msgs).parts.size(), kMaxMimeDepth + 1);
  EXPECT_FALSE(bodystructure(msgs).empty());
}

TEST(BodyStructure, DigestChildrenDefaultToMessage) {
  const std::string raw =
      "Content-Type: multipart/digest; boundary=d\r\n\r\n--d\r\n\r\nSubject: s\r\n\r\nb\r\n"
      "--d--\r\n";
  const auto s = parse_mime_structure(raw);
  ASSERT_EQ(s.parts[0].children.size(), 1U);
  EXPECT_EQ(s.parts[s.parts[0].children[0]].kind, MimePart::Kind::kMessage);
}

TEST(BodyStructure, LfOnlyAndNoFinalNewline) {
  const std::string raw = "Content-Type: multipart/mixed; boundary=z\n\n--z\n\nabc\n--z--";
  EXPECT_EQ(section(raw, {1}), "abc");
  EXPECT_EQ(section("Subject: s", {1}), "");
}

TEST(BodyStructure, HeaderFields) {
  const auto f = parse_header_fields("Subject: a\r\n b\r\nX-Y:\tz \r\nbroken line\r\n\r\nbody: no");
  ASSERT_EQ(f.size(), 2U);
  EXPECT_EQ(f[0].name, "Subject");
  EXPECT_EQ(f[0].value, "a b");
  EXPECT_EQ(f[1].value, "z ");
}

TEST(BodyStructure, TransferDecoding) {
  EXPECT_EQ(decode_transfer_encoding("aGVs\r\nbG8=\r\n", std::string{"BASE64"}), "hello");
  EXPECT_EQ(decode_transfer_encoding("a=3Db =\r\nc  \r\nd=\r\n", std::string{"quoted-printable"}),
            "a=b c\r\nd");
  EXPECT_EQ(decode_transfer_encoding("=ZZ=4", std::string{"quoted-printable"}), "=ZZ=4");
  EXPECT_EQ(decode_transfer_encoding("x", std::nullopt), "x");
  EXPECT_FALSE(decode_transfer_encoding("x", std::string{"x-uuencode"}));
}

}  // namespace
}  // namespace mailvault::imapd
