// End-to-end: a real index in a temporary directory, built from hand-made messages, searched
// with the user query language.
#include "indexer/searcher.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>
#include <xapian.h>

#include "index_test_support.h"
#include "indexer/index_writer.h"
#include "indexer/phrase_check.h"
#include "indexer/schema.h"

namespace mailvault::index {
namespace {

using testing::addr;
using testing::ids_matching;
using testing::make_item;
using testing::MessageSpec;
using testing::parse;
using testing::TempDir;
using testing::utc;

std::vector<MessageSpec> corpus() {
  std::vector<MessageSpec> v(6);
  v[0].id = 1;
  v[0].subject = "Quarterly report";
  v[0].from = {addr("Alice Smith", "alice@example.com")};
  v[0].to = {addr("", "bob@example.org")};
  v[0].body = "The running totals are attached. Please review the numbers.";
  v[0].date = utc(2024, 1, 1);
  v[0].size = 5000;
  v[0].accounts = {"work"};
  v[0].folders = {"INBOX"};
  v[0].message_id = "m1@example.com";
  v[0].list_id = "finance.lists.example.com";
  v[0].attachment_names = {"report.pdf"};

  v[1].id = 2;
  v[1].subject = "Re: Quarterly report";
  v[1].from = {addr("Bob", "bob@example.org")};
  v[1].to = {addr("", "alice@example.com")};
  v[1].cc = {addr("Carol", "carol@example.net")};
  v[1].body = "He runs every morning. Lunch at noon?";
  v[1].date = utc(2024, 3, 31, 23, 59, 59);
  v[1].size = 1048576;  // exactly 1M
  v[1].accounts = {"personal"};
  v[1].folders = {"Sent Items"};

  v[2].id = 3;
  v[2].subject = "日本語のテスト";
  v[2].from = {addr("", "carol@example.net")};
  v[2].to = {addr("Dave", "dave@example.com")};
  v[2].bcc = {addr("", "eve@example.com")};
  v[2].body = "これは日本語のテストです";
  v[2].date = utc(2024, 4, 1);
  v[2].size = 1048577;
  v[2].accounts = {"work"};
  v[2].folders = {"Archive"};

  v[3].id = 4;
  v[3].subject = "Lunch plans";
  v[3].from = {addr("Mallory", "alice@example.com.evil.org")};
  v[3].sender = {addr("Trent", "trent@example.com")};
  v[3].body = "lunch at the usual place, alice";
  v[3].archived_at = utc(2024, 2, 15);  // no Date: header
  v[3].size = 500;

  v[4].id = 5;
  v[4].subject = "Invoice 2024-001";
  v[4].from = {addr("", "dave@example.com")};
  v[4].body = "invoice attached";
  v[4].date = utc(2023, 12, 31, 23, 59, 59);
  v[4].size = 512000;  // exactly 500K
  v[4].attachment_names = {"invoice-2024.pdf"};
  v[4].attachment_text = "Total amount due: 100 EUR";

  // A message with a very long Message-ID (beyond Xapian's term length limit).
  v[5].id = 6;
  v[5].subject = "Long id";
  v[5].message_id = std::string(300, 'x') + "@example.com";
  v[5].date = utc(2022, 6, 1);
  v[5].body = "nothing much";
  return v;
}

class SearcherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    IndexOptions options;
    options.threads = 2;
    Result<IndexWriter> writer = IndexWriter::open(dir_.path(), options);
    ASSERT_TRUE(writer.has_value()) << writer.error().message;
    std::vector<IndexItem> items;
    for (const MessageSpec& s : corpus()) {
      items.push_back(make_item(s));
      texts_[s.id] = items.back().parsed;
    }
    Status st = writer->write(std::move(items));
    ASSERT_TRUE(st.has_value()) << st.error().message;
    // Phrases are verified on the same texts the index was built from (as the sidecar).
    searcher_.set_text_loader([this](MessageId id) -> std::optional<mime::ParsedMessage> {
      const auto it = texts_.find(to_int(id));
      if (it == texts_.end()) {
        return std::nullopt;
      }
      return it->second;
    });
  }

  std::vector<std::int64_t> ids(std::string_view query) { return ids_matching(searcher_, query); }

