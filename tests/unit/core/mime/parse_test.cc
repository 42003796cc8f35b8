#include "core/mime/parse.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/unit/core/mime/test_util.h"

namespace mailvault::mime {
namespace {

using testing::crlf;
using testing::first_invalid_field;
using testing::has_problem_containing;

constexpr std::string_view kSimple = R"(Return-Path: <bounce@example.org>
From: =?ISO-8859-1?Q?Keld_J=F8rn_Simonsen?= <keld@example.dk>
Sender: list-owner@example.org
Reply-To: "Doe, John" <john@example.org>
To: Ann <ann@example.org>, bob@example.org
To: carol@example.org
Cc: friends: dave@example.org;
Bcc: eve@example.org (Eve)
Subject: Re: =?UTF-8?B?SGVsbG8=?=
 =?UTF-8?B?IHdvcmxk?=
Date: Tue, 1 Jul 2003 10:52:37 +0200
Message-ID: <1234@local.machine.example>
In-Reply-To: "Ann's message" <1000@example.org> (Ann)
References: <999@example.org>
	<1000@example.org>  <broken
List-Id: Example discussion <example.lists.example.org>
X-Custom:   folded
   value
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 8bit

Caf=C3=A9 is not decoded here (8bit), but this is UTF-8: café.
)";

TEST(ParseMessage, TopLevelFields) {
  const ParsedMessage m = parse_message(kSimple);
  EXPECT_EQ(m.message_id, "1234@local.machine.example");
  EXPECT_EQ(m.subject, "Re: Hello world");
  ASSERT_EQ(m.from.size(), 1U);
  EXPECT_EQ(m.from[0].name, "Keld J\xC3\xB8rn Simonsen");
  EXPECT_EQ(m.from[0].email, "keld@example.dk");
  ASSERT_EQ(m.sender.size(), 1U);
  EXPECT_EQ(m.sender[0].email, "list-owner@example.org");
  ASSERT_EQ(m.reply_to.size(), 1U);
  EXPECT_EQ(m.reply_to[0].name, "Doe, John");
  ASSERT_EQ(m.to.size(), 3U);  // both To: fields
  EXPECT_EQ(m.to[0].name, "Ann");
  EXPECT_EQ(m.to[1].email, "bob@example.org");
  EXPECT_EQ(m.to[2].email, "carol@example.org");
  ASSERT_EQ(m.cc.size(), 2U);
  EXPECT_EQ(m.cc[0].name, "friends");
  EXPECT_EQ(m.cc[0].email, "");
  EXPECT_EQ(m.cc[1].email, "dave@example.org");
  ASSERT_EQ(m.bcc.size(), 1U);
  EXPECT_EQ(m.bcc[0].name, "Eve");
  ASSERT_TRUE(m.date.has_value());
  EXPECT_EQ(*m.date, 1057049557);  // 2003-07-01T08:52:37Z
  EXPECT_EQ(m.in_reply_to, "1000@example.org");
  EXPECT_EQ(m.references,
            (std::vector<std::string>{"999@example.org", "1000@example.org", "broken"}));
  EXPECT_EQ(m.list_id, "example.lists.example.org");
  EXPECT_EQ(m.body_text, "Caf=C3=A9 is not decoded here (8bit), but this is UTF-8: caf\xC3\xA9.");
  EXPECT_TRUE(m.body_html.empty());
  EXPECT_FALSE(m.has_attachments);
  EXPECT_TRUE(m.problems.empty()) << ::testing::PrintToString(m.problems);
}

TEST(ParseMessage, HeadersInOrderUnfoldedAndDecoded) {
  const ParsedMessage m = parse_message(kSimple);
  std::vector<std::string> names;
  for (const auto& h : m.headers) {
    names.push_back(h.name);
  }
  // Content-* fields live on GMime's root part; they must still come back in place.
  EXPECT_EQ(names, (std::vector<std::string>{
                       "Return-Path", "From", "Sender", "Reply-To", "To", "To", "Cc", "Bcc",
                       "Subject", "Date", "Message-ID", "In-Reply-To", "References", "List-Id",
                       "X-Custom", "MIME-Version", "Content-Type", "Content-Transfer-Encoding"}));
  EXPECT_EQ(m.headers[1].value, "Keld J\xC3\xB8rn Simonsen <keld@example.dk>");
  EXPECT_EQ(m.headers[8].value, "Re: Hello world");
  EXPECT_EQ(m.headers[14].value, "folded   value");
}

TEST(ParseMessage, CrlfLineEndingsGiveTheSameResult) {
  const ParsedMessage lf = parse_message(kSimple);
  const ParsedMessage crlf_msg = parse_message(crlf(kSimple));
  EXPECT_TRUE(testing::equal_except_html(lf, crlf_msg));
  EXPECT_EQ(crlf_msg.body_text.find('\r'), std::string::npos);
}

TEST(ParseMessage, MboxFromLineIsSkipped) {
  const ParsedMessage m =
      parse_message("From someone@example.org Mon Jan  1 00:00:00 2001\nSubject: hi\n\nbody\n");
  EXPECT_EQ(m.subject, "hi");
  EXPECT_EQ(m.body_text, "body");
  ASSERT_EQ(m.headers.size(), 1U);
  // Obsolete syntax allows blanks before the colon: that is a From header, not an envelope.
  const ParsedMessage header = parse_message("From : a@example.org\nSubject: hi\n\nbody\n");
  ASSERT_EQ(header.from.size(), 1U);
  EXPECT_EQ(header.from[0].email, "a@example.org");
}

TEST(ParseMessage, MessageIdVariants) {
  EXPECT_EQ(parse_message("Message-ID: <a@b>\n\nx").message_id, "a@b");
  EXPECT_EQ(parse_message("Message-ID:   no-brackets@example.org  \n\nx").message_id,
            "no-brackets@example.org");
  EXPECT_EQ(parse_message("Message-Id: (comment) <a@b> <c@d>\n\nx").message_id, "a@b");
  EXPECT_EQ(parse_message("Subject: none\n\nx").message_id, "");
  EXPECT_EQ(parse_message("In-Reply-To: Your message of Monday\n\nx").in_reply_to, "");
  EXPECT_EQ(parse_message("List-Id: plain-list-id\n\nx").list_id, "plain-list-id");
}

struct DateCase {
  const char* value;
  std::optional<std::int64_t> expected;
  bool problem;
};

TEST(ParseMessage, Dates) {
  const std::vector<DateCase> cases = {
      {"Thu, 13 Feb 1969 23:32:54 -0330", -27723426, false},  // RFC 5322 A.1.3: before 1970
      {"Fri, 21 Nov 1997 09:55:06 -0600", 880127706, false},
      {"21 Nov 97 09:55:06 GMT", 880106106, false},  // obsolete two-digit year, zone name
      {"Tue, 1 Jul 2003 10:52:37 +0200", 1057049557, false},
      {"Mon, 2 Sep 2002 10:00:00 +0000 (UTC)", 1030960800, false},
      {"Wed, 18 Sep 0102 23:32:17 +0500", 1032373937, true},  // Y2K-bug year, repaired
      {"not a date", std::nullopt, true},
      {"", std::nullopt, true},
  };
  for (const auto& c : cases) {
    const ParsedMessage m = parse_message(std::string("Date: ") + c.value + "\n\nbody\n");
    EXPECT_EQ(m.date, c.expected) << c.value;
    EXPECT_EQ(has_problem_containing(m, "invalid Date header"), c.problem) << c.value;
  }
  const ParsedMessage none = parse_message("Subject: x\n\nbody\n");
  EXPECT_FALSE(none.date.has_value());
  EXPECT_TRUE(none.problems.empty());
}

constexpr std::string_view kAlternative = R"(From: a@example.org
Subject: alt
Content-Type: multipart/alternative; boundary="alt"

--alt
Content-Type: text/plain; charset=iso-8859-1
Content-Transfer-Encoding: quoted-printable

Caf=E9 in plain text
--alt
Content-Type: text/html; charset=utf-8

<p>Caf&eacute; in <b>HTML</b></p>
--alt--
)";

