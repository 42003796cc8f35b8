#include "server-imap/session/mailbox_view.h"

#include <gtest/gtest.h>

namespace mailvault::imapd {
namespace {

using Kind = MailboxRef::Kind;

TEST(MailboxName, RoundTripsEveryKind) {
  const std::vector<MailboxRef> refs = {
      MailboxRef{},
      MailboxRef{Kind::kAccountFolder, "work", "INBOX"},
      MailboxRef{Kind::kAccountFolder, "work", "Archive/2017"},
      MailboxRef{Kind::kImportFolder, "", "Lists"},
      MailboxRef{Kind::kImportFolder, "", ""},
  };
  for (const auto& r : refs) {
    const auto parsed = parse_mailbox_name(mailbox_name(r));
    ASSERT_FALSE(parsed.empty()) << mailbox_name(r);
    EXPECT_EQ(parsed.front(), r) << mailbox_name(r);
  }
  EXPECT_EQ(mailbox_name(refs[2]), "work/Archive/2017");
  EXPECT_EQ(mailbox_name(refs[3]), "Imported/Lists");
  EXPECT_EQ(mailbox_name(refs[4]), "Imported");
}

TEST(MailboxName, ImportedPrefixAlsoTriesAnAccountNamedImported) {
  const auto parsed = parse_mailbox_name("Imported/INBOX");
  ASSERT_EQ(parsed.size(), 2U);
  EXPECT_EQ(parsed[0].kind, Kind::kImportFolder);
  EXPECT_EQ(parsed[1].kind, Kind::kAccountFolder);
  EXPECT_EQ(parsed[1].account, "Imported");
}

TEST(MailboxName, InboxInAnyCaseIsAnAliasOfAllMail) {
  for (const char* name : {"INBOX", "inbox", "InBox"}) {
    auto refs = parse_mailbox_name(name);
    ASSERT_EQ(refs.size(), 1u) << name;
    EXPECT_EQ(refs[0].kind, MailboxRef::Kind::kAllMail) << name;
  }
  EXPECT_TRUE(parse_mailbox_name("INBOXES").empty());
}

TEST(MailboxName, RejectsNamesThatDenoteNoView) {
  for (const char* name : {"", "all mail", "work", "work/", "/INBOX", "All Mail/x"}) {
    const auto parsed = parse_mailbox_name(name);
    // "All Mail/x" is an account view of an account that cannot exist (names have no space),
    // which the store simply does not find.
    if (std::string_view(name) == "All Mail/x")
      continue;
    EXPECT_TRUE(parsed.empty()) << name;
  }
}

TEST(Flags, ParsesSystemFlagsCaseInsensitivelyAndKeepsKeywords) {
  const auto f = parse_flags("\\seen \\FLAGGED $Label1 \\Recent \\Unknown $label1 Junk");
  EXPECT_TRUE(f.seen);
  EXPECT_TRUE(f.flagged);
  EXPECT_FALSE(f.answered);
  EXPECT_FALSE(f.deleted);
  EXPECT_FALSE(f.draft);
  EXPECT_EQ(f.keywords, (std::vector<std::string>{"$Label1", "Junk"}));
  EXPECT_EQ(format_flags(f), "\\Flagged \\Seen $Label1 Junk");
  EXPECT_TRUE(has_keyword(f, "JUNK"));
  EXPECT_FALSE(has_keyword(f, "Spam"));
}

TEST(Flags, EmptyAndParenthesisedForms) {
  EXPECT_EQ(parse_flags(""), MessageFlags{});
  EXPECT_EQ(format_flags(parse_flags("(\\Answered \\Draft)")), "\\Answered \\Draft");
}

Snapshot snapshot_with_uids(std::vector<std::uint32_t> uids) {
  Snapshot s;
  for (auto u : uids) {
    MessageEntry e;
    e.uid = Uid{u};
    e.id = MessageId{u};
    s.messages.push_back(e);
  }
  normalise(s.messages);
  return s;
}

SequenceSet seq(std::vector<SequenceSet::Range> r) {
  return SequenceSet(SequenceSet::Kind::kSeq, std::move(r));
}

SequenceSet uid(std::vector<SequenceSet::Range> r) {
  return SequenceSet(SequenceSet::Kind::kUid, std::move(r));
}

TEST(Snapshot, ResolvesSequenceNumbersAsPositions) {
  const auto s = snapshot_with_uids({10, 3, 7, 42});  // normalised to 3 7 10 42
  EXPECT_EQ(s.messages.front().uid, Uid{3});
  using V = std::vector<std::size_t>;
  EXPECT_EQ(s.resolve(seq({{1, SequenceSet::kStar}})), (V{0, 1, 2, 3}));
  EXPECT_EQ(s.resolve(seq({{2, 3}})), (V{1, 2}));
  EXPECT_EQ(s.resolve(seq({{4, 9}})), (V{3}));
  EXPECT_EQ(s.resolve(seq({{5, 9}})), V{});
}

TEST(Snapshot, ResolvesUidsIgnoringMissingOnes) {
  const auto s = snapshot_with_uids({3, 7, 10, 42});
  using V = std::vector<std::size_t>;
  EXPECT_EQ(s.resolve(uid({{7, 7}})), (V{1}));
  EXPECT_EQ(s.resolve(uid({{4, 6}})), V{});
  EXPECT_EQ(s.resolve(uid({{8, 100}})), (V{2, 3}));
  // n:* names the last message even when n is beyond it (RFC 3501).
  EXPECT_EQ(s.resolve(uid({{900, SequenceSet::kStar}})), (V{3}));
  EXPECT_EQ(s.resolve(SequenceSet::saved(SequenceSet::Kind::kUid)), V{});
  EXPECT_EQ(snapshot_with_uids({}).resolve(uid({{1, SequenceSet::kStar}})), V{});
}

TEST(Snapshot, NormaliseDropsDuplicateUids) {
  const auto s = snapshot_with_uids({5, 5, 1});
  ASSERT_EQ(s.exists(), 2U);
  EXPECT_EQ(s.max_uid(), Uid{5});
}

TEST(ListMatches, StarAndPercent) {
  EXPECT_TRUE(list_matches("*", "All Mail"));
  EXPECT_TRUE(list_matches("*", "work/Archive/2017"));
  EXPECT_TRUE(list_matches("%", "All Mail"));
  EXPECT_FALSE(list_matches("%", "work/INBOX"));
  EXPECT_TRUE(list_matches("work/%", "work/INBOX"));
  EXPECT_FALSE(list_matches("work/%", "work/Archive/2017"));
  EXPECT_TRUE(list_matches("work/*", "work/Archive/2017"));
  EXPECT_TRUE(list_matches("%/%/2017", "work/Archive/2017"));
  EXPECT_TRUE(list_matches("All Mail", "All Mail"));
  EXPECT_FALSE(list_matches("All", "All Mail"));
  EXPECT_FALSE(list_matches("", "All Mail"));
  EXPECT_TRUE(list_matches("*I*B*X", "work/INBOX"));
}

TEST(ListMatches, HostilePatternIsCheap) {
  const std::string pattern = std::string(500, '*') + "x" + std::string(500, '%') + "y";
  const std::string name(200, 'a');
  EXPECT_FALSE(list_matches(pattern, name));
  EXPECT_FALSE(list_matches(std::string(5000, '*'), name));  // over the length bound
}

TEST(ListTree, AddsNoselectParentsAndChildrenAttributes) {
  const auto tree = list_tree({"work/INBOX", "All Mail", "work/Archive/2017", "Imported"});
  std::vector<std::string> names;
  for (const auto& e : tree)
    names.push_back(e.name);
  EXPECT_EQ(names, (std::vector<std::string>{"All Mail", "Imported", "work", "work/Archive",
                                             "work/Archive/2017", "work/INBOX"}));
  EXPECT_TRUE(tree[0].all);
  EXPECT_TRUE(tree[0].selectable);
  EXPECT_FALSE(tree[2].selectable);
  EXPECT_TRUE(tree[2].has_children);
  EXPECT_FALSE(tree[3].selectable);
  EXPECT_FALSE(tree[5].has_children);
}

}  // namespace
}  // namespace mailvault::imapd