  TempDir dir_;
  std::map<std::int64_t, mime::ParsedMessage> texts_;
  Searcher searcher_{dir_.path()};
};

struct Expectation {
  std::string query;
  std::vector<std::int64_t> ids;
};

TEST_F(SearcherTest, QueryLanguageOverRealIndex) {
  using V = std::vector<std::int64_t>;
  const std::vector<Expectation> table = {
      // Everything.
      {"", V{1, 2, 3, 4, 5, 6}},
      {"*", V{1, 2, 3, 4, 5, 6}},
      // from: names, address words, exact addresses, prefixes, phrases; Sender counts as from.
      {"from:alice", V{1, 4}},
      {"from:alice@example.com", V{1}},
      {"from:ALICE@Example.COM", V{1}},
      {"from:<alice@example.com>", V{1}},
      {"from:\"Alice Smith\"", V{1}},
      {"from:\"Smith Alice\"", V{}},
      {"from:ali*", V{1, 4}},
      {"from:alice@example.com.ev*", V{4}},
      {"from:trent", V{4}},
      {"from:trent@example.com", V{4}},
      {"from:evil.org", V{4}},
      // to: cc: bcc:
      {"to:bob", V{1}},
      {"to:alice@example.com", V{2}},
      {"to:dave", V{3}},
      {"cc:carol", V{2}},
      {"cc:carol@example.net", V{2}},
      {"bcc:eve", V{3}},
      {"bcc:eve@example.com", V{3}},
      {"to:eve", V{}},
      // Anywhere: an address is exact in address fields, a phrase elsewhere.
      {"alice@example.com", V{1, 2}},
      {"alice", V{1, 2, 4}},
      {"carol", V{2, 3}},
      // subject: body:
      {"subject:quarterly", V{1, 2}},
      {"subject:\"quarterly report\"", V{1, 2}},
      {"subject:re", V{2}},
      {"subject:lunch", V{4}},
      {"body:lunch", V{2, 4}},
      {"lunch", V{2, 4}},
      {"body:quarterly", V{}},
      // Phrases never span two fields (subject "... report" + body "The running ...").
      {"\"report the\"", V{}},
      {"\"the numbers\"", V{1}},
      {"\"numbers the\"", V{}},
      // attachment: filename:
      {"attachment:invoice", V{5}},
      {"attachment:amount", V{5}},
      {"filename:amount", V{}},
      {"filename:report", V{1}},
      {"filename:report.pdf", V{1}},
      {"filename:\"invoice 2024\"", V{5}},
      {"invoice-2024", V{5}},
      {"amount", V{5}},
      // Phrases are exact in every field, attachment text included; unfielded ones look at
      // every field.
      {"attachment:\"total amount\"", V{5}},
      {"attachment:\"amount total\"", V{}},
      {"\"total amount\"", V{5}},
      {"total amount", V{5}},
      // msgid: list: account: folder: (exact, case-insensitive)
      {"msgid:m1@example.com", V{1}},
      {"msgid:<M1@Example.com>", V{1}},
      {"msgid:m1", V{}},
      {"msgid:m1*", V{1}},
      {"msgid:" + std::string(300, 'x') + "@example.com", V{6}},
      {"list:finance.lists.example.com", V{1}},
      {"list:finance", V{}},
      {"account:work", V{1, 3}},
      {"account:WORK", V{1, 3}},
      {"account:import", V{4, 5, 6}},
      {"folder:inbox", V{1, 4, 5, 6}},
      {"folder:\"Sent Items\"", V{2}},
      {"folder:sent", V{}},
      {"folder:arch*", V{3}},
      // has:attachment
      {"has:attachment", V{1, 5}},
      {"-has:attachment", V{2, 3, 4, 6}},
      // Dates: UTC day boundaries; the Date: header only (message 4 has none).
      {"date:2024-01-01", V{1}},
      {"date:2024-03-31", V{2}},
      {"date:2024-04-01", V{3}},
      {"date:2023-12-31", V{5}},
      {"date:2024-01-01..2024-03-31", V{1, 2}},
      {"date:2024-01..2024-03", V{1, 2}},
      {"date:2024", V{1, 2, 3}},
      {"date:2024-02", V{}},
      {"date:..2023-12-31", V{5, 6}},
      {"date:2024-04-01..", V{3}},
      {"before:2024-01-01", V{5, 6}},
      {"before:2024-01-02", V{1, 5, 6}},
      {"after:2024-04-01", V{3}},
      {"after:2024-03-31", V{2, 3}},
      // Sizes are strict: larger:1M excludes exactly 1M.
      {"larger:1M", V{3}},
      {"larger:1048575", V{2, 3}},
      {"smaller:500K", V{1, 4, 6}},
      {"larger:500K", V{2, 3}},
      {"larger:499K smaller:501K", V{5}},
      // Operators.
      {"lunch OR invoice", V{2, 4, 5}},
      {"lunch -subject:lunch", V{2}},
      {"lunch AND NOT from:bob", V{4}},
      {"(quarterly OR invoice) has:attachment", V{1, 5}},
      {"NOT from:alice", V{2, 3, 5, 6}},
      {"quarterly report OR lunch", V{1, 2, 4}},
      {"account:work OR folder:archive", V{1, 3}},
      {"account:work -folder:archive", V{1}},
      // CJK n-grams.
      {"日本語", V{3}},
      {"テスト", V{3}},
      {"subject:日本語", V{3}},
      {"\"日本語のテスト\"", V{3}},
      {"本語", V{3}},
      {"語日", V{}},
      {"body:これは", V{3}},
      // English stemming: run, runs and running share the stem; a quoted word is exact.
      {"run", V{1, 2}},
      {"running", V{1, 2}},
      {"runs", V{1, 2}},
      {"\"running\"", V{1}},
      {"\"runs\"", V{2}},
      // Prefixes.
      {"invo*", V{5}},
      {"quart*", V{1, 2}},
      {"subject:quart*", V{1, 2}},
      {"body:quart*", V{}},
      // Case and punctuation.
      {"QUARTERLY", V{1, 2}},
      {"noon?", V{2}},
      {"\"...\"", V{1, 2, 3, 4, 5, 6}},
  };
  for (const Expectation& e : table) {
    EXPECT_EQ(ids(e.query), e.ids) << "query: " << e.query;
  }
}

