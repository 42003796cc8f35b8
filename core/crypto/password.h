// Password hashing for IMAP/API users: argon2id (libargon2), PHC string format
// ("$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>"), random 16-byte salt. The parameters are in
// the string, so they can be raised later without invalidating stored hashes.
#pragma once

#include <string>
#include <string_view>

#include "core/base/result.h"

namespace mailvault::crypto {

struct PasswordCost {
  unsigned memory_kib = 19456;  // OWASP's argon2id minimum (19 MiB), one lane, two passes
  unsigned passes = 2;
  unsigned lanes = 1;
};

// kInvalidArgument for an empty password or one over 4096 bytes. Thread-safe.
Result<std::string> hash_password(std::string_view password, const PasswordCost& cost = {});

// True when `password` matches `encoded`; false for a mismatch or a malformed hash. Runs in time
// independent of where a mismatch is. Thread-safe.
bool verify_password(std::string_view password, const std::string& encoded);

}  // namespace mailvault::crypto