TEST(ParseMessage, AlternativePrefersPlainTextAndKeepsHtml) {
  const ParsedMessage m = parse_message(kAlternative);
  EXPECT_EQ(m.body_text, "Caf\xC3\xA9 in plain text");
  EXPECT_EQ(m.body_html, "<p>Caf&eacute; in <b>HTML</b></p>");
  EXPECT_FALSE(m.has_attachments);
}

TEST(ParseMessage, AlternativesNotChosenGoToOtherText) {
  const ParsedMessage m = parse_message(kAlternative);
  EXPECT_EQ(m.other_text, "Caf\xC3\xA9 in HTML");
  const ParsedMessage calendar = parse_message(R"(Subject: invite
Content-Type: multipart/alternative; boundary=b

--b
Content-Type: text/plain

See the invitation.
--b
Content-Type: text/calendar; method=REQUEST

BEGIN:VCALENDAR
SUMMARY:Quarterly review
END:VCALENDAR
--b--
)");
  EXPECT_EQ(calendar.body_text, "See the invitation.");
  EXPECT_NE(calendar.other_text.find("SUMMARY:Quarterly review"), std::string::npos);
}

TEST(ParseMessage, NestedMessageHeadersAllInNestedHeaderText) {
  const ParsedMessage m = parse_message(R"(Subject: fwd
Content-Type: message/rfc822

From: Inner <inner@example.org>
Subject: inner subject
X-Mailer: Pegasus =?UTF-8?Q?M=C3=A4il?=

inner body
)");
  EXPECT_NE(m.body_text.find("Subject: inner subject"), std::string::npos);
  EXPECT_EQ(m.body_text.find("X-Mailer"), std::string::npos);
  EXPECT_NE(m.nested_header_text.find("X-Mailer: Pegasus M\xC3\xA4il"), std::string::npos)
      << m.nested_header_text;
  EXPECT_NE(m.nested_header_text.find("From: Inner <inner@example.org>\n"), std::string::npos);
  EXPECT_TRUE(m.other_text.empty());
}