TEST_F(SearcherTest, SortsByDateWithArchiveTimeFallback) {
  SearchRequest request;
  request.query = parse("*");
  request.limit = 10;
  request.sort = SearchRequest::Sort::kDateDesc;
  Result<SearchPage> desc = searcher_.search(request);
  ASSERT_TRUE(desc.has_value()) << desc.error().message;
  std::vector<std::int64_t> order;
  for (const SearchHit& h : desc->hits) {
    order.push_back(to_int(h.id));
  }
  // 3: 2024-04-01, 2: 2024-03-31, 4: archived 2024-02-15, 1: 2024-01-01, 5: 2023-12-31, 6: 2022
  EXPECT_EQ(order, (std::vector<std::int64_t>{3, 2, 4, 1, 5, 6}));
  EXPECT_EQ(desc->total_estimate, 6U);
  EXPECT_FALSE(desc->has_more);

  request.sort = SearchRequest::Sort::kDateAsc;
  Result<SearchPage> asc = searcher_.search(request);
  ASSERT_TRUE(asc.has_value()) << asc.error().message;
  order.clear();
  for (const SearchHit& h : asc->hits) {
    order.push_back(to_int(h.id));
  }
  EXPECT_EQ(order, (std::vector<std::int64_t>{6, 5, 1, 4, 2, 3}));
}

