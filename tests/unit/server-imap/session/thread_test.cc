#include "server-imap/session/thread.h"

#include <gtest/gtest.h>

namespace mailvault::imapd {
namespace {

struct Msg {
  const char* id;
  std::vector<std::string> refs;  // References (the last is the parent)
  const char* subject;
  std::int64_t date;
};

class ThreadTest : public ::testing::Test {
 protected:
  std::vector<ThreadMessage> input(const std::vector<Msg>& msgs) {
    keys_.clear();
    keys_.reserve(msgs.size());
    for (const auto& m : msgs) {
      mime::ParsedMessage p;
      // Short names in the tables below; real msg-ids have an "@" (message_keys.h).
      p.message_id = *m.id == '\0' ? "" : std::string{m.id} + "@x";
      for (const auto& r : m.refs)
        p.references.push_back(r + "@x");
      p.subject = m.subject;
      keys_.push_back(make_message_keys(p));
    }
    std::vector<ThreadMessage> out;
    for (std::size_t i = 0; i < msgs.size(); ++i)
      out.push_back({static_cast<std::uint32_t>(i + 1), msgs[i].date, &keys_[i]});
    return out;
  }

  std::string references(const std::vector<Msg>& msgs) {
    return format_threads(thread_references(input(msgs)));
  }

  std::string ordered(const std::vector<Msg>& msgs) {
    return format_threads(thread_ordered_subject(input(msgs)));
  }

