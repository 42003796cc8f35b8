// The importers against the real mail in shared/corpora (see its SOURCES.md). Skipped when the
// corpora are not present.
#include <sys/stat.h>

#include <filesystem>
#include <iostream>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "ingest/import/message_source.h"
#include "tests/unit/ingest/import/scan_test_util.h"

namespace mailvault::ingest {
namespace {

namespace fs = std::filesystem;

std::string corpora_dir() {
  return std::string(MAILVAULT_SHARED_DIR) + "/corpora";
}

// One scan of the whole corpora directory, shared by the tests (nullopt without corpora).
const std::optional<testing::ScanResult>& corpus_scan() {
  static const std::optional<testing::ScanResult> result =
      fs::is_directory(corpora_dir()) ? std::optional(testing::scan({corpora_dir()}))
                                      : std::nullopt;
  return result;
}

class CorpusTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!corpus_scan()) {
      GTEST_SKIP() << "shared corpora not found at " << corpora_dir()
                   << " (MAILVAULT_SHARED_DIR); see shared/corpora/SOURCES.md";
    }
  }

  static const testing::ScanResult& result() { return *corpus_scan(); }

  // Messages of one file, by path relative to the corpora directory.
  static std::vector<const SourceMessage*> messages_of(const std::string& rel) {
    std::vector<const SourceMessage*> out;
    for (const auto& m : result().messages) {
      if (m.path == corpora_dir() + "/" + rel) {
        out.push_back(&m);
      }
    }
    return out;
  }
};

TEST_F(CorpusTest, FindsAllMessages) {
  const auto& r = result();
  std::map<std::string, int> reasons;
  for (const auto& p : r.problems) {
    ++reasons[p.reason];
    std::cout << "problem: " << p.path << (p.offset ? "@" + std::to_string(*p.offset) : "") << ": "
              << p.reason << "\n";
  }
  std::cout << "corpora: " << r.messages.size() << " messages, " << r.problems.size()
            << " problems\n";
  EXPECT_GE(r.messages.size(), 3400U);
  // The only files that are not mail are the corpus's own documentation.
  EXPECT_EQ(reasons,
            (std::map<std::string, int>{{"not an RFC 5322 message (no header fields)", 2}}));
  EXPECT_NE(r.problem_for(corpora_dir() + "/MANIFEST.tsv"), nullptr);
  EXPECT_NE(r.problem_for(corpora_dir() + "/SOURCES.md"), nullptr);
}

TEST_F(CorpusTest, EveryEmlFileIsOneMessageByteForByte) {
  std::map<std::string, const SourceMessage*> by_path;
  for (const auto& m : result().messages) {
    if (!m.offset) {
      EXPECT_TRUE(by_path.emplace(m.path, &m).second) << "reported twice: " << m.path;
    }
  }
  std::size_t eml_files = 0;
  for (const auto& entry : fs::recursive_directory_iterator(corpora_dir())) {
    if (!entry.is_regular_file() || entry.path().extension() != ".eml") {
      continue;
    }
    const std::string path = entry.path().string();
    auto it = by_path.find(path);
    const fs::path parent = entry.path().parent_path();
    if (parent.filename() == "tmp" && fs::is_directory(parent.parent_path() / "cur")) {
      // A Maildir's tmp/ holds deliveries in progress (mu/testdir/tmp/...ignore.eml).
      EXPECT_TRUE(it == by_path.end()) << "read from a Maildir tmp/: " << path;
      continue;
    }
    ++eml_files;
    ASSERT_TRUE(it != by_path.end()) << "no message for " << path;
    EXPECT_EQ(it->second->raw, testing::read_file(path)) << path;

    struct stat st = {};
    ASSERT_EQ(::stat(path.c_str(), &st), 0) << path;
    EXPECT_EQ(it->second->internal_date, st.st_mtim.tv_sec) << path;
  }
  EXPECT_GE(eml_files, 3400U);
  std::cout << eml_files << " .eml files\n";
}

