// SubstringNarrower: the candidates are a superset of the messages whose body text contains a
// needle (checked against every substring of the test texts), and small for a rare word.

#include "indexer/substring_narrower.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "index_test_support.h"

namespace mailvault::index {
namespace {

using testing::make_item;
using testing::MessageSpec;
using testing::TempDir;

std::string ascii_lower(std::string s) {
  for (char& c : s) {
    if (c >= 'A' && c <= 'Z') {
      c = static_cast<char>(c - 'A' + 'a');
    }
  }
  return s;
}

// Writes `items` into the index at `dir` in one batch.
void write_index(const std::filesystem::path& dir, const std::vector<IndexItem>& items) {
  Result<IndexWriter> writer = IndexWriter::open(dir);
  ASSERT_TRUE(writer.has_value()) << writer.error().message;
  ASSERT_TRUE(writer->write(items).has_value());
}

struct Text {
  std::int64_t id;
  std::string body;
  std::string other;
  std::string attachment;

  [[nodiscard]] std::string folded() const {
    return ascii_lower(body + "\n" + other + "\n" + attachment);
  }
};

const std::vector<Text>& texts() {
  static const std::vector<Text> t = {
      {1, "The quick brown fox jumps over the lazy dog.", "", ""},
      {2, "Shipped to the U.S.A. by AT&T, don't worry: pi is 3.14159 (approx).", "", ""},
      {3, "Call +1-555-0100 or mail sales@example.com; see https://example.com/a/b?c=d.", "", ""},
      {4, "Plain alternative only.", "<b>HTML</b> alternative says Zanzibar", ""},
      {5, "Attached below.", "", "invoice number INV-2024-0042 total EUR 1.250,00"},
      {6, std::string("token ") + std::string(80, 'q') + "xyz end", "", ""},  // long word
      {7, "Grüße aus Köln, naïve café résumé; Straße", "", ""},
      {8, "日本語のテキストと English words mixed", "", ""},
      {9, "snake_case_identifier and CamelCaseWord and x1y2z3", "", ""},
      {10, "fox", "", ""},
      {11,
       "co\xC2\xAD"
       "operate with the \xE2\x84\xAA"
       "elvin scale",
       "", ""},  // soft hyphen, K sign
      {12, "plain words: budget meeting tomorrow", "budget notes", "meeting minutes"},
  };
  return t;
}

// Never stops looking up runs: the smallest candidate set the index gives.
constexpr NarrowingOptions kExact{0, 0, 0, 0};

class SubstringNarrowerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Result<IndexWriter> writer = IndexWriter::open(dir_.path());
    ASSERT_TRUE(writer.has_value()) << writer.error().message;
    std::vector<IndexItem> items;
    for (const Text& t : texts()) {
      MessageSpec s;
      s.id = t.id;
      s.subject = "subject words only here";
      s.body = t.body;
      s.attachment_text = t.attachment;
      if (!t.attachment.empty()) {
        s.attachment_names = {"invoice.txt"};
      }
      IndexItem item = make_item(s);
      item.parsed.other_text = t.other;
      items.push_back(std::move(item));
    }
    ASSERT_TRUE(writer->write(items).has_value());
  }

  std::optional<SubstringCandidates> candidates(std::string_view needle) {
    auto c = narrower_.body_candidates(needle);
    EXPECT_TRUE(c.has_value()) << needle << ": " << (c ? "" : c.error().message);
    return c ? std::move(*c) : std::nullopt;
  }

  // Checks that a narrower with `options` keeps every candidate of the exact one, and that some
  // needle gets more candidates (it stopped early).
  void expect_superset_of_exact(NarrowingOptions options);

  TempDir dir_;
  // Never stops early, so that the tests see the smallest set the index gives.
  SubstringNarrower narrower_{dir_.path(), kExact};
};

