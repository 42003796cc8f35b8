#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <system_error>

#include <fmt/format.h>
#include <zstd.h>

#include "core/blob/blob_store.h"
#include "core/crypto/digest.h"

namespace mailvault {
namespace {

namespace fs = std::filesystem;

std::string errno_text(int err) {
  return std::system_category().message(err);
}

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}

  ~Fd() {
    if (fd_ >= 0)
      ::close(fd_);
  }

  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  Fd(Fd&&) = delete;
  Fd& operator=(Fd&&) = delete;

  int get() const { return fd_; }

  int release() { return std::exchange(fd_, -1); }

 private:
  int fd_;
};

bool valid_key(std::string_view key) {
  if (key.size() < 4 || key.size() > 128)
    return false;
  for (char c : key) {
    const bool ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || c == '.' || c == '_';
    if (!ok)
      return false;
  }
  return key[0] != '.';
}

Status write_all(int fd, std::string_view data, const fs::path& path) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return make_error(Code::kUnavailable,
                        fmt::format("writing {}: {}", path.string(), errno_text(errno)));
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return {};
}

class FsBlobStore final : public BlobStore {
 public:
  FsBlobStore(fs::path root, FsBlobStoreOptions options)
      : root_(std::move(root)), options_(options) {}

  Result<PutResult> put(std::string_view key, std::string_view data, Sync sync) override {
    const bool fsync_now = options_.durable && sync == Sync::kNow;
    if (!valid_key(key))
      return make_error(Code::kInvalidArgument, "invalid blob key");
    const fs::path dir = dir_for(key);
    const fs::path final_path = dir / std::string{key};
    std::error_code ec;
    if (fs::exists(final_path, ec))
      return PutResult{false, 0};
    fs::create_directories(dir, ec);
    if (ec) {
      return make_error(Code::kUnavailable,
                        fmt::format("creating {}: {}", dir.string(), ec.message()));
    }
    std::string compressed(ZSTD_compressBound(data.size()), '\0');
    const std::size_t n = ZSTD_compress(compressed.data(), compressed.size(), data.data(),
                                        data.size(), options_.zstd_level);
    if (ZSTD_isError(n) != 0U) {
      return make_error(Code::kInternal, fmt::format("zstd: {}", ZSTD_getErrorName(n)));
    }
    compressed.resize(n);

    const fs::path tmp = dir / fmt::format(".{}.tmp.{}", key, crypto::random_hex(6));
    Fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444));
    if (fd.get() < 0) {
      return make_error(Code::kUnavailable,
                        fmt::format("creating {}: {}", tmp.string(), errno_text(errno)));
    }
    auto cleanup = [&] {
      ::unlink(tmp.c_str());
    };
    if (auto st = write_all(fd.get(), compressed, tmp); !st) {
      cleanup();
      return st.error();
    }
    if (fsync_now && ::fsync(fd.get()) != 0) {
      const int err = errno;
      cleanup();
      return make_error(Code::kUnavailable,
                        fmt::format("fsync {}: {}", tmp.string(), errno_text(err)));
    }
    ::close(fd.release());
    // rename() replaces atomically; a concurrent writer of the same key wrote the same bytes.
    if (::rename(tmp.c_str(), final_path.c_str()) != 0) {
      const int err = errno;
      cleanup();
      return make_error(Code::kUnavailable,
                        fmt::format("renaming into {}: {}", final_path.string(), errno_text(err)));
    }
    if (fsync_now) {
      Fd dfd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
      if (dfd.get() >= 0)
        ::fsync(dfd.get());
    }
    return PutResult{true, n};
  }

  Status sync() override {
    if (!options_.durable)
      return {};
    // syncfs() flushes the data and the journal (renames included) of the whole filesystem in
    // one go: on disks where an fsync costs milliseconds, far cheaper than one per blob.
    Fd fd(::open(root_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (fd.get() < 0 || ::syncfs(fd.get()) != 0) {
      return make_error(Code::kUnavailable, fmt::format("syncing the blob store {}: {}",
                                                        root_.string(), errno_text(errno)));
    }
    return {};
  }

  Result<std::string> get(std::string_view key) const override {
    if (!valid_key(key))
      return make_error(Code::kInvalidArgument, "invalid blob key");
    const fs::path path = dir_for(key) / std::string{key};
    std::ifstream in(path, std::ios::binary);
    if (!in)
      return make_error(Code::kNotFound, fmt::format("blob {} not found", key));
    std::string compressed((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const unsigned long long size = ZSTD_getFrameContentSize(compressed.data(), compressed.size());
    if (size == ZSTD_CONTENTSIZE_ERROR || size == ZSTD_CONTENTSIZE_UNKNOWN) {
      return make_error(Code::kDataLoss, fmt::format("blob {} is corrupt (bad zstd frame)", key));
    }
    std::string out(size, '\0');
    const std::size_t n =
        ZSTD_decompress(out.data(), out.size(), compressed.data(), compressed.size());
    if (ZSTD_isError(n) != 0U || n != size) {
      return make_error(Code::kDataLoss,
                        fmt::format("blob {} is corrupt: {}", key,
                                    ZSTD_isError(n) != 0U ? ZSTD_getErrorName(n) : "short"));
    }
    return out;
  }

  bool exists(std::string_view key) const override {
    std::error_code ec;
    return valid_key(key) && fs::exists(dir_for(key) / std::string{key}, ec);
  }

 private:
  fs::path dir_for(std::string_view key) const {
    return root_ / std::string{key.substr(0, 2)} / std::string{key.substr(2, 2)};
  }

  fs::path root_;
  FsBlobStoreOptions options_;
};

}  // namespace

Result<std::unique_ptr<BlobStore>> open_fs_blob_store(const fs::path& root,
                                                      FsBlobStoreOptions options) {
  std::error_code ec;
  fs::create_directories(root, ec);
  if (ec) {
    return make_error(Code::kUnavailable, fmt::format("cannot create blob store at {}: {}",
                                                      root.string(), ec.message()));
  }
  if (::access(root.c_str(), W_OK) != 0) {
    return make_error(Code::kPermissionDenied, fmt::format("blob store {} is not writable: {}",
                                                           root.string(), errno_text(errno)));
  }
  return std::unique_ptr<BlobStore>(std::make_unique<FsBlobStore>(root, options));
}

}  // namespace mailvault