TEST_F(CorpusTest, MboxMessagesAreFileSlices) {
  std::map<std::string, std::string> files;
  std::size_t mbox_messages = 0;
  for (const auto& m : result().messages) {
    if (!m.offset) {
      continue;
    }
    ++mbox_messages;
    auto [it, inserted] = files.try_emplace(m.path);
    if (inserted) {
      it->second = testing::read_file(m.path);
    }
    ASSERT_LE(*m.offset + m.raw.size(), it->second.size()) << m.path;
    EXPECT_EQ(it->second.compare(static_cast<std::size_t>(*m.offset), m.raw.size(), m.raw), 0)
        << m.path << "@" << *m.offset;
    EXPECT_FALSE(m.raw.empty());
  }
  EXPECT_EQ(files.size(), 5U);
  std::cout << mbox_messages << " messages in " << files.size() << " mbox files\n";
}

TEST_F(CorpusTest, MimekitContentLengthMboxMatchesMimeKit) {
  // (beginOffset, endOffset - beginOffset) of every message in MimeKit's own expectations for
  // this file (UnitTests/TestData/mbox/content-length.unix-offsets.json, RespectContentLength).
  const std::vector<std::pair<std::uint64_t, std::size_t>> expected = {
      {8, 1880},       {1897, 6225},   {8131, 6263},   {14427, 8058},   {22518, 748519},
      {771070, 47892}, {818971, 3490}, {822494, 2937}, {825464, 4551},  {830048, 6991},
      {837072, 16649}, {853754, 2822}, {856609, 5745}, {862387, 4705},  {867125, 1738},
      {868896, 3595},  {872524, 3898}, {876455, 6676}, {883164, 11298}, {894495, 4189},
      {898717, 1071},  {899821, 4097}, {903951, 3280}, {907264, 4035},  {911332, 3917},
      {915282, 5603},  {920918, 5153}, {926104, 2391}, {928528, 6744}};
  const auto messages = messages_of("mimekit/mbox/content-length.mbox.mbox");
  std::vector<std::pair<std::uint64_t, std::size_t>> got;
  for (const auto* m : messages) {
    got.emplace_back(*m->offset, m->raw.size());
    EXPECT_EQ(m->folder, "mimekit/mbox/content-length.mbox");
  }
  EXPECT_EQ(got, expected);
  // "From - Mon Jun  3 12:50:27 1996"
  ASSERT_GE(messages.size(), 4U);
  EXPECT_EQ(messages[3]->internal_date, 833806227);
  EXPECT_EQ(messages[0]->internal_date, 0);  // "From - "
}

TEST_F(CorpusTest, OtherMboxFiles) {
  // MimeKit TestUnmungedFromLines: 4 messages, markers "From -" / "From Russia with love".
  const auto unmunged = messages_of("mimekit/mbox/unmunged.mbox.mbox");
  ASSERT_EQ(unmunged.size(), 4U);
  EXPECT_EQ(*unmunged[0]->offset, 10U);  // after the UTF-8 BOM and "From -\n"
  EXPECT_EQ(messages_of("mimekit/mbox/issue1189.mbox.mbox").size(), 4U);
  // Three messages separated by "From - " lines without empty lines.
  EXPECT_EQ(messages_of("mimekit/mbox/simple.mbox.mbox").size(), 3U);
  const auto substring = messages_of("gmime/data/mbox/input/substring.mbox");
  ASSERT_EQ(substring.size(), 3U);
  for (const auto* m : substring) {
    EXPECT_TRUE(m->raw.starts_with("From: fejj@gnome.org\n")) << m->raw;
  }
  // The line break before "From - " is the separator; the last message keeps the file's.
  EXPECT_TRUE(substring[0]->raw.ends_with("<-- You are here.")) << substring[0]->raw;
  EXPECT_TRUE(substring[2]->raw.ends_with("<-- You are here.\n")) << substring[2]->raw;
}

TEST_F(CorpusTest, MaildirFolders) {
  std::map<std::string, int> folders;
  for (const auto& m : result().messages) {
    ++folders[m.folder];
  }
  for (const auto& [folder, count] : folders) {
    std::cout << "folder " << (folder.empty() ? "\"\"" : folder) << ": " << count << "\n";
  }
  // notmuch/default is a Maildir with FS-layout subfolders; mu/testdir has cur/new/tmp.
  EXPECT_GT(folders["notmuch/default"], 0);
  EXPECT_GT(folders["notmuch/default/bar/baz"], 0);
  EXPECT_GT(folders["mu/testdir"], 0);
  EXPECT_GT(folders["spamassassin-easy_ham-spam/easy_ham"], 2000);
}

}  // namespace
}  // namespace mailvault::ingest