TEST_F(SearcherTest, RelevanceAndSnippets) {
  const std::map<std::int64_t, std::string> bodies = [] {
    std::map<std::int64_t, std::string> m;
    for (const MessageSpec& s : corpus()) {
      m[s.id] = s.body;
    }
    return m;
  }();
  SearchRequest request;
  request.query = parse("lunch");
  request.sort = SearchRequest::Sort::kRelevance;
  request.snippet_text = [&](MessageId id) {
    return bodies.at(to_int(id));
  };
  Result<SearchPage> page = searcher_.search(request);
  ASSERT_TRUE(page.has_value()) << page.error().message;
  ASSERT_EQ(page->hits.size(), 2U);
  for (const SearchHit& h : page->hits) {
    EXPECT_GT(h.relevance, 0.0);
    EXPECT_NE(h.snippet.find("<b>"), std::string::npos) << h.snippet;
    EXPECT_NE(h.snippet.find("</b>"), std::string::npos) << h.snippet;
    EXPECT_LE(h.snippet.size(), 400U);
  }
  // Message 4 has "lunch" in subject and body: it ranks first.
  EXPECT_EQ(to_int(page->hits.front().id), 4);

  request.query = parse("日本語");
  Result<SearchPage> cjk = searcher_.search(request);
  ASSERT_TRUE(cjk.has_value()) << cjk.error().message;
  ASSERT_EQ(cjk->hits.size(), 1U);
  EXPECT_NE(cjk->hits.front().snippet.find("<b>"), std::string::npos) << cjk->hits.front().snippet;

  // Snippets are HTML-escaped.
  request.query = parse("lunch");
  request.snippet_text = [](MessageId) {
    return std::string("<script>lunch</script> & more");
  };
  Result<SearchPage> escaped = searcher_.search(request);
  ASSERT_TRUE(escaped.has_value());
  for (const SearchHit& h : escaped->hits) {
    EXPECT_EQ(h.snippet.find("<script>"), std::string::npos) << h.snippet;
    EXPECT_NE(h.snippet.find("&lt;script&gt;"), std::string::npos) << h.snippet;
  }

  // Without a snippet function there are no snippets; date sorts report no relevance.
  request.snippet_text = nullptr;
  request.sort = SearchRequest::Sort::kDateDesc;
  Result<SearchPage> plain = searcher_.search(request);
  ASSERT_TRUE(plain.has_value());
  for (const SearchHit& h : plain->hits) {
    EXPECT_TRUE(h.snippet.empty());
    EXPECT_EQ(h.relevance, 0.0);
  }
}

TEST_F(SearcherTest, SeesLaterCommits) {
  EXPECT_EQ(ids("subject:fresh"), (std::vector<std::int64_t>{}));
  {
    // The first writer was closed in SetUp; a new one may open the same index.
    Result<IndexWriter> writer = IndexWriter::open(dir_.path());
    ASSERT_TRUE(writer.has_value()) << writer.error().message;
    MessageSpec s;
    s.id = 100;
    s.subject = "fresh news";
    ASSERT_TRUE(writer->write({make_item(s)}).has_value());
  }
  EXPECT_EQ(ids("subject:fresh"), (std::vector<std::int64_t>{100}));
  Result<std::uint64_t> count = searcher_.doc_count();
  ASSERT_TRUE(count.has_value());
  EXPECT_EQ(*count, 7U);
}

TEST(SearcherPaging, WalksEveryHitOnceInDateOrder) {
  TempDir dir;
  constexpr int kDocs = 1000;
  {
    IndexOptions options;
    options.threads = 4;
    Result<IndexWriter> writer = IndexWriter::open(dir.path(), options);
    ASSERT_TRUE(writer.has_value()) << writer.error().message;
    std::vector<IndexItem> items;
    for (int i = 1; i <= kDocs; ++i) {
      MessageSpec s;
      s.id = i;
      s.subject = "message " + std::to_string(i);
      s.body = i % 2 == 0 ? "even body" : "odd body";
      // Many equal dates (groups of 5), some without a Date: header: ties are broken by id.
      if (i % 10 == 0) {
        s.archived_at = utc(2023, 1, 1) + std::int64_t{i / 5} * 3600;
      } else {
        s.date = utc(2023, 1, 1) + std::int64_t{i / 5} * 3600;
      }
      items.push_back(make_item(s));
    }
    ASSERT_TRUE(writer->write(std::move(items)).has_value());
  }
  Searcher searcher(dir.path());
  for (const auto sort : {SearchRequest::Sort::kDateDesc, SearchRequest::Sort::kDateAsc}) {
    for (const std::string_view text : {"*", "even"}) {
      const std::size_t expected_total = text == "*" ? kDocs : kDocs / 2;
      SearchRequest request;
      request.query = parse(text);
      request.sort = sort;
      request.limit = 7;
      std::vector<std::int64_t> walked;
      for (;;) {
        Result<SearchPage> page = searcher.search(request);
        ASSERT_TRUE(page.has_value()) << page.error().message;
        EXPECT_EQ(page->total_estimate, expected_total);
        for (const SearchHit& h : page->hits) {
          walked.push_back(to_int(h.id));
        }
        if (!page->has_more) {
          EXPECT_EQ(walked.size(), expected_total);
          break;
        }
        ASSERT_EQ(page->hits.size(), 7U);
        request.offset += page->hits.size();
      }
      // Every hit exactly once...
      std::set<std::int64_t> unique(walked.begin(), walked.end());
      EXPECT_EQ(unique.size(), walked.size());
      EXPECT_EQ(walked.size(), expected_total);
      // ...in (date, id) order: dates grow with i/5 and ties go by id, so it is id order.
      std::vector<std::int64_t> sorted = walked;
      std::sort(sorted.begin(), sorted.end());
      if (sort == SearchRequest::Sort::kDateDesc) {
        std::reverse(sorted.begin(), sorted.end());
      }
      EXPECT_EQ(walked, sorted);
    }
  }
  // Past the end: an empty page, no error.
  SearchRequest beyond;
  beyond.query = parse("*");
  beyond.offset = 5000;
  Result<SearchPage> page = searcher.search(beyond);
  ASSERT_TRUE(page.has_value());
  EXPECT_TRUE(page->hits.empty());
  EXPECT_FALSE(page->has_more);
}

