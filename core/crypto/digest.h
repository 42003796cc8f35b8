// Digests, random tokens and encodings (OpenSSL stays inside core/crypto).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace mailvault::crypto {

using Sha256 = std::array<std::uint8_t, 32>;

// SHA-256 of `data`. Thread-safe.
Sha256 sha256(std::string_view data);

// Incremental SHA-256, for data that arrives in pieces.
class Sha256Builder {
 public:
  Sha256Builder();
  ~Sha256Builder();
  Sha256Builder(const Sha256Builder&) = delete;
  Sha256Builder& operator=(const Sha256Builder&) = delete;
  Sha256Builder(Sha256Builder&&) = delete;
  Sha256Builder& operator=(Sha256Builder&&) = delete;
  void update(std::string_view data);
  Sha256 finish();

 private:
  void* ctx_;  // EVP_MD_CTX*, owned
};

// MD5 of `data` as 32 lowercase hex digits. Only for protocols that require it (POP3 APOP,
// RFC 1939 §7); never for integrity. Thread-safe.
std::string md5_hex(std::string_view data);

std::string to_hex(const Sha256& digest);
// Parses 64 hex digits; returns false on anything else.
bool from_hex(std::string_view hex, Sha256& out);

// `bytes` cryptographically random bytes, hex-encoded (2 * bytes characters).
std::string random_hex(std::size_t bytes);

// Compares in time independent of where the inputs differ.
bool constant_time_equal(std::string_view a, std::string_view b);

}  // namespace mailvault::crypto
