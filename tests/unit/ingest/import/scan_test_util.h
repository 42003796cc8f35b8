// Helpers for the importer tests: a temporary directory removed at the end of the test, file
// writers, and a scan_sources() wrapper that collects what it reports.
#pragma once

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include <gtest/gtest.h>

#include "ingest/import/message_source.h"

namespace mailvault::ingest::testing {

class TempDir {
 public:
  TempDir() {
    const char* base = std::getenv("TMPDIR");
    std::string pattern =
        std::string(base != nullptr && *base != '\0' ? base : "/tmp") + "/mailvault-ingest-XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr) {
      ADD_FAILURE() << "mkdtemp failed";
    }
    path_ = pattern;
  }

  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  TempDir(TempDir&&) = delete;
  TempDir& operator=(TempDir&&) = delete;

  ~TempDir() {
    std::error_code ignored;
    // Restore permissions a test may have removed, then delete (symlinks are not followed).
    std::filesystem::permissions(path_, std::filesystem::perms::owner_all,
                                 std::filesystem::perm_options::add, ignored);
    std::filesystem::remove_all(path_, ignored);
  }

  [[nodiscard]] const std::string& path() const { return path_; }

  [[nodiscard]] std::string operator/(std::string_view rel) const {
    return path_ + "/" + std::string(rel);
  }

 private:
  std::string path_;
};

// Writes `bytes` to `path`, creating parent directories; sets the mtime when given.
inline void write_file(const std::string& path, std::string_view bytes, std::int64_t mtime = -1) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    ASSERT_TRUE(out.good()) << path;
  }
  if (mtime >= 0) {
    const std::array<struct timespec, 2> times = {{{mtime, 0}, {mtime, 0}}};
    ASSERT_EQ(::utimensat(AT_FDCWD, path.c_str(), times.data(), 0), 0) << path;
  }
}

inline void make_dirs(const std::string& path) {
  std::filesystem::create_directories(path);
}

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

struct ScanResult {
  std::vector<SourceMessage> messages;
  std::vector<SourceProblem> problems;
  ScanSummary summary;

  // The problem reported for `path`, or nullptr.
  [[nodiscard]] const SourceProblem* problem_for(const std::string& path) const {
    for (const auto& p : problems) {
      if (p.path == path) {
        return &p;
      }
    }
    return nullptr;
  }

  [[nodiscard]] const SourceMessage* message_for(const std::string& path) const {
    for (const auto& m : messages) {
      if (m.path == path) {
        return &m;
      }
    }
    return nullptr;
  }
};

inline ScanResult scan(const std::vector<std::string>& paths, ImportScanOptions options = {}) {
  ScanResult result;
  result.summary = scan_sources(
      paths, options, [&](SourceMessage&& m) { result.messages.push_back(std::move(m)); },
      [&](SourceProblem&& p) { result.problems.push_back(std::move(p)); });
  EXPECT_EQ(result.summary.messages, result.messages.size());
  EXPECT_EQ(result.summary.problems, result.problems.size());
  return result;
}

}  // namespace mailvault::ingest::testing
