// Helpers for the indexer tests: a temporary directory and hand-made messages.
#pragma once

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <filesystem>
#include <set>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "core/archive/message_meta.h"
#include "core/mime/parsed_message.h"
#include "core/search/query_parser.h"
#include "indexer/index_writer.h"
#include "indexer/searcher.h"

namespace mailvault::index::testing {

// A fresh directory under the system temp dir, removed with everything in it.
class TempDir {
 public:
  TempDir() {
    static std::atomic<int> counter{0};
    path_ = std::filesystem::temp_directory_path() /
            ("mailvault-index-test-" + std::to_string(::getpid()) + "-" +
             std::to_string(counter.fetch_add(1)));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }

  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  TempDir(TempDir&&) = delete;
  TempDir& operator=(TempDir&&) = delete;

  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }

  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// Seconds since the epoch of a UTC civil time.
inline std::int64_t utc(int y, unsigned m, unsigned d, int hh = 0, int mm = 0, int ss = 0) {
  const int yy = y - (m <= 2 ? 1 : 0);
  const int era = (yy >= 0 ? yy : yy - 399) / 400;
  const auto yoe = static_cast<unsigned>(yy - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  const std::int64_t days = std::int64_t{era} * 146097 + doe - 719468;
  return days * 86400 + std::int64_t{hh} * 3600 + std::int64_t{mm} * 60 + ss;
}

inline mime::Address addr(std::string name, std::string email) {
  return mime::Address{std::move(name), std::move(email)};
}

struct MessageSpec {
  std::int64_t id = 0;
  std::string subject;
  std::vector<mime::Address> from, sender, to, cc, bcc;
  std::string body;
  std::optional<std::int64_t> date;
  std::int64_t archived_at = 1700000000;
  std::uint64_t size = 1000;
  std::vector<std::string> accounts{"import"};
  std::vector<std::string> folders{"INBOX"};
  std::string message_id;
  std::string list_id;
  std::vector<std::string> attachment_names;
  std::string attachment_text;
};

inline IndexItem make_item(const MessageSpec& s) {
  IndexItem item;
  item.meta.id = MessageId{s.id};
  item.meta.sha256_hex = std::string(64, 'a');
  item.meta.size = s.size;
  item.meta.archived_at = s.archived_at;
  item.meta.accounts = s.accounts;
  item.meta.folders = s.folders;
  item.parsed.subject = s.subject;
  item.parsed.from = s.from;
  item.parsed.sender = s.sender;
  item.parsed.to = s.to;
  item.parsed.cc = s.cc;
  item.parsed.bcc = s.bcc;
  item.parsed.body_text = s.body;
  item.parsed.date = s.date;
  item.parsed.message_id = s.message_id;
  item.parsed.list_id = s.list_id;
  for (const std::string& name : s.attachment_names) {
    item.parsed.attachments.push_back(mime::Attachment{name, "application/octet-stream", 100});
  }
  item.parsed.attachment_text = s.attachment_text;
  item.parsed.has_attachments = !s.attachment_names.empty();
  return item;
}

inline search::Query parse(std::string_view text) {
  Result<search::Query> q = search::parse_query(text);
  EXPECT_TRUE(q.has_value()) << text << ": " << (q ? "" : q.error().message);
  return q ? std::move(*q) : search::Query{};
}

// The ids matching `text`, sorted.
inline std::vector<std::int64_t> ids_matching(Searcher& searcher, std::string_view text) {
  Result<std::vector<MessageId>> ids = searcher.all_matches(parse(text));
  EXPECT_TRUE(ids.has_value()) << text << ": " << (ids ? "" : ids.error().message);
  std::vector<std::int64_t> out;
  if (ids) {
    for (const MessageId id : *ids) {
      out.push_back(to_int(id));
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace mailvault::index::testing