TEST_F(SubstringNarrowerTest, EverySubstringKeepsEveryMessageThatContainsIt) {
  std::size_t checked = 0;
  for (const Text& source : texts()) {
    const std::string folded = source.folded();
    for (std::size_t len = 1; len <= 7; ++len) {
      for (std::size_t at = 0; at + len <= folded.size(); ++at) {
        const std::string needle = folded.substr(at, len);
        const auto c = candidates(needle);
        if (!c) {
          continue;  // not narrowed: every message is a candidate
        }
        for (const Text& t : texts()) {
          if (t.folded().find(needle) != std::string::npos) {
            ++checked;
            EXPECT_TRUE(c->may_contain(MessageId{t.id}))
                << "message " << t.id << " contains \"" << needle << "\" but was ruled out";
          }
        }
      }
    }
  }
  EXPECT_GT(checked, 1000U);
}

TEST_F(SubstringNarrowerTest, RareWordsNarrowToTheirMessages) {
  auto only = [&](std::string_view needle, std::vector<std::int64_t> want) {
    const auto c = candidates(needle);
    ASSERT_TRUE(c.has_value()) << needle;
    std::vector<std::int64_t> got;
    for (const Text& t : texts()) {
      if (c->may_contain(MessageId{t.id})) {
        got.push_back(t.id);
      }
    }
    // 6 has a skipped long word (XUNINDEXED): always a candidate.
    want.push_back(6);
    std::sort(want.begin(), want.end());
    EXPECT_EQ(got, want) << needle;
  };
  only("zanzibar", {4});       // other_text (an alternative not chosen)
  only("nzib", {4});           // inside a word
  only("inv-2024", {5});       // attachment text, two runs
  only("lazy dog", {1});       // two words
  only("u.s.a. by", {2});      // an acronym the tokenizer joins
  only("14159", {2});          // inside a number
  only("sales@example", {3});  // across punctuation
  only("case_ident", {9});     // '_' joins words
  only("gr", {7});             // beside a non-ASCII letter
  only("english words", {8});  // beside CJK text
  only("fox", {1, 10});
}

// With `enough` set, the lookup stops once the candidates are few: a superset of the smallest
// set, still holding every message that contains the needle.
TEST_F(SubstringNarrowerTest, StopsLookingUpRunsOnceCandidatesAreFew) {
  expect_superset_of_exact(NarrowingOptions{4, 4, 0, 0});
}

// The cost rule (a run in T terms is read only while T x checks_per_term < candidates) also
// keeps every message that contains the needle; with the default options too.
TEST_F(SubstringNarrowerTest, SkipsRunsThatCostMoreThanCheckingTheCandidates) {
  expect_superset_of_exact(NarrowingOptions{0, 0, 1, 1});
  expect_superset_of_exact(NarrowingOptions{});
}

void SubstringNarrowerTest::expect_superset_of_exact(NarrowingOptions options) {
  SubstringNarrower early(dir_.path(), options);
  std::size_t wider = 0;
  std::size_t checked = 0;
  for (const Text& source : texts()) {
    const std::string folded = source.folded();
    for (std::size_t len = 3; len <= 12; ++len) {
      for (std::size_t at = 0; at + len <= folded.size(); ++at) {
        const std::string needle = folded.substr(at, len);
        auto exact = narrower_.body_candidates(needle);
        auto stopped = early.body_candidates(needle);
        ASSERT_TRUE(exact.has_value() && stopped.has_value()) << needle;
        if (!*exact || !*stopped) {
          continue;
        }
        for (const Text& t : texts()) {
          const MessageId id{t.id};
          if ((*exact)->may_contain(id)) {
            ++checked;
            EXPECT_TRUE((*stopped)->may_contain(id)) << "\"" << needle << "\" lost " << t.id;
          }
          wider += (*stopped)->may_contain(id) && !(*exact)->may_contain(id) ? 1 : 0;
        }
      }
    }
  }
  EXPECT_GT(checked, 1000U);
  EXPECT_GT(wider, 0U);  // some needles did stop before their last run
}