  std::vector<MessageKeys> keys_;
};

TEST_F(ThreadTest, ChainsAndSiblings) {
  EXPECT_EQ(
      references({{"a", {}, "s", 1}, {"b", {"a"}, "Re: s", 2}, {"c", {"a", "b"}, "Re: s", 3}}),
      "(1 2 3)");
  EXPECT_EQ(references({{"a", {}, "s", 1}, {"b", {"a"}, "Re: s", 2}, {"c", {"a"}, "Re: s", 3}}),
            "(1 (2)(3))");
  EXPECT_EQ(references({}), "");
}

TEST_F(ThreadTest, SiblingsAndRootsOrderedBySentDateThenMailboxOrder) {
  EXPECT_EQ(references({{"a", {}, "s", 10},
                        {"b", {"a"}, "Re: s", 30},
                        {"c", {"a"}, "Re: s", 20},
                        {"d", {}, "t", 5},
                        {"e", {}, "u", 5}}),
            "(4)(5)(1 (3)(2))");
}

TEST_F(ThreadTest, MissingParentsBecomeDummies) {
  // Two replies to a message that is not in the mailbox: a dummy root keeps them together.
  EXPECT_EQ(references({{"b", {"x"}, "Re: one", 1}, {"c", {"x"}, "Re: two", 2}}), "((1)(2))");
  // A dummy with a single child is replaced by it.
  EXPECT_EQ(references({{"b", {"x"}, "one", 1}}), "(1)");
  // Dummies inside a thread disappear, their children moving up.
  EXPECT_EQ(
      references({{"a", {}, "s", 1}, {"c", {"a", "x"}, "Re: s", 2}, {"d", {"a", "x"}, "Re: s", 3}}),
      "(1 (2)(3))");
}

TEST_F(ThreadTest, TruncatedReferencesAreRepaired) {
  // c first only names b; when b arrives saying its parent is a, a->b->c.
  EXPECT_EQ(references({{"a", {}, "s", 1}, {"c", {"b"}, "Re: s", 3}, {"b", {"a"}, "Re: s", 2}}),
            "(1 3 2)");
}

TEST_F(ThreadTest, LoopsAreNotCreated) {
  EXPECT_EQ(references({{"a", {"b"}, "p", 1}, {"b", {"a"}, "q", 2}}), "(2 1)");
  EXPECT_EQ(references({{"a", {"a"}, "p", 1}}), "(1)");
  EXPECT_EQ(references({{"a", {"b", "c", "b"}, "p", 1}}), "(1)");
}

TEST_F(ThreadTest, DuplicateAndMissingMessageIds) {
  EXPECT_EQ(references({{"a", {}, "p", 1}, {"a", {}, "q", 2}, {"", {}, "r", 3}, {"", {}, "t", 4}}),
            "(1)(2)(3)(4)");
  // Replies go to the first message with the id.
  EXPECT_EQ(references({{"a", {}, "p", 1}, {"a", {}, "q", 2}, {"b", {"a"}, "z", 3}}), "(1 3)(2)");
}

TEST_F(ThreadTest, RootsWithTheSameSubjectAreGathered) {
  // Original and a reply without references: the reply goes under the original.
  EXPECT_EQ(references({{"b", {}, "Re: hello", 1}, {"a", {}, "Hello", 2}}), "(2 1)");
  // Two originals: a dummy holds both.
  EXPECT_EQ(references({{"a", {}, "hello", 1}, {"b", {}, "[list] HELLO", 2}}), "((1)(2))");
  // Two replies: a dummy too.
  EXPECT_EQ(references({{"a", {}, "Re: hello", 1}, {"b", {}, "Fwd: hello", 2}}), "((1)(2))");
  // A message joins a dummy of that subject as one more child.
  EXPECT_EQ(references({{"b", {"x"}, "Re: hi", 1}, {"c", {"x"}, "Re: hi", 3}, {"d", {}, "hi", 2}}),
            "((1)(3)(2))");
  // Empty subjects are never gathered.
  EXPECT_EQ(references({{"a", {}, "", 1}, {"b", {}, "Re:", 2}}), "(1)(2)");
}

TEST_F(ThreadTest, VeryDeepChainsAreSplitNotOverflowed) {
  // 5,000 messages, each replying to the previous one: threads of at most 1,000 levels.
  std::vector<std::string> ids;
  std::vector<Msg> msgs;
  ids.reserve(5000);
  for (int i = 0; i < 5000; ++i)
    ids.push_back("m" + std::to_string(i));
  for (int i = 0; i < 5000; ++i) {
    std::vector<std::string> refs;
    if (i > 0)
      refs.push_back(ids[static_cast<std::size_t>(i - 1)]);
    msgs.push_back({ids[static_cast<std::size_t>(i)].c_str(), refs, "", i});
  }
  const auto threads = thread_references(input(msgs));
  ASSERT_EQ(threads.size(), 5u);
  std::size_t depth = 0;
  for (const ThreadNode* n = &threads.front(); !n->children.empty(); n = &n->children.front())
    ++depth;
  EXPECT_EQ(depth, 999u);
  EXPECT_EQ(threads[1].number, 1001u);
}

TEST_F(ThreadTest, OrderedSubject) {
  EXPECT_EQ(ordered({{"a", {}, "beta", 4},
                     {"b", {}, "Alpha", 3},
                     {"c", {}, "Re: alpha", 1},
                     {"d", {}, "Re: beta", 5},
                     {"e", {}, "gamma", 2},
                     {"f", {}, "alpha", 2}}),
            "(3 (6)(2))(5)(1 4)");
  EXPECT_EQ(ordered({}), "");
}

TEST(FormatThreads, NestingRules) {
  ThreadNode leaf23{23, {}};
  ThreadNode n4{4, {leaf23}};
  ThreadNode n96{96, {}};
  ThreadNode n7{7, {n96}};
  ThreadNode n44{44, {n7}};
  ThreadNode n6{6, {n4, n44}};
  ThreadNode n3{3, {n6}};
  ThreadNode n2{2, {}};
  // The example of RFC 5256 section 4.
  EXPECT_EQ(format_threads({n2, n3}), "(2)(3 6 (4 23)(44 7 96))");
  EXPECT_EQ(format_threads({ThreadNode{0, {ThreadNode{3, {}}, ThreadNode{5, {}}}}}), "((3)(5))");
}

}  // namespace
}  // namespace mailvault::imapd
