// Parses every .eml message of the shared real-world corpora (see shared/corpora/SOURCES.md).
// The corpora live outside the repository; without them these tests are skipped.
#include <algorithm>
#include <chrono>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/mime/parse.h"
#include "core/mime/search_text.h"
#include "tests/unit/core/mime/test_util.h"

namespace mailvault::mime {
namespace {

namespace fs = std::filesystem;

fs::path corpora_dir() {
  return fs::path(MAILVAULT_SHARED_DIR) / "corpora";
}

std::vector<fs::path> eml_files(const fs::path& root) {
  std::vector<fs::path> files;
  for (const auto& entry : fs::recursive_directory_iterator(root)) {
    if (entry.is_regular_file() && entry.path().extension() == ".eml") {
      files.push_back(entry.path());
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

#define MAILVAULT_REQUIRE_CORPORA()                                                         \
  if (!fs::is_directory(corpora_dir())) {                                                   \
    GTEST_SKIP() << "shared corpora not found at " << corpora_dir()                         \
                 << " (MAILVAULT_SHARED_DIR/corpora); corpus tests need the shared folder"; \
  }

TEST(Corpus, EveryMessageParsesToValidUtf8) {
  MAILVAULT_REQUIRE_CORPORA();
  const auto files = eml_files(corpora_dir());
  ASSERT_FALSE(files.empty());
  std::size_t readable = 0;
  std::vector<std::string> unreadable;
  for (const auto& path : files) {
    const std::string raw = testing::read_file(path);
    const ParsedMessage m = parse_message(raw);
    EXPECT_EQ(testing::first_invalid_field(m), "") << path;
    if (!m.body_text.empty() || !m.subject.empty()) {
      ++readable;
    } else {
      unreadable.push_back(path.string());
    }
    // The sidecar round-trips whatever real mail produces.
    const auto decoded = decode_search_text(encode_search_text(m));
    ASSERT_TRUE(decoded.has_value()) << path;
    EXPECT_TRUE(testing::equal_except_html(*decoded, m)) << path;
  }
  const double ratio = static_cast<double>(readable) / static_cast<double>(files.size());
  std::cout << "[ corpus   ] " << files.size() << " messages, " << readable
            << " with body text or subject (" << ratio * 100 << "%)\n";
  for (const auto& path : unreadable) {
    std::cout << "[ corpus   ] neither body text nor subject: " << path << "\n";
  }
  EXPECT_GE(ratio, 0.95);
}

TEST(Corpus, SpamAssassinThroughput) {
  MAILVAULT_REQUIRE_CORPORA();
  const fs::path dir = corpora_dir() / "spamassassin-easy_ham-spam";
  if (!fs::is_directory(dir)) {
    GTEST_SKIP() << "spamassassin corpus not found at " << dir;
  }
  std::vector<std::string> messages;
  std::size_t bytes = 0;
  for (const auto& path : eml_files(dir)) {
    messages.push_back(testing::read_file(path));
    bytes += messages.back().size();
  }
  ASSERT_FALSE(messages.empty());
  static_cast<void>(parse_message(messages.front()));  // warm-up: GMime init, iconv modules
  std::size_t text = 0;
  const auto start = std::chrono::steady_clock::now();
  for (const auto& raw : messages) {
    text += parse_message(raw).body_text.size();
  }
  const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;
  const double rate = static_cast<double>(messages.size()) / elapsed.count();
  std::cout << "[ corpus   ] spamassassin: " << messages.size() << " messages ("
            << bytes / messages.size() << " bytes average) in " << elapsed.count()
            << " s: " << static_cast<long>(rate) << " msgs/s, "
            << static_cast<double>(bytes) / elapsed.count() / 1e6 << " MB/s, single thread"
#ifdef NDEBUG
            << " (optimised build)\n";
#else
            << " (debug build)\n";
#endif
  RecordProperty("messages_per_second", static_cast<int>(rate));
  EXPECT_GT(text, 0U);
}

// Spot checks on messages whose content is known.
TEST(Corpus, KnownMessages) {
  MAILVAULT_REQUIRE_CORPORA();
  const fs::path stack_overflow = corpora_dir() / "mimekit/messages/stack-overflow.eml";
  if (fs::exists(stack_overflow)) {
    const ParsedMessage m = parse_message(testing::read_file(stack_overflow));
    EXPECT_EQ(testing::first_invalid_field(m), "");
  }
  const fs::path japanese = corpora_dir() / "mimekit/messages/japanese.eml";
  if (fs::exists(japanese)) {
    const ParsedMessage m = parse_message(testing::read_file(japanese));
    EXPECT_FALSE(m.subject.empty());
    EXPECT_EQ(m.subject.find("=?"), std::string::npos) << m.subject;
  }
  const fs::path base64_root = corpora_dir() / "nodemailer-mailparser/base64encodedroot.eml";
  if (fs::exists(base64_root)) {
    const ParsedMessage m = parse_message(testing::read_file(base64_root));
    ASSERT_EQ(m.attachments.size(), 1U);
    EXPECT_EQ(m.attachments[0].filename, "screenshot.png");
    EXPECT_EQ(m.attachments[0].content_type, "image/png");
  }
}

}  // namespace
}  // namespace mailvault::mime
