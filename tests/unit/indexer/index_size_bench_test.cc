// A measurement, not a check (disabled by default): index bytes per message and write()
// throughput over real mail. Run with (MAILVAULT_BENCH_COUNT defaults to 5000)
//   MAILVAULT_BENCH_MAILDIR=/path/to/cur MAILVAULT_BENCH_COUNT=5000 unit_indexer
//     --gtest_also_run_disabled_tests --gtest_filter='*IndexSizeBench*'
// MAILVAULT_BENCH_PHRASE='"socket timeout"' times only that phrase, MAILVAULT_BENCH_PHRASE_RUNS=N
// reports the median of N runs of each (for profiling one query with perf).
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/mime/parse.h"
#include "index_test_support.h"
#include "indexer/index_writer.h"
#include "indexer/searcher.h"
#include "indexer/term_generation.h"

namespace mailvault::index {
namespace {

std::uint64_t dir_bytes(const std::filesystem::path& dir) {
  std::uint64_t total = 0;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
    if (e.is_regular_file()) {
      total += e.file_size();
    }
  }
  return total;
}

TEST(IndexSizeBench, DISABLED_BytesPerMessageAndThroughput) {
  const char* maildir = std::getenv("MAILVAULT_BENCH_MAILDIR");
  if (maildir == nullptr) {
    GTEST_SKIP() << "MAILVAULT_BENCH_MAILDIR not set";
  }
  const char* count_env = std::getenv("MAILVAULT_BENCH_COUNT");
  const std::size_t count = count_env != nullptr ? std::stoul(count_env) : 5000;

  std::vector<std::filesystem::path> files;
  for (const auto& e : std::filesystem::directory_iterator(maildir)) {
    if (e.is_regular_file()) {
      files.push_back(e.path());
    }
  }
  std::sort(files.begin(), files.end());
  files.resize(std::min(files.size(), count));

  std::vector<IndexItem> items;
  std::uint64_t raw_bytes = 0;
  for (std::size_t i = 0; i < files.size(); ++i) {
    std::ifstream in(files[i], std::ios::binary);
    const std::string raw((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    raw_bytes += raw.size();
    IndexItem item;
    item.meta.id = MessageId{static_cast<std::int64_t>(i + 1)};
    item.meta.sha256_hex = std::string(64, 'a');
    item.meta.size = raw.size();
    item.meta.archived_at = 1700000000;
    item.meta.accounts = {"bench"};
    item.meta.folders = {"INBOX"};
    item.parsed = mime::parse_message(raw);
    items.push_back(std::move(item));
  }

  // The phrase check's fast word splitter against the TermGenerator, on every text field.
  {
    WordSplitter splitter;
    std::size_t texts = 0;
    std::size_t differ = 0;
    for (const IndexItem& item : items) {
      for (const std::string* t :
           {&item.parsed.subject, &item.parsed.body_text, &item.parsed.attachment_text}) {
        ++texts;
        if (splitter.words(*t) != splitter.generator_words(*t)) {
          ++differ;
          ADD_FAILURE() << "word splitters differ on: " << t->substr(0, 200);
        }
      }
    }
    std::printf("bench: word splitter agrees with the TermGenerator on %zu of %zu texts\n",
                texts - differ, texts);
  }

  testing::TempDir dir;
  const auto path = dir.path() / "index";
  IndexOptions options;
  options.threads = 2;
  Result<IndexWriter> writer = IndexWriter::open(path, options);
  ASSERT_TRUE(writer.has_value()) << writer.error().message;
  constexpr std::size_t kBatch = 1000;
  const auto start = std::chrono::steady_clock::now();
  for (std::size_t at = 0; at < items.size(); at += kBatch) {
    std::vector<IndexItem> batch(
        items.begin() + static_cast<std::ptrdiff_t>(at),
        items.begin() + static_cast<std::ptrdiff_t>(std::min(items.size(), at + kBatch)));
    ASSERT_TRUE(writer->write(std::move(batch)).has_value());
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const std::uint64_t written = dir_bytes(path);
  ASSERT_TRUE(writer->compact_to(dir.path() / "compact").has_value());
  const std::uint64_t compact = dir_bytes(dir.path() / "compact");
  const auto n = static_cast<double>(items.size());
  std::printf(
      "bench: %zu messages, raw %.1f MB (%.0f B/msg)\n"
      "bench: write() %.2f s = %.0f msgs/s (%.3f ms/msg, 2 build threads)\n"
      "bench: index as written %.1f MB = %.0f B/msg = %.1f%% of raw\n"
      "bench: index compacted  %.1f MB = %.0f B/msg = %.1f%% of raw\n",
      items.size(), static_cast<double>(raw_bytes) / 1e6, static_cast<double>(raw_bytes) / n,
      seconds, n / seconds, seconds * 1000 / n, static_cast<double>(written) / 1e6,
      static_cast<double>(written) / n,
      100.0 * static_cast<double>(written) / static_cast<double>(raw_bytes),
      static_cast<double>(compact) / 1e6, static_cast<double>(compact) / n,
      100.0 * static_cast<double>(compact) / static_cast<double>(raw_bytes));

  // Phrase queries, verified on the parsed texts (as the API does with the sidecar).
  Searcher searcher(dir.path() / "compact");
  searcher.set_text_loader([&](MessageId id) -> std::optional<mime::ParsedMessage> {
    const auto i = static_cast<std::size_t>(to_int(id)) - 1;
    if (i >= items.size()) {
      return std::nullopt;
    }
    return items[i].parsed;
  });
  // MAILVAULT_BENCH_PHRASE=QUERY times that query alone.
  const char* only = std::getenv("MAILVAULT_BENCH_PHRASE");
  for (const char* q :
       {"\"of the\"", "\"mailing list\"", "\"to be\"", "\"unsubscribe from this list\"",
        "\"click here\" -\"mailing list\"", "body:\"of the\"", "attachment:\"of the\"",
        "body:\"to be\"", "\"socket timeout\""}) {
    if (only != nullptr && std::string_view(only) != q) {
      continue;
    }
    // The median of MAILVAULT_BENCH_PHRASE_RUNS runs (default 1).
    const char* runs_env = std::getenv("MAILVAULT_BENCH_PHRASE_RUNS");
    const int runs = std::max(1, runs_env == nullptr ? 1 : std::atoi(runs_env));
    std::vector<double> times;
    std::size_t matches = 0;
    for (int r = 0; r < runs; ++r) {
      const auto t0 = std::chrono::steady_clock::now();
      Result<std::vector<MessageId>> ids = searcher.all_matches(testing::parse(q));
      times.push_back(
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
      ASSERT_TRUE(ids.has_value()) << ids.error().message;
      matches = ids->size();
    }
    std::sort(times.begin(), times.end());
    std::printf("bench: %-40s %6zu matches %8.1f ms\n", q, matches, times[times.size() / 2]);
  }
}

}  // namespace
}  // namespace mailvault::index
