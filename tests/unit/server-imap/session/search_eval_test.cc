#include "server-imap/session/search_eval.h"

#include <gtest/gtest.h>

namespace mailvault::imapd {
namespace {

constexpr std::int64_t kDay = 86400;
// 2024-03-06 00:00:00 UTC
constexpr std::int64_t k20240306 = 1709683200;

// Five messages, UIDs 10 20 30 40 50, sizes 100..500, internal dates on consecutive days from
// 2024-03-06 at noon, Date: headers a day earlier except for the last (missing).
Snapshot sample() {
  Snapshot s;
  const char* flags[] = {"\\Seen", "\\Seen \\Flagged", "", "$Work", "\\Answered \\Deleted"};
  for (std::uint32_t i = 0; i < 5; ++i) {
    MessageEntry e;
    e.uid = Uid{(i + 1) * 10};
    e.id = MessageId{i + 1};
    e.size = (i + 1) * 100;
    e.internal_date = k20240306 + static_cast<std::int64_t>(i) * kDay + kDay / 2;
    if (i < 4)
      e.sent_date = e.internal_date - kDay;
    e.flags = parse_flags(flags[i]);
    s.messages.push_back(e);
  }
  return s;
}

std::vector<std::uint32_t> uids(const std::string& program) {
  auto parsed = parse_search(program, /*uid=*/true);
  if (auto* err = std::get_if<SearchParseError>(&parsed)) {
    ADD_FAILURE() << program << ": " << err->message;
    return {};
  }
  const auto& key = std::get<SearchProgram>(parsed).key;
  EXPECT_FALSE(contains_unsupported_keys(key)) << program;
  const auto s = sample();
  std::vector<std::uint32_t> out;
  for (auto i : evaluate_search(key, s, k20240306 + 10 * kDay))
    out.push_back(to_int(s.messages[i].uid));
  return out;
}

using U = std::vector<std::uint32_t>;

TEST(SearchEval, TableOfKeys) {
  const std::vector<std::pair<std::string, U>> cases = {
      {"ALL", {10, 20, 30, 40, 50}},
      {"LARGER 300", {40, 50}},
      {"SMALLER 300", {10, 20}},
      {"LARGER 100 SMALLER 500", {20, 30, 40}},
      {"UID 20:40", {20, 30, 40}},
      {"UID 45:*", {50}},
      {"UID 900:*", {50}},
      {"2:3", {20, 30}},
      {"*", {50}},
      {"SEEN", {10, 20}},
      {"UNSEEN", {30, 40, 50}},
      {"FLAGGED", {20}},
      {"ANSWERED DELETED", {50}},
      {"UNDELETED", {10, 20, 30, 40}},
      {"DRAFT", {}},
      {"RECENT", {}},
      {"NEW", {}},
      {"OLD", {10, 20, 30, 40, 50}},
      {"KEYWORD $work", {40}},
      {"UNKEYWORD $Work", {10, 20, 30, 50}},
      {"ON 7-Mar-2024", {20}},
      {"SINCE 8-Mar-2024", {30, 40, 50}},
      {"BEFORE 8-Mar-2024", {10, 20}},
      {"SENTON 6-Mar-2024", {20}},
      {"SENTSINCE 7-Mar-2024", {30, 40}},
      {"SENTBEFORE 6-Mar-2024", {10}},
      {"NOT SEEN", {30, 40, 50}},
      {"OR FLAGGED LARGER 400", {20, 50}},
      {"NOT (OR SEEN LARGER 400)", {30, 40}},
      {"OR (UID 10) (OR UID 20 UID 30)", {10, 20, 30}},
      {"YOUNGER 518400", {50}},  // 6 days before `now`
      {"OLDER 518400", {10, 20, 30, 40}},
  };
  for (const auto& [program, expected] : cases)
    EXPECT_EQ(uids(program), expected) << program;
}

TEST(SearchEval, TextKeysAndSavedSetAreUnsupported) {
  for (const char* p :
       {"SUBJECT x", "NOT BODY x", "OR ALL TEXT x", "HEADER X-A \"\"", "(FROM a)"}) {
    auto parsed = parse_search(p, false);
    ASSERT_TRUE(std::holds_alternative<SearchProgram>(parsed)) << p;
    EXPECT_TRUE(contains_unsupported_keys(std::get<SearchProgram>(parsed).key)) << p;
  }
}

TEST(SearchEval, SentDatesUseTheHeadersOwnDay) {
  // 2024-03-06 23:30 -0700 is 2024-03-07 06:30 UTC: SENTON is the 6th, as written.
  Snapshot s;
  MessageEntry e;
  e.uid = Uid{1};
  e.id = MessageId{1};
  e.sent_date = k20240306 + kDay + 6 * 3600 + 1800;
  e.sent_zone_minutes = -7 * 60;
  s.messages.push_back(e);
  auto on = [&](const char* program) {
    auto parsed = parse_search(program, false);
    return evaluate_search(std::get<SearchProgram>(parsed).key, s, 0).size();
  };
  EXPECT_EQ(on("SENTON 6-Mar-2024"), 1U);
  EXPECT_EQ(on("SENTON 7-Mar-2024"), 0U);
  EXPECT_EQ(on("SENTBEFORE 7-Mar-2024"), 1U);
  s.messages[0].sent_zone_minutes = 0;  // unknown zone (archived before migration 0005): UTC
  EXPECT_EQ(on("SENTON 7-Mar-2024"), 1U);
}

TEST(SearchEval, EmptyMailbox) {
  auto parsed = parse_search("ALL", false);
  EXPECT_TRUE(evaluate_search(std::get<SearchProgram>(parsed).key, Snapshot{}, 0).empty());
}

}  // namespace
}  // namespace mailvault::imapd