TEST(SearcherMissingIndex, EmptyResultsNotErrors) {
  TempDir dir;
  for (const auto& path : {dir.path() / "not-created-yet", dir.path()}) {
    Searcher searcher(path);
    SearchRequest request;
    request.query = parse("anything");
    Result<SearchPage> page = searcher.search(request);
    ASSERT_TRUE(page.has_value()) << page.error().message;
    EXPECT_TRUE(page->hits.empty());
    EXPECT_EQ(page->total_estimate, 0U);
    EXPECT_FALSE(page->has_more);
    Result<std::vector<MessageId>> all = searcher.all_matches(parse("*"));
    ASSERT_TRUE(all.has_value()) << all.error().message;
    EXPECT_TRUE(all->empty());
    Result<std::uint64_t> count = searcher.doc_count();
    ASSERT_TRUE(count.has_value());
    EXPECT_EQ(*count, 0U);
  }
  // Once the writer creates the index, the same Searcher finds its documents.
  const auto path = dir.path() / "later";
  Searcher searcher(path);
  EXPECT_TRUE(ids_matching(searcher, "hello").empty());
  {
    Result<IndexWriter> writer = IndexWriter::open(path);
    ASSERT_TRUE(writer.has_value()) << writer.error().message;
    MessageSpec s;
    s.id = 9;
    s.body = "hello";
    ASSERT_TRUE(writer->write({make_item(s)}).has_value());
  }
  EXPECT_EQ(ids_matching(searcher, "hello"), (std::vector<std::int64_t>{9}));
}

}  // namespace
}  // namespace mailvault::index

namespace mailvault::index {
namespace {

// The builder drops Z<s> where the exact term s is present and s is its own stem; the compiler
// must still find every form (schema.h).
TEST(SearcherStemming, DroppedDuplicateStemsStillMatch) {
  TempDir dir;
  {
    Result<IndexWriter> writer = IndexWriter::open(dir.path());
    ASSERT_TRUE(writer.has_value()) << writer.error().message;
    const std::array<const char*, 5> bodies = {"object", "objects", "run", "running",
                                               "runs and run"};
    std::vector<IndexItem> items;
    for (int i = 0; i < 5; ++i) {
      MessageSpec s;
      s.id = i + 1;
      s.body = bodies[i];
      s.subject = bodies[i];
      items.push_back(make_item(s));
    }
    ASSERT_TRUE(writer->write(std::move(items)).has_value());
  }
  Searcher searcher(dir.path());
  using V = std::vector<std::int64_t>;
  for (const char* q : {"object", "objects", "body:object", "subject:objects"}) {
    EXPECT_EQ(ids_matching(searcher, q), (V{1, 2})) << q;
  }
  for (const char* q : {"run", "runs", "running", "body:running", "subject:runs"}) {
    EXPECT_EQ(ids_matching(searcher, q), (V{3, 4, 5})) << q;
  }
  EXPECT_EQ(ids_matching(searcher, "\"objects\""), (V{2}));
  EXPECT_EQ(ids_matching(searcher, "\"object\""), (V{1}));
  EXPECT_EQ(ids_matching(searcher, "\"run\""), (V{3, 5}));
}

}  // namespace
}  // namespace mailvault::index