// Definite matches: a message the index says surely contains a needle does contain it, for
// every substring of the texts (and words the tokenizer makes that are not in any text).
TEST_F(SubstringNarrowerTest, DefiniteMatchesAlwaysContainTheNeedle) {
  std::vector<std::string> needles = {"usa", "cooperate", "kelvin", "att", "dont", "314159"};
  for (const Text& source : texts()) {
    const std::string folded = source.folded();
    for (std::size_t len = 1; len <= 9; ++len) {
      for (std::size_t at = 0; at + len <= folded.size(); ++at) {
        needles.push_back(folded.substr(at, len));
      }
    }
  }
  std::size_t definite = 0;
  for (const std::string& needle : needles) {
    const auto c = candidates(needle);
    if (!c) {
      continue;
    }
    for (const Text& t : texts()) {
      if (c->surely_contains(MessageId{t.id})) {
        ++definite;
        EXPECT_NE(t.folded().find(needle), std::string::npos)
            << "message " << t.id << " was said to contain \"" << needle << "\"";
        EXPECT_TRUE(c->may_contain(MessageId{t.id}));
      }
    }
  }
  EXPECT_GT(definite, 1000U);
}

TEST_F(SubstringNarrowerTest, DefiniteMatchesOnlyForOneWholeRun) {
  auto sure = [&](std::string_view needle) {
    const auto c = candidates(needle);
    std::vector<std::int64_t> got;
    for (const Text& t : texts()) {
      if (c && c->surely_contains(MessageId{t.id})) {
        got.push_back(t.id);
      }
    }
    return got;
  };
  EXPECT_EQ(sure("fox"), (std::vector<std::int64_t>{1, 10}));
  EXPECT_EQ(sure("eeti"), (std::vector<std::int64_t>{12}));     // inside "meeting"
  EXPECT_EQ(sure("budget"), (std::vector<std::int64_t>{12}));   // body and other text
  EXPECT_EQ(sure("minutes"), (std::vector<std::int64_t>{12}));  // attachment text
  EXPECT_EQ(sure("zanzibar"), (std::vector<std::int64_t>{4}));
  EXPECT_TRUE(sure("lazy dog").empty());  // two runs: never definite
  EXPECT_TRUE(sure("fox.").empty());      // punctuation: never definite
  // The tokenizer joins "U.S.A." into "usa" and "co<soft hyphen>operate" into one word (the
  // texts do not contain them): those messages are marked and never definite.
  EXPECT_TRUE(sure("usa").empty());
  EXPECT_TRUE(sure("cooperate").empty());
  EXPECT_TRUE(sure("kelvin").empty());
  const auto c = candidates("usa");
  ASSERT_TRUE(c.has_value());
  EXPECT_TRUE(c->may_contain(MessageId{2}));  // still a candidate, checked on the text
}

TEST_F(SubstringNarrowerTest, NeedlesWithoutAsciiRunsAreNotNarrowed) {
  EXPECT_FALSE(candidates("").has_value());
  EXPECT_FALSE(candidates("@").has_value());
  EXPECT_FALSE(candidates("\xC3\xBC").has_value());  // ü
  EXPECT_EQ(SubstringNarrower::ascii_runs("a.b-cd ef"),
            (std::vector<std::string_view>{"a", "b", "cd", "ef"}));
}

TEST_F(SubstringNarrowerTest, MessagesIndexedLaterAreAlwaysCandidates) {
  ASSERT_TRUE(candidates("zanzibar").has_value());  // the snapshot is taken now
  {
    Result<IndexWriter> writer = IndexWriter::open(dir_.path());
    ASSERT_TRUE(writer.has_value()) << writer.error().message;
    MessageSpec s;
    s.id = 50;
    s.body = "a brand new word: quixotic";
    ASSERT_TRUE(writer->write({make_item(s)}).has_value());
  }
  const auto c = candidates("quixotic");
  ASSERT_TRUE(c.has_value());
  EXPECT_TRUE(c->may_contain(MessageId{50}));
  EXPECT_FALSE(c->may_contain(MessageId{1}));
  EXPECT_TRUE(c->may_contain(MessageId{51}));  // not in the index at all
}

