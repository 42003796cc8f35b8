#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <optional>
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

// zstd contexts are costly to create (ZSTD_compress makes and frees one per call); each thread
// keeps one of each.
struct CCtxFree {
  void operator()(ZSTD_CCtx* c) const { ZSTD_freeCCtx(c); }
};

struct DCtxFree {
  void operator()(ZSTD_DCtx* d) const { ZSTD_freeDCtx(d); }
};

ZSTD_CCtx* thread_cctx() {
  thread_local std::unique_ptr<ZSTD_CCtx, CCtxFree> cctx{ZSTD_createCCtx()};
  return cctx.get();
}

ZSTD_DCtx* thread_dctx() {
  thread_local std::unique_ptr<ZSTD_DCtx, DCtxFree> dctx{ZSTD_createDCtx()};
  return dctx.get();
}

// The skippable frame that holds a companion (any of 0x184D2A50..5F is skippable; ours is 5B).
constexpr std::uint32_t kCompanionMagic = 0x184D2A5BU;
constexpr std::size_t kSkippableHeader = 8;

void put_le32(char* p, std::uint32_t v) {
  for (int i = 0; i < 4; ++i)
    p[i] = static_cast<char>((v >> (8 * i)) & 0xFFU);
}

std::uint32_t get_le32(const char* p) {
  std::uint32_t v = 0;
  for (int i = 3; i >= 0; --i)
    v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

// Compresses `data` at out[at...]; returns the frame's size.
Result<std::size_t> compress_into(std::string& out, std::size_t at, std::string_view data,
                                  int level) {
  const std::size_t n = ZSTD_compressCCtx(thread_cctx(), out.data() + at, out.size() - at,
                                          data.data(), data.size(), level);
  if (ZSTD_isError(n) != 0U)
    return make_error(Code::kInternal, fmt::format("zstd: {}", ZSTD_getErrorName(n)));
  return n;
}

// One zstd frame (exactly `frame`, nothing after it) to its content.
Result<std::string> decompress_frame(std::string_view frame, std::string_view key) {
  const unsigned long long size = ZSTD_getFrameContentSize(frame.data(), frame.size());
  if (size == ZSTD_CONTENTSIZE_ERROR || size == ZSTD_CONTENTSIZE_UNKNOWN) {
    return make_error(Code::kDataLoss, fmt::format("blob {} is corrupt (bad zstd frame)", key));
  }
  std::string out(size, '\0');
  const std::size_t n =
      ZSTD_decompressDCtx(thread_dctx(), out.data(), out.size(), frame.data(), frame.size());
  if (ZSTD_isError(n) != 0U || n != size) {
    return make_error(Code::kDataLoss,
                      fmt::format("blob {} is corrupt: {}", key,
                                  ZSTD_isError(n) != 0U ? ZSTD_getErrorName(n) : "short"));
  }
  return out;
}

// A stored file split into its data frame and its companion frame (empty view: none).
struct Frames {
  std::string_view data;
  std::string_view companion;
  bool has_companion = false;
  bool companion_damaged = false;  // truncated
};

Result<Frames> split_frames(std::string_view file, std::string_view key) {
  const std::size_t first = ZSTD_findFrameCompressedSize(file.data(), file.size());
  if (ZSTD_isError(first) != 0U) {
    return make_error(Code::kDataLoss, fmt::format("blob {} is corrupt (bad zstd frame)", key));
  }
  Frames f;
  f.data = file.substr(0, first);
  auto rest = file.substr(first);
  if (rest.size() >= kSkippableHeader && get_le32(rest.data()) == kCompanionMagic) {
    const std::uint32_t len = get_le32(rest.data() + 4);
    // A damaged companion is reported by get_companion(); the data frame stays readable.
    f.companion_damaged = len > rest.size() - kSkippableHeader;
    f.companion = rest.substr(kSkippableHeader, len);
    f.has_companion = true;
  }
  return f;
}

Result<std::string> read_file(const fs::path& path, std::string_view key) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) {
    if (errno == ENOENT)
      return make_error(Code::kNotFound, fmt::format("blob {} not found", key));
    return make_error(Code::kUnavailable,
                      fmt::format("opening {}: {}", path.string(), errno_text(errno)));
  }

  struct stat st {};

  if (::fstat(fd.get(), &st) != 0) {
    return make_error(Code::kUnavailable,
                      fmt::format("stat {}: {}", path.string(), errno_text(errno)));
  }
  std::string out(static_cast<std::size_t>(st.st_size), '\0');
  std::size_t got = 0;
  while (got < out.size()) {
    const ssize_t n = ::read(fd.get(), out.data() + got, out.size() - got);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      return make_error(Code::kUnavailable,
                        fmt::format("reading {}: {}", path.string(), errno_text(errno)));
    }
    if (n == 0)
      break;
    got += static_cast<std::size_t>(n);
  }
  out.resize(got);
  return out;
}