TEST(ParseMessage, MessagePartialIsText) {
  const ParsedMessage m = parse_message(R"(Subject: part 1 of 2
Content-Type: message/partial; id="abc@example.org"; number=1; total=2

Subject: the whole message
Content-Type: text/plain

first half of the text
)");
  EXPECT_NE(m.body_text.find("first half of the text"), std::string::npos);
  EXPECT_FALSE(m.has_attachments);
}

TEST(ParseMessage, DateKeepsItsZone) {
  EXPECT_EQ(parse_message("Date: Tue, 1 Jul 2003 23:52:37 -0700\n\nx\n").date_zone_minutes, -420);
  EXPECT_EQ(parse_message("Date: Tue, 1 Jul 2003 10:52:37 +0530\n\nx\n").date_zone_minutes, 330);
  const ParsedMessage utc = parse_message("Date: Tue, 1 Jul 2003 10:52:37 +0000\n\nx\n");
  EXPECT_EQ(utc.date_zone_minutes, 0);
  EXPECT_EQ(utc.date, 1057056757);
  EXPECT_EQ(parse_message("Subject: none\n\nx\n").date_zone_minutes, 0);
}

TEST(ParseMessage, AlternativeWithoutPlainTextUsesHtml) {
  const ParsedMessage m = parse_message(R"(Subject: html only alt
Content-Type: multipart/alternative; boundary=b

--b
Content-Type: text/html

<html><head><style>p {}</style></head><body><p>Hello &amp; welcome</p><p>Second</p></body></html>
--b--
)");
  EXPECT_EQ(m.body_text, "Hello & welcome\n\nSecond");
  EXPECT_NE(m.body_html.find("<p>Hello"), std::string::npos);
}

TEST(ParseMessage, AlternativeWithBlankPlainTextUsesHtml) {
  const ParsedMessage m = parse_message(R"(Subject: spam trick
Content-Type: multipart/alternative; boundary=b

--b
Content-Type: text/plain
Content-Transfer-Encoding: quoted-printable

=0D=0A=0D=0A
--b
Content-Type: text/html

<p>Buy now</p>
--b--
)");
  EXPECT_EQ(m.body_text, "Buy now");
}

TEST(ParseMessage, HtmlOnlyMessage) {
  const ParsedMessage m = parse_message(
      "Subject: h\nContent-Type: text/html; charset=windows-1252\n\n<div>Price: &euro;5 \x96 "
      "cheap</div>\n");
  EXPECT_EQ(m.body_text,
            "Price: \xE2\x82\xAC"
            "5 \xE2\x80\x93 cheap");
  EXPECT_EQ(m.body_html, "<div>Price: &euro;5 \xE2\x80\x93 cheap</div>\n");
}

constexpr std::string_view kMixed = R"(From: a@example.org
Subject: mixed
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="outer"

preamble is not text
--outer
Content-Type: multipart/alternative; boundary="inner"

--inner
Content-Type: text/plain

Main text.
--inner
Content-Type: multipart/related; boundary="rel"