// Header fields: every occurrence's decoded value, comments and group names included.
TEST(SubstringNarrowerHeaders, EveryFieldValueIsCovered) {
  TempDir dir;

  struct Msg {
    std::int64_t id;
    std::vector<mime::Header> headers;
  };

  const std::vector<Msg> msgs = {
      {1,
       {{"From", "Ann Example <ann@example.org> (Support Desk)"},
        {"Subject", "Quarterly"},
        {"Subject", "second subject line"}}},
      {2, {{"To", "undisclosed-recipients:;"}, {"Subject", "Re: [list] patch v2"}}},
      {3,
       {{"Sender", "Bob <bob@lists.example.net>"},
        {"Cc", "carol@example.com"},
        {"Bcc", "dave@example.com"}}},
  };
  {
    Result<IndexWriter> writer = IndexWriter::open(dir.path());
    ASSERT_TRUE(writer.has_value()) << writer.error().message;
    std::vector<IndexItem> items;
    for (const Msg& m : msgs) {
      MessageSpec spec;
      spec.id = m.id;
      IndexItem item = make_item(spec);
      item.parsed.headers = m.headers;
      for (const mime::Header& h : m.headers) {
        if (h.name == "Subject" && item.parsed.subject.empty()) {
          item.parsed.subject = h.value;
        }
      }
      items.push_back(std::move(item));
    }
    ASSERT_TRUE(writer->write(items).has_value());
  }
  SubstringNarrower narrower(dir.path(), kExact);
  auto field_of = [](const std::string& name) -> std::optional<TextField> {
    if (name == "Subject")
      return TextField::kSubject;
    if (name == "From" || name == "Sender")
      return TextField::kFrom;
    if (name == "To")
      return TextField::kTo;
    if (name == "Cc")
      return TextField::kCc;
    if (name == "Bcc")
      return TextField::kBcc;
    return std::nullopt;
  };
  std::size_t checked = 0;
  for (const Msg& source : msgs) {
    for (const mime::Header& h : source.headers) {
      const std::string value = ascii_lower(h.value);
      const TextField field = *field_of(h.name);
      for (std::size_t len = 1; len <= 6; ++len) {
        for (std::size_t at = 0; at + len <= value.size(); ++at) {
          const std::string needle = value.substr(at, len);
          auto c = narrower.candidates(field, needle);
          ASSERT_TRUE(c.has_value()) << c.error().message;
          if (!*c) {
            continue;
          }
          ++checked;
          EXPECT_TRUE((*c)->may_contain(MessageId{source.id}))
              << h.name << " of " << source.id << " contains \"" << needle << "\"";
        }
      }
    }
  }
  EXPECT_GT(checked, 100U);
  auto only = [&](TextField field, std::string_view needle, std::vector<std::int64_t> want) {
    auto c = narrower.candidates(field, needle);
    ASSERT_TRUE(c.has_value() && c->has_value()) << needle;
    std::vector<std::int64_t> got;
    for (const Msg& m : msgs) {
      if ((*c)->may_contain(MessageId{m.id})) {
        got.push_back(m.id);
      }
    }
    EXPECT_EQ(got, want) << needle;
  };
  only(TextField::kFrom, "desk", {1});           // a comment
  only(TextField::kFrom, "lists.example", {3});  // Sender counts as From
  only(TextField::kSubject, "second", {1});      // the second Subject field
  only(TextField::kTo, "undisclosed", {2});      // a group name
  only(TextField::kCc, "carol", {3});
  only(TextField::kBcc, "carol", {});
}

// Subject definite matches: literal only when parsed.subject is a Subject field's value.
TEST(SubstringNarrowerHeaders, SubjectDefiniteMatches) {
  TempDir dir;
  {
    std::vector<IndexItem> items;
    MessageSpec a;
    a.id = 1;
    a.subject = "Quarterly report";
    IndexItem ia = make_item(a);
    ia.parsed.headers = {{"Subject", "Quarterly report"}, {"Subject", "second line"}};
    items.push_back(std::move(ia));
    MessageSpec b;
    b.id = 2;
    b.subject = "Quarterly figures";  // not the value of its Subject field
    IndexItem ib = make_item(b);
    ib.parsed.headers = {{"Subject", "=?bogus?= figures"}};
    items.push_back(std::move(ib));
    MessageSpec c;
    c.id = 3;
    c.subject = "Report on the U.S.A.";
    IndexItem ic = make_item(c);
    ic.parsed.headers = {{"Subject", "Report on the U.S.A."}};
    items.push_back(std::move(ic));
    write_index(dir.path(), items);
  }
  SubstringNarrower narrower(dir.path());
  auto sure = [&](std::string_view needle) {
    auto c = narrower.candidates(TextField::kSubject, needle);
    EXPECT_TRUE(c.has_value());
    std::vector<std::int64_t> got;
    for (std::int64_t id : {1, 2, 3}) {
      if (c && *c && (*c)->surely_contains(MessageId{id})) {
        got.push_back(id);
      }
    }
    return got;
  };
  EXPECT_EQ(sure("quarterly"), (std::vector<std::int64_t>{1}));
  EXPECT_EQ(sure("second"), (std::vector<std::int64_t>{1}));
  EXPECT_EQ(sure("port"), (std::vector<std::int64_t>{1}));  // 3 is marked (U.S.A.)
  EXPECT_TRUE(sure("usa").empty());
  // No definite matches for address fields (From holds Sender's words too).
  auto from = narrower.candidates(TextField::kFrom, "quarterly");
  ASSERT_TRUE(from.has_value());
  EXPECT_TRUE(!*from || (*from)->definite_count() == 0);
}

