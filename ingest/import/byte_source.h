// Random-access byte sources for the importers: a file (pread on an owned descriptor) or an
// in-memory string (tests, fuzzers). The mbox reader works on this interface, so it is a pure
// function of the bytes and never needs a whole file in memory.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "core/base/result.h"

namespace mailvault::ingest {

class ByteSource {
 public:
  virtual ~ByteSource() = default;

  // Number of bytes in the source, fixed when the source was opened.
  [[nodiscard]] virtual std::uint64_t size() const = 0;

  // Copies up to `n` bytes starting at `offset` into `out` and returns how many were copied;
  // fewer than `n` only at the end of the source (0 at or past the end). Fails with kDataLoss
  // (text of strerror) when the underlying read fails.
  [[nodiscard]] virtual Result<std::size_t> read_at(std::uint64_t offset, char* out,
                                                    std::size_t n) const = 0;

  // Reads exactly [offset, offset + n) into `out`; fails with kDataLoss when fewer bytes exist
  // (the file shrank while being read) or the read fails.
  [[nodiscard]] Status read_exactly(std::uint64_t offset, char* out, std::size_t n) const;
  // read_exactly() into a new string.
  [[nodiscard]] Result<std::string> read_string(std::uint64_t offset, std::size_t n) const;

 protected:
  ByteSource() = default;
  ByteSource(const ByteSource&) = default;
  ByteSource& operator=(const ByteSource&) = default;
  ByteSource(ByteSource&&) = default;
  ByteSource& operator=(ByteSource&&) = default;
};

// Bytes held by the caller; the view must outlive the source.
class StringByteSource final : public ByteSource {
 public:
  explicit StringByteSource(std::string_view bytes) : bytes_(bytes) {}

  [[nodiscard]] std::uint64_t size() const override { return bytes_.size(); }

  [[nodiscard]] Result<std::size_t> read_at(std::uint64_t offset, char* out,
                                            std::size_t n) const override;

 private:
  std::string_view bytes_;
};

// Owner of a POSIX file descriptor (closed in the destructor).
class UniqueFd {
 public:
  UniqueFd() = default;

  explicit UniqueFd(int fd) : fd_(fd) {}

  UniqueFd(UniqueFd&& other) noexcept : fd_(other.release()) {}

  UniqueFd& operator=(UniqueFd&& other) noexcept;
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd();

  [[nodiscard]] int get() const noexcept { return fd_; }

  [[nodiscard]] bool valid() const noexcept { return fd_ >= 0; }

  int release() noexcept;

 private:
  int fd_ = -1;
};

// A regular file opened read-only. Size and mtime are taken once, at open.
class FileByteSource final : public ByteSource {
 public:
  // Opens `path` (following symbolic links) without blocking on FIFOs. Errors:
  // kNotFound "no such file or directory"; kFailedPrecondition "not a regular file" (FIFO,
  // device, socket, directory); kPermissionDenied / kUnavailable with the strerror text.
  static Result<FileByteSource> open(const std::string& path);

  [[nodiscard]] std::uint64_t size() const override { return size_; }

  [[nodiscard]] Result<std::size_t> read_at(std::uint64_t offset, char* out,
                                            std::size_t n) const override;

  // Modification time in seconds since the epoch.
  [[nodiscard]] std::int64_t mtime() const noexcept { return mtime_; }

 private:
  FileByteSource(UniqueFd fd, std::uint64_t size, std::int64_t mtime)
      : fd_(std::move(fd)), size_(size), mtime_(mtime) {}

  UniqueFd fd_;
  std::uint64_t size_ = 0;
  std::int64_t mtime_ = 0;
};

// strerror text for an errno value (thread-safe).
std::string errno_text(int error_number);

}  // namespace mailvault::ingest
