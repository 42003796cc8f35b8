#include "indexer/index_writer.h"

#include <array>
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>
#include <xapian.h>

#include "index_test_support.h"
#include "indexer/schema.h"
#include "indexer/searcher.h"

namespace mailvault::index {
namespace {

using testing::addr;
using testing::ids_matching;
using testing::make_item;
using testing::MessageSpec;
using testing::TempDir;
using testing::utc;

MessageSpec numbered(int i) {
  static constexpr std::array<std::string_view, 12> kWords = {
      "alpha",   "beta", "gamma",  "delta", "epsilon", "zeta",
      "running", "runs", "日本語", "Grüße", "naïve",   "42nd"};
  MessageSpec s;
  s.id = i;
  s.subject = "Subject " + std::string(kWords[i % 12]) + " " + std::to_string(i);
  s.from = {addr("Sender " + std::to_string(i % 7), "s" + std::to_string(i % 7) + "@example.com")};
  s.to = {addr("", "r" + std::to_string(i % 5) + "@example.org"), addr("Rita", "rita@example.org")};
  std::string body;
  for (int k = 0; k < 50; ++k) {
    body += std::string(kWords[(i * 7 + k) % 12]) + " ";
  }
  s.body = body;
  s.date = utc(2024, 1, 1) + std::int64_t{i} * 60;
  s.size = 1000 + static_cast<std::uint64_t>(i);
  s.accounts = {"acct" + std::to_string(i % 3)};
  s.folders = {"INBOX", "Folder " + std::to_string(i % 4)};
  s.message_id = "<msg" + std::to_string(i) + "@example.com>";
  if (i % 3 == 0) {
    s.attachment_names = {"file" + std::to_string(i) + ".txt"};
  }
  if (i % 3 == 0) {
    s.attachment_text = "attached text " + std::to_string(i);
  }
  return s;
}

// Everything Xapian stores for a document, keyed by its unique term.
using Dump = std::map<std::string, std::string>;

Dump dump(const std::filesystem::path& dir) {
  Dump out;
  Xapian::Database db(dir.string());
  for (auto d = db.postlist_begin(""); d != db.postlist_end(""); ++d) {
    const Xapian::Document doc = db.get_document(*d);
    std::string text;
    std::string key;
    for (auto t = doc.termlist_begin(); t != doc.termlist_end(); ++t) {
      if ((*t)[0] == 'Q') {
        key = *t;
      }
      text += *t + " wdf=" + std::to_string(t.get_wdf()) + " pos=";
      for (auto p = t.positionlist_begin(); p != t.positionlist_end(); ++p) {
        text += std::to_string(*p) + ",";
      }
      text += "\n";
    }
    for (auto v = doc.values_begin(); v != doc.values_end(); ++v) {
      text += "value " + std::to_string(v.get_valueno()) + "=" + *v + "\n";
    }
    text += "data=" + doc.get_data();
    out[key] = text;
  }
  return out;
}

TEST(IndexWriter, CreatesTheIndexWithSchemaMetadata) {
  TempDir dir;
  const auto path = dir.path() / "a" / "b" / "index";
  {
    Result<IndexWriter> writer = IndexWriter::open(path);
    ASSERT_TRUE(writer.has_value()) << writer.error().message;
    EXPECT_EQ(writer->doc_count(), 0U);
    EXPECT_EQ(writer->dir(), path);
    EXPECT_TRUE(writer->write({}).has_value());
  }
  Xapian::Database db(path.string());
  EXPECT_EQ(db.get_metadata("mailvault.schema"), std::to_string(kSchemaVersion));
  EXPECT_EQ(db.get_metadata("mailvault.stem_language"), "english");
}

TEST(IndexWriter, RewritingAnIdReplacesTheDocument) {
  TempDir dir;
  Result<IndexWriter> writer = IndexWriter::open(dir.path());
  ASSERT_TRUE(writer.has_value()) << writer.error().message;
  MessageSpec s;
  s.id = 42;
  s.subject = "first version";
  ASSERT_TRUE(writer->write({make_item(s)}).has_value());
  EXPECT_EQ(writer->doc_count(), 1U);

  s.subject = "second version";
  ASSERT_TRUE(writer->write({make_item(s)}).has_value());
  EXPECT_EQ(writer->doc_count(), 1U);

  // The same id twice in one batch: the last one wins.
  MessageSpec t = s;
  t.subject = "third version";
  ASSERT_TRUE(writer->write({make_item(s), make_item(t)}).has_value());
  EXPECT_EQ(writer->doc_count(), 1U);

  Searcher searcher(dir.path());
  EXPECT_TRUE(ids_matching(searcher, "subject:first").empty());
  EXPECT_TRUE(ids_matching(searcher, "subject:second").empty());
  EXPECT_EQ(ids_matching(searcher, "subject:third"), (std::vector<std::int64_t>{42}));

  ASSERT_TRUE(writer->remove(MessageId{42}).has_value());
  EXPECT_EQ(writer->doc_count(), 0U);
  EXPECT_TRUE(ids_matching(searcher, "subject:third").empty());
  // Removing what is not there is fine.
  EXPECT_TRUE(writer->remove(MessageId{42}).has_value());
}

TEST(IndexWriter, ParallelBuildEqualsSerialBuild) {
  TempDir dir;
  const auto serial_dir = dir.path() / "serial";
  const auto parallel_dir = dir.path() / "parallel";
  std::vector<IndexItem> items;
  for (int i = 1; i <= 300; ++i) {
    items.push_back(make_item(numbered(i)));
  }
  {
    IndexOptions one;
    one.threads = 1;
    Result<IndexWriter> writer = IndexWriter::open(serial_dir, one);
    ASSERT_TRUE(writer.has_value()) << writer.error().message;
    ASSERT_TRUE(writer->write(items).has_value());
    EXPECT_EQ(writer->doc_count(), 300U);
  }
  {
    IndexOptions four;
    four.threads = 4;
    Result<IndexWriter> writer = IndexWriter::open(parallel_dir, four);
    ASSERT_TRUE(writer.has_value()) << writer.error().message;
    // In several batches, to reuse the pool.
    std::vector<IndexItem> a(items.begin(), items.begin() + 100);
    std::vector<IndexItem> b(items.begin() + 100, items.end());
    ASSERT_TRUE(writer->write(std::move(a)).has_value());
    ASSERT_TRUE(writer->write(std::move(b)).has_value());
    EXPECT_EQ(writer->doc_count(), 300U);
  }
  const Dump serial = dump(serial_dir);
  const Dump parallel = dump(parallel_dir);
  ASSERT_EQ(serial.size(), 300U);
  EXPECT_EQ(serial, parallel);
}

TEST(IndexWriter, RefusesAnotherSchemaVersion) {
  TempDir dir;
  {
    Result<IndexWriter> writer = IndexWriter::open(dir.path());
    ASSERT_TRUE(writer.has_value()) << writer.error().message;
    ASSERT_TRUE(writer->write({make_item(numbered(1))}).has_value());
  }
  {
    Xapian::WritableDatabase db(dir.path().string(), Xapian::DB_OPEN);
    db.set_metadata("mailvault.schema", std::to_string(kSchemaVersion + 1));
    db.commit();
  }
  Result<IndexWriter> writer = IndexWriter::open(dir.path());
  ASSERT_FALSE(writer.has_value());
  EXPECT_EQ(writer.error().code, Code::kFailedPrecondition);
  EXPECT_NE(writer.error().message.find("schema version"), std::string::npos)
      << writer.error().message;
  EXPECT_NE(writer.error().message.find("mailvault reindex"), std::string::npos)
      << writer.error().message;

  Searcher searcher(dir.path());
  SearchRequest request;
  Result<SearchPage> page = searcher.search(request);
  ASSERT_FALSE(page.has_value());
  EXPECT_EQ(page.error().code, Code::kFailedPrecondition);
  EXPECT_NE(page.error().message.find("mailvault reindex"), std::string::npos);
}

TEST(IndexWriter, RefusesAForeignIndex) {
  TempDir dir;
  {
    Xapian::WritableDatabase db(dir.path().string(), Xapian::DB_CREATE_OR_OPEN);
    Xapian::Document doc;
    doc.add_term("hello");
    db.add_document(doc);
    db.commit();
  }
  Result<IndexWriter> writer = IndexWriter::open(dir.path());
  ASSERT_FALSE(writer.has_value());
  EXPECT_EQ(writer.error().code, Code::kFailedPrecondition);
  EXPECT_NE(writer.error().message.find("mailvault reindex"), std::string::npos);
}

TEST(IndexWriter, LanguageIsFixedAtCreation) {
  TempDir dir;
  {
    IndexOptions english;
    english.language = "english";
    ASSERT_TRUE(IndexWriter::open(dir.path(), english).has_value());
  }
  IndexOptions en;
  en.language = "en";  // the same stemmer under another name
  EXPECT_TRUE(IndexWriter::open(dir.path(), en).has_value());

  IndexOptions german;
  german.language = "german";
  Result<IndexWriter> writer = IndexWriter::open(dir.path(), german);
  ASSERT_FALSE(writer.has_value());
  EXPECT_EQ(writer.error().code, Code::kFailedPrecondition);
  EXPECT_NE(writer.error().message.find("\"english\""), std::string::npos)
      << writer.error().message;
  EXPECT_NE(writer.error().message.find("mailvault reindex"), std::string::npos);

  IndexOptions klingon;
  klingon.language = "klingon";
  const auto fresh = dir.path() / "fresh";
  Result<IndexWriter> bad = IndexWriter::open(fresh, klingon);
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code, Code::kInvalidArgument);
  EXPECT_FALSE(std::filesystem::exists(fresh));
}

TEST(IndexWriter, StemmingCanBeTurnedOff) {
  TempDir dir;
  IndexOptions none;
  none.language = "none";
  {
    Result<IndexWriter> writer = IndexWriter::open(dir.path(), none);
    ASSERT_TRUE(writer.has_value()) << writer.error().message;
    MessageSpec a;
    a.id = 1;
    a.body = "running";
    MessageSpec b;
    b.id = 2;
    b.body = "runs";
    ASSERT_TRUE(writer->write({make_item(a), make_item(b)}).has_value());
  }
  Xapian::Database db(dir.path().string());
  EXPECT_EQ(db.get_metadata("mailvault.stem_language"), "none");
  for (auto t = db.allterms_begin("Z"); t != db.allterms_end("Z"); ++t) {
    ADD_FAILURE() << "stemmed term with stemming off: " << *t;
  }
  Searcher searcher(dir.path());
  EXPECT_EQ(ids_matching(searcher, "running"), (std::vector<std::int64_t>{1}));
  EXPECT_EQ(ids_matching(searcher, "run*"), (std::vector<std::int64_t>{1, 2}));
}

TEST(IndexWriter, SecondWriterIsLockedOut) {
  TempDir dir;
  Result<IndexWriter> first = IndexWriter::open(dir.path());
  ASSERT_TRUE(first.has_value()) << first.error().message;
  Result<IndexWriter> second = IndexWriter::open(dir.path());
  ASSERT_FALSE(second.has_value());
  EXPECT_EQ(second.error().code, Code::kUnavailable);
  EXPECT_NE(second.error().message.find("index at " + dir.path().string() +
                                        " is locked by another process"),
            std::string::npos)
      << second.error().message;
  // Readers are not locked out.
  Searcher searcher(dir.path());
  EXPECT_TRUE(searcher.doc_count().has_value());
}

TEST(IndexWriter, MovedWriterKeepsWorking) {
  TempDir dir;
  Result<IndexWriter> opened = IndexWriter::open(dir.path());
  ASSERT_TRUE(opened.has_value());
  IndexWriter writer = std::move(*opened);
  ASSERT_TRUE(writer.write({make_item(numbered(5))}).has_value());
  IndexWriter other = std::move(writer);
  EXPECT_EQ(other.doc_count(), 1U);
}

}  // namespace
}  // namespace mailvault::index

