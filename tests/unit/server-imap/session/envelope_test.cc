// ENVELOPE: address lists, groups and the raw (undecoded, unfolded) strings, as Dovecot.
#include "server-imap/session/envelope.h"

#include <gtest/gtest.h>

namespace mailvault::imapd {
namespace {

std::string envelope(std::string_view header) {
  ResponseWriter w;
  w.untagged();
  write_envelope(w, header);
  w.end_line();
  auto out = w.take();
  return out.substr(2, out.size() - 4);
}

EnvelopeAddress addr(std::optional<std::string> name, std::optional<std::string> mailbox,
                     std::optional<std::string> host, std::optional<std::string> adl = {}) {
  return EnvelopeAddress{std::move(name), std::move(adl), std::move(mailbox), std::move(host)};
}

TEST(Envelope, AddressForms) {
  using V = std::vector<EnvelopeAddress>;
  EXPECT_EQ(parse_envelope_addresses("Ann Smith <ann@example.org>"),
            V{addr("Ann Smith", "ann", "example.org")});
  EXPECT_EQ(parse_envelope_addresses("\"Smith, Ann\" <ann@example.org>, bob@example.net (Bob)"),
            (V{addr("Smith, Ann", "ann", "example.org"), addr("Bob", "bob", "example.net")}));
  EXPECT_EQ(parse_envelope_addresses("=?UTF-8?B?w6k=?= <e@x.org>"),
            V{addr("=?UTF-8?B?w6k=?=", "e", "x.org")});
  EXPECT_EQ(parse_envelope_addresses("<@a.org,@b.org:c@d.org>"),
            V{addr(std::nullopt, "c", "d.org", "@a.org,@b.org")});
  EXPECT_EQ(parse_envelope_addresses("undisclosed-recipients:;"),
            (V{addr(std::nullopt, "undisclosed-recipients", std::nullopt), EnvelopeAddress{}}));
  EXPECT_EQ(parse_envelope_addresses("team: a@x.org, B <b@x.org>;, c@y.org"),
            (V{addr(std::nullopt, "team", std::nullopt), addr(std::nullopt, "a", "x.org"),
               addr("B", "b", "x.org"), EnvelopeAddress{}, addr(std::nullopt, "c", "y.org")}));
  EXPECT_EQ(parse_envelope_addresses("user"), V{addr(std::nullopt, "user", "MISSING_DOMAIN")});
  EXPECT_EQ(parse_envelope_addresses(""), V{});
}

TEST(Envelope, FullEnvelope) {
  EXPECT_EQ(envelope("Date: Wed, 06 Mar 2024 12:00:00 +0000\r\n"
                     "Subject:  Hello\r\n   world  \r\n"
                     "From: Ann <ann@example.org>\r\n"
                     "To: bob@example.net, carol@example.net\r\n"
                     "Message-ID: <m1@example.org>\r\n\r\n"),
            "(\"Wed, 06 Mar 2024 12:00:00 +0000\" \"Hello world\" "
            "((\"Ann\" NIL \"ann\" \"example.org\")) ((\"Ann\" NIL \"ann\" \"example.org\")) "
            "((\"Ann\" NIL \"ann\" \"example.org\")) "
            "((NIL NIL \"bob\" \"example.net\")(NIL NIL \"carol\" \"example.net\")) NIL NIL NIL "
            "\"<m1@example.org>\")");
  EXPECT_EQ(envelope(""), "(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)");
}

TEST(Envelope, EightBitGoesAsLiteral) {
  EXPECT_EQ(envelope("Subject: caf\xc3\xa9\r\n\r\n"),
            "(NIL {5}\r\ncaf\xc3\xa9 NIL NIL NIL NIL NIL NIL NIL NIL)");
}

TEST(Envelope, CollapseBlanks) {
  EXPECT_EQ(collapse_blanks("  a \t\r\n b  "), "a b");
  EXPECT_EQ(collapse_blanks(" \t "), "");
}

}  // namespace
}  // namespace mailvault::imapd