namespace mailvault::index {
namespace {

// Exact phrases without positions in the index: all of the words, verified on the message text
// the searcher's loader returns (phrase_check.h).
class PhraseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::vector<MessageSpec> v(8);
    v[0].body = "Enable it: logging, output to the console";  // punctuation between the words
    v[1].body = "the output of the logging";                  // both words, not adjacent
    v[2].subject = "verbose logging";                         // adjacent across two fields
    v[2].body = "output is large";
    v[3].attachment_text = "The links are driven by data";  // not adjacent
    v[3].attachment_names = {"driven links.txt"};
    v[4].attachment_text = "see links driven here";
    v[4].attachment_names = {"notes.txt"};
    v[5].attachment_names = {"Links-Driven.pdf"};
    v[6].body = "links driven in the body only";
    v[7].body = "LOGGING OUTPUT enabled";  // case differs
    v[7].from = {addr("Output Logging", "ol@example.com")};
    Result<IndexWriter> writer = IndexWriter::open(dir_.path());
    ASSERT_TRUE(writer.has_value()) << writer.error().message;
    std::vector<IndexItem> items;
    for (std::size_t i = 0; i < v.size(); ++i) {
      v[i].id = static_cast<std::int64_t>(i + 1);
      items.push_back(make_item(v[i]));
      texts_[v[i].id] = items.back().parsed;
    }
    ASSERT_TRUE(writer->write(std::move(items)).has_value());
  }

  TextLoader loader() {
    return [this](MessageId id) -> std::optional<mime::ParsedMessage> {
      ++loads_;
      const auto it = texts_.find(to_int(id));
      if (it == texts_.end()) {
        return std::nullopt;
      }
      return it->second;
    };
  }

  TempDir dir_;
  std::map<std::int64_t, mime::ParsedMessage> texts_;
  int loads_ = 0;
};

TEST_F(PhraseTest, OnlyContiguousWordsInOneFieldMatch) {
  Searcher searcher(dir_.path());
  searcher.set_text_loader(loader());
  using V = std::vector<std::int64_t>;
  const std::vector<Expectation> table = {
      {"\"logging output\"", V{1, 8}},
      {"\"LOGGING Output\"", V{1, 8}},
      {"\"logging, output\"", V{1, 8}},
      {"body:\"logging output\"", V{1, 8}},
      {"\"output logging\"", V{8}},  // the From name of 8
      {"from:\"output logging\"", V{8}},
      {"from:\"logging output\"", V{}},
      {"subject:\"verbose logging\"", V{3}},
      {"\"logging output is\"", V{}},
      {"logging output", V{1, 2, 3, 8}},  // words: no adjacency required
      // attachment: looks at file names and attachment text, each on its own.
      {"attachment:\"links driven\"", V{5, 6}},
      {"filename:\"links driven\"", V{6}},
      {"attachment:\"driven links\"", V{4}},
      {"\"links driven\"", V{5, 6, 7}},
      {"body:\"links driven\"", V{7}},
      // Under NOT and inside OR.
      {"-\"logging output\"", V{2, 3, 4, 5, 6, 7}},
      {"logging -\"logging output\"", V{2, 3}},
      {"NOT body:\"logging output\" AND output", V{2, 3}},
      {"\"logging output\" OR \"links driven\"", V{1, 5, 6, 7, 8}},
      {"\"logging output\" OR subject:verbose", V{1, 3, 8}},
      {"(\"logging output\" OR attachment:\"links driven\") -from:ol@example.com", V{1, 5, 6}},
      // A word the tokenizer splits is a phrase of its pieces.
      {"links-driven", V{5, 6, 7}},
      {"body:output-logging", V{}},
  };
  for (const Expectation& e : table) {
    EXPECT_EQ(ids_matching(searcher, e.query), e.ids) << "query: " << e.query;
  }
}