--rel
Content-Type: text/html

<p>Main <img src="cid:logo"> text.</p>
--rel
Content-Type: image/png
Content-ID: <logo>
Content-Transfer-Encoding: base64

iVBORw0KGgo=
--rel--
--inner--
--outer
Content-Type: application/pdf; name="=?UTF-8?Q?r=C3=A9sum=C3=A9.pdf?="
Content-Disposition: attachment;
 filename*0*=UTF-8''r%C3%A9sum%C3%A9;
 filename*1=".pdf"
Content-Transfer-Encoding: base64

JVBERi0xLjQK
--outer
Content-Type: text/plain; charset=koi8-r; name=notes.txt
Content-Disposition: attachment

\xF0\xD2\xC9\xD7\xC5\xD4
--outer
Content-Type: text/html; name=page.html
Content-Disposition: attachment; filename="page.html"

<p>attached &amp; html</p>
--outer
Content-Type: application/octet-stream
Content-Transfer-Encoding: quoted-printable

a=3Db
--outer
Content-Type: text/plain
Content-Disposition: inline; filename="footer.txt"

Inline footer.
--outer--
epilogue is not text
)";

TEST(ParseMessage, AttachmentsAndTextParts) {
  std::string raw(kMixed);
  // The koi8-r bytes are written escaped above (raw string); put the real bytes in.
  const std::string escaped = R"(\xF0\xD2\xC9\xD7\xC5\xD4)";
  raw.replace(raw.find(escaped), escaped.size(), "\xF0\xD2\xC9\xD7\xC5\xD4");
  const ParsedMessage m = parse_message(raw);
  EXPECT_EQ(m.body_text, "Main text.\n\nInline footer.");
  EXPECT_EQ(m.body_html, "<p>Main <img src=\"cid:logo\"> text.</p>");
  EXPECT_TRUE(m.has_attachments);
  ASSERT_EQ(m.attachments.size(), 5U);
  EXPECT_EQ(m.attachments[0].content_type, "image/png");
  EXPECT_EQ(m.attachments[0].filename, "");
  EXPECT_EQ(m.attachments[0].size, 8U);  // iVBORw0KGgo= -> 8 bytes
  EXPECT_EQ(m.attachments[1].content_type, "application/pdf");
  EXPECT_EQ(m.attachments[1].filename, "r\xC3\xA9sum\xC3\xA9.pdf");
  EXPECT_EQ(m.attachments[1].size, 9U);  // "%PDF-1.4\n"
  EXPECT_EQ(m.attachments[2].content_type, "text/plain");
  EXPECT_EQ(m.attachments[2].filename, "notes.txt");
  EXPECT_EQ(m.attachments[2].size, 6U);
  EXPECT_EQ(m.attachments[3].filename, "page.html");
  EXPECT_EQ(m.attachments[4].content_type, "application/octet-stream");
  EXPECT_EQ(m.attachments[4].size, 3U);  // quoted-printable "a=3Db" -> "a=b"
  EXPECT_EQ(m.attachment_text,
            "\xD0\x9F\xD1\x80\xD0\xB8\xD0\xB2\xD0\xB5\xD1\x82\n\nattached & html");
  EXPECT_EQ(first_invalid_field(m), "");
  // The body parts' own header fields are in nested_header_text (IMAP TEXT), not in the body.
  EXPECT_NE(m.nested_header_text.find("Content-Type: image/png"), std::string::npos)
      << m.nested_header_text;
  EXPECT_NE(m.nested_header_text.find("Content-Type: text/plain; charset=koi8-r; name=notes.txt\n"),
            std::string::npos)
      << m.nested_header_text;
  EXPECT_EQ(m.body_text.find("Content-Type"), std::string::npos);
}