class FsBlobStore final : public BlobStore {
 public:
  FsBlobStore(fs::path root, FsBlobStoreOptions options)
      : root_(std::move(root)), options_(options) {}

  Result<PutResult> put(std::string_view key, std::string_view data, Sync sync) override {
    return store(key, data, std::nullopt, sync);
  }

  Result<PutResult> put_with_companion(std::string_view key, std::string_view data,
                                       std::string_view companion, Sync sync) override {
    return store(key, data, companion, sync);
  }

  Status sync() override {
    if (!options_.durable)
      return {};
    // syncfs() flushes the data and the journal (links included) of the whole filesystem in
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
    auto file = read_file(dir_for(key) / std::string{key}, key);
    if (!file)
      return file.error();
    auto frames = split_frames(*file, key);
    if (!frames)
      return frames.error();
    return decompress_frame(frames->data, key);
  }

  Result<std::string> get_companion(std::string_view key) const override {
    if (!valid_key(key))
      return make_error(Code::kInvalidArgument, "invalid blob key");
    auto file = read_file(dir_for(key) / std::string{key}, key);
    if (!file)
      return file.error();
    auto frames = split_frames(*file, key);
    if (!frames)
      return frames.error();
    if (!frames->has_companion)
      return make_error(Code::kNotFound, fmt::format("blob {} has no companion", key));
    if (frames->companion_damaged)
      return make_error(Code::kDataLoss, fmt::format("blob {}: its companion is truncated", key));
    return decompress_frame(frames->companion, key);
  }

  bool exists(std::string_view key) const override {
    std::error_code ec;
    return valid_key(key) && fs::exists(dir_for(key) / std::string{key}, ec);
  }

 private:
  fs::path dir_for(std::string_view key) const {
    return root_ / std::string{key.substr(0, 2)} / std::string{key.substr(2, 2)};
  }

  // True when the file at `path` already holds `data` (and a companion when one is wanted).
  // Anything else under a real key (a file whose bytes a crash before sync() lost, an older
  // file without the companion) is to be replaced, never trusted.
  bool holds(const fs::path& path, std::string_view key, std::string_view data,
             bool want_companion) const {
    auto file = read_file(path, key);
    if (!file)
      return false;
    auto frames = split_frames(*file, key);
    if (!frames || (want_companion && (!frames->has_companion || frames->companion_damaged)))
      return false;
    auto stored = decompress_frame(frames->data, key);
    return stored && *stored == data;
  }

  Result<PutResult> store(std::string_view key, std::string_view data,
                          std::optional<std::string_view> companion, Sync sync) {
    const bool fsync_now = options_.durable && sync == Sync::kNow;
    if (!valid_key(key))
      return make_error(Code::kInvalidArgument, "invalid blob key");
    const fs::path dir = dir_for(key);
    const fs::path final_path = dir / std::string{key};
    bool replace = false;
    if (::access(final_path.c_str(), F_OK) == 0) {
      if (holds(final_path, key, data, companion.has_value()))
        return PutResult{false, 0};
      replace = true;
    }

    std::string file(ZSTD_compressBound(data.size()) +
                         (companion ? kSkippableHeader + ZSTD_compressBound(companion->size()) : 0),
                     '\0');
    auto n = compress_into(file, 0, data, options_.zstd_level);
    if (!n)
      return n.error();
    std::size_t size = *n;
    if (companion) {
      auto c = compress_into(file, size + kSkippableHeader, *companion, options_.zstd_level);
      if (!c)
        return c.error();
      put_le32(file.data() + size, kCompanionMagic);
      put_le32(file.data() + size + 4, static_cast<std::uint32_t>(*c));
      size += kSkippableHeader + *c;
    }
    file.resize(size);

    auto created = replace ? write_renamed(dir, final_path, key, file, fsync_now)
                           : write_linked(dir, final_path, key, file, fsync_now);
    if (!created)
      return created.error();
    if (!*created)
      return PutResult{false, 0};
    if (fsync_now) {
      Fd dfd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
      if (dfd.get() >= 0)
        ::fsync(dfd.get());
    }
    return PutResult{true, size};
  }