TEST_F(PhraseTest, SearchUsesTheRequestLoaderAndCachesTheLastMessage) {
  Searcher searcher(dir_.path());  // no default loader
  SearchRequest request;
  request.query = parse("\"logging output\" \"output to\"");
  request.load_text = loader();
  Result<SearchPage> page = searcher.search(request);
  ASSERT_TRUE(page.has_value()) << page.error().message;
  ASSERT_EQ(page->hits.size(), 1U);
  EXPECT_EQ(to_int(page->hits.front().id), 1);
  // Candidates 1, 2 and 8 hold both words of the first phrase; each is loaded once although
  // two phrase leaves test document 1.
  EXPECT_GE(loads_, 1);
  EXPECT_LE(loads_, 3);

  // The snippet function still works beside the loader.
  request.snippet_text = [this](MessageId id) {
    return texts_.at(to_int(id)).body_text;
  };
  page = searcher.search(request);
  ASSERT_TRUE(page.has_value()) << page.error().message;
  ASSERT_EQ(page->hits.size(), 1U);
  EXPECT_NE(page->hits.front().snippet.find("<b>"), std::string::npos)
      << page->hits.front().snippet;
}

// Candidates 2 (both words, apart) and 3 (adjacent only across subject and body) fail their
// adjacent-pair filter (pair_filter.h): only 1 and 8 have their text loaded.
TEST_F(PhraseTest, PairFilterSparesTheTextOfMostNonMatches) {
  Searcher searcher(dir_.path());
  searcher.set_text_loader(loader());
  loads_ = 0;
  EXPECT_EQ(ids_matching(searcher, "\"logging output\""), (std::vector<std::int64_t>{1, 8}));
  EXPECT_EQ(loads_, 2);
  // CJK words are left out of the filter: such phrases are verified on the text alone.
  loads_ = 0;
  EXPECT_TRUE(ids_matching(searcher, "\"logging 日本\"").empty());
}

TEST_F(PhraseTest, WithoutTextPhrasesFallBackToAllOfTheWords) {
  using V = std::vector<std::int64_t>;
  Searcher plain(dir_.path());
  EXPECT_EQ(ids_matching(plain, "\"logging output\""), (V{1, 2, 8}));
  // Without their text, candidates are judged by their words and their adjacent-pair filter
  // (made from the same text when indexed): 2 has both words, never adjacent.
  Searcher missing(dir_.path());
  missing.set_text_loader([](MessageId) { return std::optional<mime::ParsedMessage>(); });
  EXPECT_EQ(ids_matching(missing, "\"logging output\""), (V{1, 8}));
}

// Xapian normally drives from the terms and only check()s the leaf; alone, the leaf must walk
// the documents itself with next()/skip_to().
TEST_F(PhraseTest, CheckLeafAloneWalksEveryDocument) {
  Xapian::Database db(dir_.path().string());
  auto texts = std::make_shared<PhraseTexts>(loader());
  for (const bool with_skip : {false, true}) {
    Xapian::Enquire enquire(db);
    const Xapian::Query leaf(
        (new PhraseCheck(texts, IndexField::kBody, {"logging", "output"}))->release());
    enquire.set_query(with_skip ? Xapian::Query(Xapian::Query::OP_AND, leaf,
                                                Xapian::Query(Xapian::Query::OP_VALUE_GE,
                                                              slot_number(Slot::kSortKey), ""))
                                : leaf);
    enquire.set_weighting_scheme(Xapian::BoolWeight());
    const Xapian::MSet mset = enquire.get_mset(0, 100);
    std::vector<std::int64_t> ids;
    for (auto it = mset.begin(); it != mset.end(); ++it) {
      ids.push_back(
          to_int(*decode_sort_key_id(it.get_document().get_value(slot_number(Slot::kSortKey)))));
    }
    std::sort(ids.begin(), ids.end());
    EXPECT_EQ(ids, (std::vector<std::int64_t>{1, 8})) << with_skip;
  }
  // A multi-database search clones the leaf per shard.
  Xapian::Database both(dir_.path().string());
  both.add_database(Xapian::Database(dir_.path().string()));
  Xapian::Enquire enquire(both);
  enquire.set_query(Xapian::Query(
      Xapian::Query::OP_AND, Xapian::Query("logging"),
      Xapian::Query(
          (new PhraseCheck(texts, IndexField::kBody, {"logging", "output"}))->release())));
  EXPECT_EQ(enquire.get_mset(0, 100).size(), 4U);
}

}  // namespace
}  // namespace mailvault::index
