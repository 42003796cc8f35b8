#include "server-imap/session/message_keys.h"

#include <gtest/gtest.h>

namespace mailvault::imapd {
namespace {

std::string base(std::string_view s) {
  return base_subject(s).text;
}

bool reply(std::string_view s) {
  return base_subject(s).reply;
}

TEST(BaseSubject, PlainSubjectsStay) {
  EXPECT_EQ(base("Hello world"), "Hello world");
  EXPECT_EQ(base(""), "");
  EXPECT_FALSE(reply("Hello world"));
  EXPECT_EQ(base("Reply to all"), "Reply to all");  // "re" without ":" is no prefix
  EXPECT_EQ(base("Fwiw: thoughts"), "Fwiw: thoughts");
}

TEST(BaseSubject, WhiteSpaceCollapsedAndTrimmed) {
  EXPECT_EQ(base("  a \t\t b  "), "a b");
  EXPECT_EQ(base("a\r\n b"), "a b");
}

TEST(BaseSubject, ReplyAndForwardPrefixes) {
  EXPECT_EQ(base("Re: hello"), "hello");
  EXPECT_EQ(base("RE: Re: re:hello"), "hello");
  EXPECT_EQ(base("Fwd: hello"), "hello");
  EXPECT_EQ(base("FW: hello"), "hello");
  EXPECT_EQ(base("Re[2]: hello"), "hello");
  EXPECT_EQ(base("Re [2] : hello"), "hello");
  EXPECT_EQ(base("Re  : hello"), "hello");
  EXPECT_TRUE(reply("Re: hello"));
  EXPECT_TRUE(reply("fwd: hello"));
  EXPECT_EQ(base("Re:"), "");
}

TEST(BaseSubject, BlobsBeforePrefixesAndAlone) {
  EXPECT_EQ(base("[list] Re: hello"), "hello");
  EXPECT_TRUE(reply("[list] Re: hello"));
  EXPECT_EQ(base("[list] hello"), "hello");
  EXPECT_FALSE(reply("[list] hello"));
  EXPECT_EQ(base("Re: [list] Re: [PATCH 1/2] fix"), "fix");
  // A blob that would leave nothing is the subject itself.
  EXPECT_EQ(base("[PATCH]"), "[PATCH]");
  EXPECT_EQ(base("Re: [PATCH]"), "[PATCH]");
  // "[" inside a blob ends it unmatched: not a blob.
  EXPECT_EQ(base("[a[b] c"), "[a[b] c");
}

TEST(BaseSubject, TrailersAndForwardHeaders) {
  EXPECT_EQ(base("hello (fwd)"), "hello");
  EXPECT_EQ(base("hello (FWD) (fwd)  "), "hello");
  EXPECT_TRUE(reply("hello (fwd)"));
  EXPECT_EQ(base("[Fwd: hello]"), "hello");
  EXPECT_TRUE(reply("[Fwd: hello]"));
  EXPECT_EQ(base("[Fwd: Re: [Fwd: hello (fwd)]]"), "hello");
  // Not around the whole subject: an ordinary blob, removed as step (4) says.
  EXPECT_EQ(base("[fwd: hello] tail"), "tail");
  EXPECT_FALSE(reply("[fwd: hello] tail"));
}

TEST(BaseSubject, NonAsciiIsKept) {
  EXPECT_EQ(base("Re: Über [x]"), "Über [x]");
  EXPECT_EQ(base("AW: Grüße"), "AW: Grüße");  // only re/fw/fwd are RFC 5256 prefixes
}

TEST(SortFold, CaseInsensitiveAndUpperAscii) {
  EXPECT_EQ(sort_fold("Hello"), "HELLO");
  EXPECT_EQ(sort_fold("ÜBER"), sort_fold("über"));
  // i;unicode-casemap decomposes: accented letters sort with their base letter.
  EXPECT_EQ(sort_fold("é"), "E\xcc\x81");
  EXPECT_LT(sort_fold("André"), sort_fold("Andris"));
  EXPECT_EQ(sort_fold("ﬁle"), "FILE");
  EXPECT_EQ(sort_fold("a\xff"), "A\xff");  // not UTF-8: kept
  // Upper-cased ASCII puts '_' after letters, as titlecase comparison does.
  EXPECT_GT(sort_fold("_x"), sort_fold("zz"));
}

TEST(MessageKeys, FromParsedMessage) {
  mime::ParsedMessage m;
  m.subject = "Re: [list] Hello";
  m.from = {{"Zed Doe", "Alice@Example.org"}};
  m.to = {{"", "bob@example.org"}, {"Carl", "carl@example.org"}};
  m.message_id = "id1@x";
  m.in_reply_to = "id0@x";
  auto k = make_message_keys(m);
  EXPECT_EQ(k.subject, "HELLO");
  EXPECT_TRUE(k.subject_reply);
  EXPECT_EQ(k.from, "ALICE");
  EXPECT_EQ(k.to, "BOB");
  EXPECT_EQ(k.cc, "");
  EXPECT_EQ(k.display_from, "ZED DOE");
  EXPECT_EQ(k.display_to, "BOB@EXAMPLE.ORG");
  EXPECT_EQ(k.references, std::vector<std::string>{"id0@x"});
  m.references = {"a@x", "b@x"};
  EXPECT_EQ(make_message_keys(m).references, (std::vector<std::string>{"a@x", "b@x"}));
}

TEST(MessageKeys, GroupsBlanksAndMessageIdsWithoutAt) {
  mime::ParsedMessage m;
  m.to = {{"undisclosed-recipients", ""}};
  m.from = {{"  via \t RT ", "rt@example.org"}};
  m.message_id = "yes";
  m.references = {"yes", "a@x"};
  auto k = make_message_keys(m);
  EXPECT_EQ(k.to, "UNDISCLOSED-RECIPIENTS");
  EXPECT_EQ(k.display_from, "VIA RT");
  EXPECT_EQ(k.message_id, "");
  EXPECT_EQ(k.references, std::vector<std::string>{"a@x"});
  m.references = {"yes"};
  m.in_reply_to = "b@x";
  EXPECT_EQ(make_message_keys(m).references, std::vector<std::string>{"b@x"});
}

}  // namespace
}  // namespace mailvault::imapd
