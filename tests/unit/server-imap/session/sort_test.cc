#include "server-imap/session/sort.h"

#include <gtest/gtest.h>

namespace mailvault::imapd {
namespace {

struct Row {
  std::uint64_t size;
  std::int64_t arrival;
  std::optional<std::int64_t> date;
  const char* subject;
  const char* from;
};

class SortTest : public ::testing::Test {
 protected:
  void add(const Row& r) {
    MessageEntry e;
    e.uid = Uid{static_cast<std::uint32_t>(entries_.size() + 1) * 10};
    e.size = r.size;
    e.internal_date = r.arrival;
    e.sent_date = r.date;
    entries_.push_back(e);
    mime::ParsedMessage m;
    m.subject = r.subject;
    m.from = {{"", r.from}};
    keys_.push_back(make_message_keys(m));
  }

  // Sequence numbers in sorted order.
  std::vector<std::size_t> sorted(std::vector<SortCriterion> criteria) {
    std::vector<SortItem> items;
    for (std::size_t i = 0; i < entries_.size(); ++i)
      items.push_back({i, &entries_[i], &keys_[i]});
    sort_items(items, criteria);
    std::vector<std::size_t> out;
    for (const auto& it : items)
      out.push_back(it.index + 1);
    return out;
  }

  std::vector<MessageEntry> entries_;
  std::vector<MessageKeys> keys_;
};

using K = SortCriterion::Key;

TEST_F(SortTest, KeysTiesAndReverse) {
  add({300, 50, 1000, "Re: beta", "carol@x"});
  add({100, 40, std::nullopt, "alpha", "Bob@x"});  // no Date: sorts by arrival (40)
  add({200, 30, 500, "[list] Beta", "alice@x"});
  add({100, 20, 1000, "Fwd: ALPHA", "bob@y"});
  EXPECT_EQ(sorted({{K::kArrival, false}}), (std::vector<std::size_t>{4, 3, 2, 1}));
  EXPECT_EQ(sorted({{K::kDate, false}}), (std::vector<std::size_t>{2, 3, 1, 4}));
  EXPECT_EQ(sorted({{K::kSize, false}}), (std::vector<std::size_t>{2, 4, 3, 1}));
  // Equal sizes keep sequence order, also under REVERSE.
  EXPECT_EQ(sorted({{K::kSize, true}}), (std::vector<std::size_t>{1, 3, 2, 4}));
  // Base subjects: alpha alpha beta beta, ties by sequence number.
  EXPECT_EQ(sorted({{K::kSubject, false}}), (std::vector<std::size_t>{2, 4, 1, 3}));
  EXPECT_EQ(sorted({{K::kSubject, false}, {K::kDate, true}}),
            (std::vector<std::size_t>{4, 2, 1, 3}));
  // FROM compares the local part only, case-insensitively: alice bob bob carol.
  EXPECT_EQ(sorted({{K::kFrom, false}}), (std::vector<std::size_t>{3, 2, 4, 1}));
  EXPECT_EQ(sorted({{K::kFrom, true}, {K::kSize, true}}), (std::vector<std::size_t>{1, 2, 4, 3}));
}

TEST_F(SortTest, MissingFieldsSortFirst) {
  add({1, 1, 1, "b", "x@x"});
  add({1, 1, 1, "", ""});
  EXPECT_EQ(sorted({{K::kSubject, false}}), (std::vector<std::size_t>{2, 1}));
  EXPECT_EQ(sorted({{K::kCc, false}}), (std::vector<std::size_t>{1, 2}));
  EXPECT_EQ(sorted({{K::kDisplayFrom, false}}), (std::vector<std::size_t>{2, 1}));
}

TEST(SortKeys, WhichCriteriaNeedKeys) {
  EXPECT_FALSE(needs_keys({{K::kArrival, false}, {K::kDate, true}, {K::kSize, false}}));
  EXPECT_TRUE(needs_keys({{K::kSize, false}, {K::kDisplayTo, false}}));
}

}  // namespace
}  // namespace mailvault::imapd