// HEADER Message-ID: every substring of every Message-ID field keeps its message; a field
// with text outside the XMID term (a comment, a second id) keeps its message a candidate.
TEST(SubstringNarrowerHeaders, MessageIdCandidates) {
  TempDir dir;

  struct Msg {
    std::int64_t id;
    std::string message_id;  // as parsed
    std::vector<mime::Header> headers;
  };

  const std::vector<Msg> msgs = {
      {1, "CAF+abc.123@mail.example.org", {{"Message-ID", "<CAF+abc.123@mail.example.org>"}}},
      {2, "x9@y", {{"Message-Id", "<x9@y> (added by relay)"}}},
      {3, "first@one", {{"Message-ID", "<first@one>"}, {"Message-ID", "<second@two>"}}},
      {4, "", {{"Message-ID", "garbage without brackets"}}},
      {5, "plain@host", {{"Message-ID", "<plain@host>"}}},
  };
  std::vector<IndexItem> items;
  for (const Msg& m : msgs) {
    MessageSpec spec;
    spec.id = m.id;
    spec.message_id = m.message_id;
    items.push_back(make_item(spec));
    items.back().parsed.headers = m.headers;
  }
  write_index(dir.path(), items);
  SubstringNarrower narrower(dir.path(), kExact);
  std::size_t checked = 0;
  for (const Msg& source : msgs) {
    for (const mime::Header& h : source.headers) {
      const std::string value = ascii_lower(h.value);
      for (std::size_t len = 1; len <= 8; ++len) {
        for (std::size_t at = 0; at + len <= value.size(); ++at) {
          const std::string needle = value.substr(at, len);
          auto c = narrower.candidates(TextField::kMessageId, needle);
          ASSERT_TRUE(c.has_value()) << c.error().message;
          if (!*c) {
            continue;
          }
          ++checked;
          EXPECT_TRUE((*c)->may_contain(MessageId{source.id}))
              << "Message-ID of " << source.id << " contains \"" << needle << "\"";
          EXPECT_FALSE((*c)->surely_contains(MessageId{source.id}));
        }
      }
    }
  }
  EXPECT_GT(checked, 100U);
  auto got = [&](std::string_view needle) {
    auto c = narrower.candidates(TextField::kMessageId, needle);
    EXPECT_TRUE(c.has_value() && c->has_value()) << needle;
    std::vector<std::int64_t> out;
    for (const Msg& m : msgs) {
      if (c && *c && (*c)->may_contain(MessageId{m.id})) {
        out.push_back(m.id);
      }
    }
    return out;
  };
  // 2, 3 and 4 have Message-ID text outside their XMID term: always candidates.
  EXPECT_EQ(got("<plain@host>"), (std::vector<std::int64_t>{2, 3, 4, 5}));
  EXPECT_EQ(got("abc.123@mail"), (std::vector<std::int64_t>{1, 2, 3, 4}));
}

TEST(SubstringNarrowerNoIndex, AnswersNotNarrowed) {
  TempDir dir;
  SubstringNarrower narrower(dir.path() / "missing");
  auto c = narrower.body_candidates("word");
  ASSERT_TRUE(c.has_value());
  EXPECT_FALSE(c->has_value());
}

}  // namespace
}  // namespace mailvault::index