namespace mailvault::index {
namespace {

std::uintmax_t bytes_under(const std::filesystem::path& dir) {
  std::uintmax_t n = 0;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
    if (e.is_regular_file()) {
      n += e.file_size();
    }
  }
  return n;
}

TEST(IndexWriter, CompactedCopyIsSmallerAndEquivalent) {
  TempDir dir;
  const auto live = dir.path() / "live";
  const auto packed = dir.path() / "packed";
  Result<IndexWriter> writer = IndexWriter::open(live);
  ASSERT_TRUE(writer.has_value()) << writer.error().message;
  for (int batch = 0; batch < 10; ++batch) {
    std::vector<IndexItem> items;
    for (int i = 1; i <= 50; ++i) {
      items.push_back(make_item(numbered(batch * 50 + i)));
    }
    ASSERT_TRUE(writer->write(std::move(items)).has_value());
  }
  ASSERT_TRUE(writer->compact_to(packed).has_value());
  EXPECT_LT(bytes_under(packed), bytes_under(live));
  const Status twice = writer->compact_to(packed);
  ASSERT_FALSE(twice.has_value());
  EXPECT_EQ(twice.error().code, Code::kAlreadyExists);
  {
    Result<IndexWriter> copy = IndexWriter::open(packed);  // same schema metadata
    ASSERT_TRUE(copy.has_value()) << copy.error().message;
    EXPECT_EQ(copy->doc_count(), 500U);
  }

  Searcher a(live);
  Searcher b(packed);
  for (const char* q : {"alpha", "running", "from:s3@example.com", "日本語", "has:attachment",
                        "folder:\"folder 2\" -beta"}) {
    EXPECT_EQ(ids_matching(a, q), ids_matching(b, q)) << q;
  }
}

}  // namespace
}  // namespace mailvault::index
