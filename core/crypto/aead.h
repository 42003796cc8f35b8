// Authenticated encryption of small secrets (account credentials) under the server's master key.
//
// AES-256-GCM with a random 96-bit nonce per message. Sealed format (binary, stored as bytea):
//   byte 0      format version (1)
//   bytes 1-12  nonce
//   then        ciphertext (same length as the plaintext), then the 16-byte tag.
// `context` is authenticated but not stored (associated data): a secret sealed for one account
// cannot be moved to another row and opened there. Any tampering, a wrong key or a wrong context
// is kPermissionDenied from open(), never garbage plaintext.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "core/base/result.h"

namespace mailvault::crypto {

class MasterKey {
 public:
  static constexpr std::size_t kBytes = 32;

  // 64 hex digits (the form written to key files and accepted from the environment).
  static Result<MasterKey> from_hex(std::string_view hex);
  // A fresh random key.
  static MasterKey generate();

  // Where the key comes from, in this order: `hex` if non-empty (configuration / the
  // MAILVAULT_MASTER_KEY environment variable), else the key file at `path`; when the file does
  // not exist and `create` is true, a new key is generated and written there (mode 0600, written
  // to a temp file, fsynced and renamed). A key file readable by group or others is refused.
  static Result<MasterKey> load(std::string_view hex, const std::filesystem::path& path,
                                bool create);

  std::string to_hex() const;

  const std::array<std::uint8_t, kBytes>& bytes() const { return bytes_; }

 private:
  std::array<std::uint8_t, kBytes> bytes_{};
};

// Thread-safe.
std::string seal(const MasterKey& key, std::string_view plaintext, std::string_view context);
Result<std::string> open(const MasterKey& key, std::string_view sealed, std::string_view context);

}  // namespace mailvault::crypto