TEST(ParseMessage, NestedMessageRfc822) {
  const ParsedMessage m = parse_message(R"(From: fwd@example.org
Subject: Fwd: original
Content-Type: multipart/mixed; boundary=b

--b
Content-Type: text/plain

See below.
--b
Content-Type: message/rfc822
Content-Disposition: attachment; filename="original.eml"

From: =?UTF-8?Q?J=C3=B6rg?= <joerg@example.org>
To: fwd@example.org
Subject: original
Date: Fri, 21 Nov 1997 09:55:06 -0600
Content-Type: multipart/mixed; boundary=c

--c
Content-Type: text/plain

Original text.
--c
Content-Type: image/gif
Content-Disposition: attachment; filename=pic.gif
Content-Transfer-Encoding: base64

R0lGODlh
--c
Content-Type: text/html

<p>Nested html</p>
--c--
--b--
)");
  EXPECT_EQ(m.body_text,
            "See below.\n\nFrom: J\xC3\xB6rg <joerg@example.org>\nTo: fwd@example.org\n"
            "Subject: original\nDate: Fri, 21 Nov 1997 09:55:06 -0600\n\nOriginal text.\n\n"
            "Nested html");
  EXPECT_TRUE(m.body_html.empty());  // nested HTML is not the main body's
  ASSERT_EQ(m.attachments.size(), 2U);
  EXPECT_EQ(m.attachments[0].filename, "original.eml");
  EXPECT_EQ(m.attachments[0].content_type, "message/rfc822");
  EXPECT_GT(m.attachments[0].size, 200U);
  EXPECT_EQ(m.attachments[1].filename, "pic.gif");
  EXPECT_EQ(m.attachments[1].size, 6U);
  // Only the outer message's headers are top-level headers.
  EXPECT_EQ(m.subject, "Fwd: original");
}

TEST(ParseMessage, SignedMessageSignatureIsNotAnAttachment) {
  const ParsedMessage m = parse_message(R"(Subject: signed
Content-Type: multipart/signed; micalg=pgp-sha256; protocol="application/pgp-signature"; boundary=s

--s
Content-Type: text/plain

Signed text.
--s
Content-Type: application/pgp-signature; name=signature.asc

-----BEGIN PGP SIGNATURE-----
abc
-----END PGP SIGNATURE-----
--s--
)");
  EXPECT_EQ(m.body_text, "Signed text.");
  EXPECT_FALSE(m.has_attachments);
  EXPECT_TRUE(m.attachments.empty());
}

TEST(ParseMessage, EncryptedMessageHasNoTextAndNoAttachments) {
  const ParsedMessage m = parse_message(R"(Subject: secret
Content-Type: multipart/encrypted; protocol="application/pgp-encrypted"; boundary=e

--e
Content-Type: application/pgp-encrypted

Version: 1
--e
Content-Type: application/octet-stream

-----BEGIN PGP MESSAGE-----
xyz
-----END PGP MESSAGE-----
--e--
)");
  EXPECT_EQ(m.subject, "secret");
  EXPECT_TRUE(m.body_text.empty());
  EXPECT_FALSE(m.has_attachments);
}

TEST(ParseMessage, BodyCharsets) {
  EXPECT_EQ(parse_message("Content-Type: text/plain; charset=iso-8859-1\n\ncaf\xE9\n").body_text,
            "caf\xC3\xA9");
  EXPECT_EQ(
      parse_message("Content-Type: text/plain; charset=utf-8\n\nbad \xFF\xFE end\n").body_text,
      "bad \xEF\xBF\xBD\xEF\xBF\xBD end");
  EXPECT_EQ(parse_message("Subject: no charset\n\ncaf\xE9 caf\xC3\xA9\n").body_text,
            "caf\xC3\xA9 caf\xC3\xA9");
  EXPECT_EQ(parse_message("Content-Type: text/plain; charset=\"ISO-2022-JP\"\n\n\x1B$B$3$s\x1B(B\n")
                .body_text,
            "\xE3\x81\x93\xE3\x82\x93");
  const ParsedMessage unknown =
      parse_message("Content-Type: text/plain; charset=x-foo\n\ncaf\xE9\n");
  EXPECT_EQ(unknown.body_text, "caf\xC3\xA9");
  EXPECT_TRUE(has_problem_containing(unknown, "undecodable charset x-foo"));
  const ParsedMessage nul = parse_message(std::string("Subject: n\n\na\0b\n", 16));
  EXPECT_EQ(nul.body_text,
            "a\xEF\xBF\xBD"
            "b");
}

TEST(ParseMessage, Base64BodyWrittenInPaddedChunks) {
  // GMime 3.2.13's decoder stops at the first '=': "Hello" only.
  const ParsedMessage m = parse_message(
      "Content-Type: text/plain\nContent-Transfer-Encoding: base64\n\nSGVsbG8=\nIHdvcmxk\n");
  EXPECT_EQ(m.body_text, "Hello world");
}

