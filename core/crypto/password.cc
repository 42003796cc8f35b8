#include "core/crypto/password.h"

#include <array>
#include <stdexcept>

#include <argon2.h>
#include <openssl/rand.h>

namespace mailvault::crypto {

Result<std::string> hash_password(std::string_view password, const PasswordCost& cost) {
  if (password.empty())
    return make_error(Code::kInvalidArgument, "the password is empty");
  if (password.size() > 4096)
    return make_error(Code::kInvalidArgument, "the password is longer than 4096 bytes");
  std::array<unsigned char, 16> salt{};
  if (RAND_bytes(salt.data(), static_cast<int>(salt.size())) != 1)
    throw std::runtime_error("RAND_bytes failed");
  constexpr std::size_t kHashLen = 32;
  std::string encoded(
      argon2_encodedlen(cost.passes, cost.memory_kib, cost.lanes,
                        static_cast<std::uint32_t>(salt.size()), kHashLen, Argon2_id),
      '\0');
  int rc = argon2id_hash_encoded(cost.passes, cost.memory_kib, cost.lanes, password.data(),
                                 password.size(), salt.data(), salt.size(), kHashLen,
                                 encoded.data(), encoded.size());
  if (rc != ARGON2_OK)
    throw std::runtime_error(std::string{"argon2id: "} + argon2_error_message(rc));
  encoded.resize(encoded.find('\0'));
  return encoded;
}

bool verify_password(std::string_view password, const std::string& encoded) {
  if (encoded.rfind("$argon2id$", 0) != 0 || password.size() > 4096)
    return false;
  return argon2id_verify(encoded.c_str(), password.data(), password.size()) == ARGON2_OK;
}

}  // namespace mailvault::crypto