  // An unnamed file (O_TMPFILE) linked under its name once complete: one inode and one
  // directory entry per blob, where a named temporary file costs two entries and a rename.
  // False when another writer linked the key first (content addressing: the same bytes).
  Result<bool> write_linked(const fs::path& dir, const fs::path& final_path, std::string_view key,
                            std::string_view file, bool fsync_now) {
    int raw_fd = ::open(dir.c_str(), O_TMPFILE | O_WRONLY | O_CLOEXEC, 0444);
    if (raw_fd < 0 && errno == ENOENT) {
      std::error_code ec;
      fs::create_directories(dir, ec);
      if (ec) {
        return make_error(Code::kUnavailable,
                          fmt::format("creating {}: {}", dir.string(), ec.message()));
      }
      raw_fd = ::open(dir.c_str(), O_TMPFILE | O_WRONLY | O_CLOEXEC, 0444);
    }
    if (raw_fd < 0 && (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL))
      return write_renamed(dir, final_path, key, file, fsync_now);  // no O_TMPFILE here
    Fd fd(raw_fd);
    if (fd.get() < 0) {
      return make_error(Code::kUnavailable,
                        fmt::format("creating a file in {}: {}", dir.string(), errno_text(errno)));
    }
    if (auto st = write_all(fd.get(), file, final_path); !st)
      return st.error();
    if (fsync_now && ::fsync(fd.get()) != 0) {
      return make_error(Code::kUnavailable,
                        fmt::format("fsync {}: {}", final_path.string(), errno_text(errno)));
    }
    // Through /proc: linkat(fd, "", ..., AT_EMPTY_PATH) needs CAP_DAC_READ_SEARCH.
    const std::string proc = fmt::format("/proc/self/fd/{}", fd.get());
    if (::linkat(AT_FDCWD, proc.c_str(), AT_FDCWD, final_path.c_str(), AT_SYMLINK_FOLLOW) == 0)
      return true;
    if (errno == EEXIST)
      return false;
    if (errno == ENOENT && ::access("/proc/self/fd", F_OK) != 0)
      return write_renamed(dir, final_path, key, file, fsync_now);  // no /proc mounted
    return make_error(Code::kUnavailable,
                      fmt::format("linking {}: {}", final_path.string(), errno_text(errno)));
  }

  // A named temporary file renamed into place (replaces atomically whatever is there).
  Result<bool> write_renamed(const fs::path& dir, const fs::path& final_path, std::string_view key,
                             std::string_view file, bool fsync_now) {
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) {
      return make_error(Code::kUnavailable,
                        fmt::format("creating {}: {}", dir.string(), ec.message()));
    }
    const fs::path tmp = dir / fmt::format(".{}.tmp.{}", key, crypto::random_hex(6));
    Fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444));
    if (fd.get() < 0) {
      return make_error(Code::kUnavailable,
                        fmt::format("creating {}: {}", tmp.string(), errno_text(errno)));
    }
    auto cleanup = [&] {
      ::unlink(tmp.c_str());
    };
    if (auto st = write_all(fd.get(), file, tmp); !st) {
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
    if (::rename(tmp.c_str(), final_path.c_str()) != 0) {
      const int err = errno;
      cleanup();
      return make_error(Code::kUnavailable,
                        fmt::format("renaming into {}: {}", final_path.string(), errno_text(err)));
    }
    return true;
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