TEST(ParseMessage, UnterminatedMultipartBoundaryKeepsTheText) {
  const ParsedMessage m = parse_message(R"(Subject: cut
Content-Type: multipart/mixed; boundary=b

--b
Content-Type: text/plain

first part
--b
Content-Type: text/plain

second part, and then the message just ends
)");
  EXPECT_EQ(m.body_text, "first part\n\nsecond part, and then the message just ends");
  EXPECT_TRUE(has_problem_containing(m, "unterminated multipart boundary")) << m.problems.size();
}

TEST(ParseMessage, CloseDelimiterWithTrailingJunkDoesNotTerminate) {
  // GMime does not read "--b--</html>" as a close delimiter: the part runs to the end.
  const ParsedMessage m = parse_message(
      "Subject: x\nContent-Type: multipart/mixed; boundary=b\n\n--b\n\ntext\n--b--</html>\n");
  EXPECT_TRUE(has_problem_containing(m, "unterminated multipart boundary"));
  const ParsedMessage ok = parse_message(
      "Subject: x\nContent-Type: multipart/mixed; boundary=b\n\n--b\n\ntext\n--b--\nepilogue\n");
  EXPECT_TRUE(ok.problems.empty()) << ::testing::PrintToString(ok.problems);
  const ParsedMessage nested = parse_message(
      "Subject: x\nContent-Type: multipart/mixed; boundary=a\n\n--a\nContent-Type: "
      "multipart/alternative; boundary=b\n\n--b\n\ntext\n--b--\ninner epilogue\n--a--\n");
  EXPECT_TRUE(nested.problems.empty()) << ::testing::PrintToString(nested.problems);
}

TEST(ParseMessage, MultipartWhoseBoundaryNeverAppearsKeepsTheText) {
  const ParsedMessage m = parse_message(
      "Subject: x\nContent-Type: multipart/mixed; boundary=nowhere\n\nall of the text\n");
  EXPECT_EQ(m.body_text, "all of the text");
  EXPECT_FALSE(m.problems.empty());
}

TEST(ParseMessage, MultipartWithoutBoundaryKeepsTheText) {
  const ParsedMessage m = parse_message("Subject: x\nContent-Type: multipart/mixed\n\nthe text\n");
  EXPECT_EQ(m.body_text, "the text");
  EXPECT_TRUE(has_problem_containing(m, "without boundary"));
}

TEST(ParseMessage, DeliveryStatusIsText) {
  const ParsedMessage m = parse_message(R"(Subject: Undelivered Mail
Content-Type: multipart/report; report-type=delivery-status; boundary=r

--r
Content-Type: text/plain

Your message could not be delivered.
--r
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.org
Final-Recipient: rfc822; nobody@example.org
Action: failed
--r
Content-Type: text/rfc822-headers

From: me@example.org
Subject: lost
--r--
)");
  EXPECT_NE(m.body_text.find("Action: failed"), std::string::npos);
  EXPECT_NE(m.body_text.find("Subject: lost"), std::string::npos);
  EXPECT_FALSE(m.has_attachments);
}

TEST(ParseMessage, RawEightBitHeaders) {
  const ParsedMessage m = parse_message(
      "From: J\xF6rg <j@example.org>\nSubject: caf\xE9 \xE2\x82\xAC\nTo: \"M\xC3\xBCller\" "
      "<m@example.org>\n\nx\n");
  EXPECT_EQ(m.subject, "caf\xC3\xA9 \xE2\x82\xAC");
  ASSERT_EQ(m.from.size(), 1U);
  EXPECT_EQ(m.from[0].name, "J\xC3\xB6rg");
  ASSERT_EQ(m.to.size(), 1U);
  EXPECT_EQ(m.to[0].name, "M\xC3\xBCller");
  EXPECT_EQ(first_invalid_field(m), "");
  EXPECT_TRUE(has_problem_containing(m, "raw 8-bit bytes in header"));
}

TEST(ParseMessage, ProblemsAreReportedOnce) {
  std::string raw = "Subject: x\nContent-Type: multipart/mixed; boundary=b\n\n";
  for (int i = 0; i < 50; ++i) {
    raw += "--b\nContent-Type: text/plain; charset=x-foo\n\ntext\n";
  }
  raw += "--b--\n";
  const ParsedMessage m = parse_message(raw);
  EXPECT_EQ(std::count(m.problems.begin(), m.problems.end(), "undecodable charset x-foo"), 1);
}

}  // namespace
}  // namespace mailvault::mime
