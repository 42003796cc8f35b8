#include "ingest/import/byte_source.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <system_error>

namespace mailvault::ingest {

std::string errno_text(int error_number) {
  return std::error_code(error_number, std::generic_category()).message();
}

Status ByteSource::read_exactly(std::uint64_t offset, char* out, std::size_t n) const {
  std::size_t done = 0;
  while (done < n) {
    auto got = read_at(offset + done, out + done, n - done);
    if (!got) {
      return got.error();
    }
    if (*got == 0) {
      return make_error(Code::kDataLoss, "file changed while reading (ends before byte " +
                                             std::to_string(offset + n) + ")");
    }
    done += *got;
  }
  return ok_status();
}

Result<std::string> ByteSource::read_string(std::uint64_t offset, std::size_t n) const {
  std::string out(n, '\0');
  if (auto status = read_exactly(offset, out.data(), n); !status) {
    return status.error();
  }
  return out;
}

Result<std::size_t> StringByteSource::read_at(std::uint64_t offset, char* out,
                                              std::size_t n) const {
  if (offset >= bytes_.size()) {
    return std::size_t{0};
  }
  const auto start = static_cast<std::size_t>(offset);
  const std::size_t count = std::min(n, bytes_.size() - start);
  std::memcpy(out, bytes_.data() + start, count);
  return count;
}

UniqueFd& UniqueFd::operator=(UniqueFd&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) {
      ::close(fd_);
    }
    fd_ = other.release();
  }
  return *this;
}

UniqueFd::~UniqueFd() {
  if (fd_ >= 0) {
    ::close(fd_);
  }
}

int UniqueFd::release() noexcept {
  const int fd = fd_;
  fd_ = -1;
  return fd;
}

Result<FileByteSource> FileByteSource::open(const std::string& path) {
  // O_NONBLOCK: a FIFO that appeared after the caller's stat() must not hang the scan; it has
  // no effect on reads from regular files.
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
  if (!fd.valid()) {
    const int e = errno;
    if (e == ENOENT) {
      return make_error(Code::kNotFound, "no such file or directory");
    }
    return make_error(e == EACCES || e == EPERM ? Code::kPermissionDenied : Code::kUnavailable,
                      "cannot open: " + errno_text(e));
  }

  struct stat st = {};
  if (::fstat(fd.get(), &st) != 0) {
    return make_error(Code::kUnavailable, "cannot stat: " + errno_text(errno));
  }
  if (!S_ISREG(st.st_mode)) {
    return make_error(Code::kFailedPrecondition, "not a regular file");
  }
  return FileByteSource(std::move(fd), static_cast<std::uint64_t>(st.st_size),
                        static_cast<std::int64_t>(st.st_mtim.tv_sec));
}

Result<std::size_t> FileByteSource::read_at(std::uint64_t offset, char* out, std::size_t n) const {
  while (true) {
    const ssize_t got = ::pread(fd_.get(), out, n, static_cast<off_t>(offset));
    if (got >= 0) {
      return static_cast<std::size_t>(got);
    }
    if (errno != EINTR) {
      return make_error(Code::kDataLoss, "read error: " + errno_text(errno));
    }
  }
}

}  // namespace mailvault::ingest
