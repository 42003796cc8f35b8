#include "core/crypto/aead.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <memory>
#include <stdexcept>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "core/base/files.h"
#include "core/crypto/digest.h"

namespace mailvault::crypto {
namespace {

constexpr std::uint8_t kVersion = 1;
constexpr std::size_t kNonceBytes = 12;
constexpr std::size_t kTagBytes = 16;

struct CtxFree {
  void operator()(EVP_CIPHER_CTX* c) const noexcept { EVP_CIPHER_CTX_free(c); }
};

using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, CtxFree>;

CipherCtx new_ctx() {
  CipherCtx ctx{EVP_CIPHER_CTX_new()};
  if (!ctx)
    throw std::runtime_error("EVP_CIPHER_CTX_new failed");
  return ctx;
}

const unsigned char* u8(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());  // NOLINT: OpenSSL takes bytes
}

int as_int(std::size_t n) {
  if (n > static_cast<std::size_t>(INT32_MAX))
    throw std::length_error("secret too large to seal");
  return static_cast<int>(n);
}

std::string errno_text() {
  return std::strerror(errno);  // NOLINT(concurrency-mt-unsafe): messages only
}

}  // namespace

Result<MasterKey> MasterKey::from_hex(std::string_view hex) {
  // Two SHA-256-sized halves let us reuse the strict 64-digit parser.
  Sha256 raw{};
  if (!crypto::from_hex(hex, raw)) {
    return make_error(Code::kInvalidArgument, "master key must be 64 hex digits (32 bytes), got " +
                                                  std::to_string(hex.size()) + " characters");
  }
  MasterKey key;
  std::copy(raw.begin(), raw.end(), key.bytes_.begin());
  return key;
}

MasterKey MasterKey::generate() {
  MasterKey key;
  if (RAND_bytes(key.bytes_.data(), static_cast<int>(key.bytes_.size())) != 1)
    throw std::runtime_error("RAND_bytes failed");
  return key;
}

std::string MasterKey::to_hex() const {
  Sha256 raw{};
  std::copy(bytes_.begin(), bytes_.end(), raw.begin());
  return crypto::to_hex(raw);
}

Result<MasterKey> MasterKey::load(std::string_view hex, const std::filesystem::path& path,
                                  bool create) {
  if (!hex.empty())
    return from_hex(hex);

  struct stat st {};

  if (::stat(path.c_str(), &st) == 0) {
    if ((st.st_mode & 077) != 0) {
      return make_error(Code::kPermissionDenied,
                        "master key file " + path.string() +
                            " is readable by group or others; run: chmod 600 " + path.string());
    }
    std::ifstream in{path};
    std::string text;
    std::getline(in, text);
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' '))
      text.pop_back();
    auto key = from_hex(text);
    if (!key)
      return make_error(Code::kInvalidArgument, path.string() + ": " + key.error().message);
    return key;
  }
  if (errno != ENOENT)
    return make_error(Code::kUnavailable, "cannot read " + path.string() + ": " + errno_text());
  if (!create) {
    return make_error(Code::kFailedPrecondition,
                      "no master key: set MAILVAULT_MASTER_KEY or create " + path.string());
  }
  MasterKey key = generate();
  if (auto written = write_file_atomically(path, key.to_hex() + "\n", 0600); !written)
    return written.error();
  return key;
}

std::string seal(const MasterKey& key, std::string_view plaintext, std::string_view context) {
  std::string out(1 + kNonceBytes + plaintext.size() + kTagBytes, '\0');
  auto* bytes = reinterpret_cast<unsigned char*>(out.data());  // NOLINT: OpenSSL takes bytes
  bytes[0] = kVersion;
  if (RAND_bytes(bytes + 1, kNonceBytes) != 1)
    throw std::runtime_error("RAND_bytes failed");
  auto ctx = new_ctx();
  int len = 0;
  if (EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, key.bytes().data(), bytes + 1) !=
          1 ||
      EVP_EncryptUpdate(ctx.get(), nullptr, &len, u8(context), as_int(context.size())) != 1 ||
      EVP_EncryptUpdate(ctx.get(), bytes + 1 + kNonceBytes, &len, u8(plaintext),
                        as_int(plaintext.size())) != 1 ||
      EVP_EncryptFinal_ex(ctx.get(), bytes + 1 + kNonceBytes + len, &len) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kTagBytes,
                          bytes + 1 + kNonceBytes + plaintext.size()) != 1) {
    throw std::runtime_error("AES-256-GCM encryption failed");
  }
  return out;
}

Result<std::string> open(const MasterKey& key, std::string_view sealed, std::string_view context) {
  if (sealed.size() < 1 + kNonceBytes + kTagBytes ||
      static_cast<std::uint8_t>(sealed[0]) != kVersion)
    return make_error(Code::kPermissionDenied,
                      "sealed secret is malformed or of an unknown version");
  const auto* bytes = u8(sealed);
  std::size_t n = sealed.size() - 1 - kNonceBytes - kTagBytes;
  std::string plain(n, '\0');
  auto* out = reinterpret_cast<unsigned char*>(plain.data());  // NOLINT: OpenSSL takes bytes
  std::array<unsigned char, kTagBytes> tag{};
  std::memcpy(tag.data(), bytes + 1 + kNonceBytes + n, kTagBytes);
  auto ctx = new_ctx();
  int len = 0;
  if (EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, key.bytes().data(), bytes + 1) !=
          1 ||
      EVP_DecryptUpdate(ctx.get(), nullptr, &len, u8(context), as_int(context.size())) != 1 ||
      EVP_DecryptUpdate(ctx.get(), out, &len, bytes + 1 + kNonceBytes, as_int(n)) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, kTagBytes, tag.data()) != 1 ||
      EVP_DecryptFinal_ex(ctx.get(), out + len, &len) != 1) {
    return make_error(
        Code::kPermissionDenied,
        "cannot decrypt the stored secret: wrong master key, or the data was altered");
  }
  return plain;
}

}  // namespace mailvault::crypto
