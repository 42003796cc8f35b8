// Content-addressed, write-once blob store.
//
// A blob is named by a key (the lower-case hex SHA-256 of the message, optionally with a suffix
// such as ".text" for a legacy search-text sidecar). Writing a key that exists is a no-op when the
// stored bytes are the same (content addressing); a stored file that does not decode to them (a
// leftover of a crash before the store's sync) is replaced. Blobs are stored zstd-compressed; `get`
// returns the original bytes.
//
// A blob may carry a companion: bytes derived from it (the search-text sidecar) kept in the same
// file, so that a message costs one file, not two. The filesystem back end writes
//
//   <zstd frame of the data> [<zstd skippable frame, magic 0x184D2A5B, whose payload is a zstd
//   frame of the companion>]
//
// Any zstd decoder (and `zstd -d`, and mailvault versions before companions) skips skippable
// frames, so such a file still decompresses to exactly the data. Files are laid out as
// <root>/ab/cd/<key>, written as an unnamed file (O_TMPFILE; a named temporary file where the
// filesystem lacks it), made read-only and linked into place only once complete, so a crash
// never leaves a partial blob under a real key.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "core/base/result.h"

namespace mailvault {

class BlobStore {
 public:
  virtual ~BlobStore() = default;
  BlobStore() = default;
  BlobStore(const BlobStore&) = delete;
  BlobStore& operator=(const BlobStore&) = delete;
  BlobStore(BlobStore&&) = delete;
  BlobStore& operator=(BlobStore&&) = delete;

  struct PutResult {
    bool created = false;            // false: the key already existed
    std::uint64_t stored_bytes = 0;  // compressed size on disk
  };
  enum class Sync : std::uint8_t {
    kNow,       // durable when put() returns (fsync of the file and its directory)
    kDeferred,  // durable after the next sync(): lets a batch pay for one flush, not one per blob
  };
  // Thread-safe. Durable as `sync` says (unless the store was opened with durable = false).
  virtual Result<PutResult> put(std::string_view key, std::string_view data, Sync sync) = 0;
  // The same, storing `companion` in the blob's file (see the file comment); `get` still returns
  // `data` only. An existing blob without a companion is rewritten with it.
  virtual Result<PutResult> put_with_companion(std::string_view key, std::string_view data,
                                               std::string_view companion, Sync sync) = 0;

  Result<PutResult> put(std::string_view key, std::string_view data) {
    return put(key, data, Sync::kNow);
  }

  // Makes every blob written so far durable (one filesystem-wide flush).
  virtual Status sync() = 0;
  // Thread-safe. kNotFound when absent, kDataLoss when the stored file is corrupt.
  virtual Result<std::string> get(std::string_view key) const = 0;
  // Thread-safe. The companion stored with `key`: kNotFound when the blob is absent or has none
  // (stored by put(), or before companions existed), kDataLoss when the file is corrupt.
  virtual Result<std::string> get_companion(std::string_view key) const = 0;
  virtual bool exists(std::string_view key) const = 0;
};

struct FsBlobStoreOptions {
  int zstd_level = 3;
  bool durable = true;  // fsync files and directories
};

// Opens (creating if needed) a filesystem blob store rooted at `root`.
Result<std::unique_ptr<BlobStore>> open_fs_blob_store(const std::filesystem::path& root,
                                                      FsBlobStoreOptions options = {});

}  // namespace mailvault
