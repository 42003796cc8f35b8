// A measurement, not a check (disabled by default): where the indexer's time goes. Builds the
// documents of real mail single-threaded (timed), counts their terms, then times the serial
// Xapian write (replace_document vs add_document, commit) at several batch sizes. Run with
//   MAILVAULT_BENCH_MAILDIR=/path/to/cur MAILVAULT_BENCH_COUNT=10000 unit_indexer
//     --gtest_also_run_disabled_tests --gtest_filter='*WritePathBench*'
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <xapian.h>

#include "core/mime/parse.h"
#include "index_test_support.h"
#include "indexer/document_builder.h"
#include "indexer/schema.h"

namespace mailvault::index {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

// CPU time of this thread: the machine may be shared, and CPU time is what the indexer lacks.
double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

std::vector<IndexItem> load_items() {
  const char* maildir = std::getenv("MAILVAULT_BENCH_MAILDIR");
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
  items.reserve(files.size());
  for (std::size_t i = 0; i < files.size(); ++i) {
    std::ifstream in(files[i], std::ios::binary);
    const std::string raw((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    IndexItem item;
    item.meta.id = MessageId{static_cast<std::int64_t>(i + 1)};
    item.meta.sha256_hex = std::string(64, 'a');
    item.meta.size = raw.size();
    item.meta.archived_at = 1700000000;
    item.parsed = mime::parse_message(raw);
    items.push_back(std::move(item));
  }
  return items;
}

TEST(WritePathBench, DISABLED_Stages) {
  if (std::getenv("MAILVAULT_BENCH_MAILDIR") == nullptr) {
    GTEST_SKIP() << "MAILVAULT_BENCH_MAILDIR not set";
  }
  const std::vector<IndexItem> items = load_items();
  const auto n = static_cast<double>(items.size());

  const char* lang = std::getenv("MAILVAULT_BENCH_LANG");
  DocumentBuilder builder(lang != nullptr ? lang : "english", IndexOptions{}.max_text_bytes);
  std::vector<Xapian::Document> docs;
  docs.reserve(items.size());
  std::vector<std::vector<StemLink>> stems(items.size());
  const double t_build = thread_cpu_seconds();
  for (std::size_t i = 0; i < items.size(); ++i) {
    docs.push_back(builder.build(items[i].meta, items[i].parsed, &stems[i]));
  }
  const double build_s = thread_cpu_seconds() - t_build;
  std::size_t links = 0;
  std::size_t pair_bytes = 0;
  for (std::size_t i = 0; i < items.size(); ++i) {
    links += stems[i].size();
    pair_bytes += docs[i].get_value(slot_number(Slot::kPhrasePairs)).size();
  }
  std::printf("bench: %zu stem classes reported; pair filters %.0f B/doc\n", links,
              static_cast<double>(pair_bytes) / static_cast<double>(items.size()));

  std::uint64_t terms = 0;
  std::uint64_t z_terms = 0;
  std::uint64_t wdf = 0;
  std::uint64_t text_bytes = 0;
  for (const Xapian::Document& d : docs) {
    for (auto it = d.termlist_begin(); it != d.termlist_end(); ++it) {
      ++terms;
      wdf += it.get_wdf();
      if (!(*it).empty() && (*it)[0] == 'Z') {
        ++z_terms;
      }
    }
  }
  for (const IndexItem& item : items) {
    text_bytes += item.parsed.body_text.size() + item.parsed.attachment_text.size();
  }
  std::printf(
      "bench: %zu docs; build %.3f ms/doc (CPU, 1 thread); %.0f terms/doc (%.0f Z), wdf %.0f/doc, "
      "text %.0f B/doc\n",
      items.size(), build_s * 1000 / n, static_cast<double>(terms) / n,
      static_cast<double>(z_terms) / n, static_cast<double>(wdf) / n,
      static_cast<double>(text_bytes) / n);

  const char* batches_env = std::getenv("MAILVAULT_BENCH_BATCHES");
  std::vector<std::size_t> batches{1000, 10000};
  if (batches_env != nullptr) {
    batches = {std::stoul(batches_env)};
  }
  for (const bool replace : {true, false}) {
    for (const std::size_t batch : batches) {
      testing::TempDir dir;
      const int flags = std::getenv("MAILVAULT_BENCH_NO_SYNC") != nullptr ? Xapian::DB_NO_SYNC : 0;
      Xapian::WritableDatabase db((dir.path() / "index").string(),
                                  Xapian::DB_CREATE_OR_OPEN | flags);
      double add_s = 0;
      double commit_s = 0;
      for (std::size_t at = 0; at < docs.size(); at += batch) {
        const double t0 = thread_cpu_seconds();
        for (std::size_t i = at; i < std::min(docs.size(), at + batch); ++i) {
          if (replace) {
            db.replace_document(unique_term(items[i].meta.id), docs[i]);
          } else {
            db.add_document(docs[i]);
          }
          for (const StemLink& l : stems[i]) {
            db.add_synonym(stem_class_key(l.stem), l.word);
          }
        }
        const double t1 = thread_cpu_seconds();
        const auto wall = Clock::now();
        db.commit();
        add_s += t1 - t0;
        commit_s += seconds_since(wall);  // wall time: it waits for fsync
      }
      std::printf(
          "bench: %s batch %5zu: add %.3f ms/doc (CPU), commit %.3f ms/doc (wall), total %.0f "
          "docs/s\n",
          replace ? "replace_document" : "add_document    ", batch, add_s * 1000 / n,
          commit_s * 1000 / n, n / (add_s + commit_s));
    }
  }
}

}  // namespace
}  // namespace mailvault::index
