// UserStore: the people who read the archive (IMAP server, API), their roles and grants
// (migrations/0003_users.sql). Passwords are stored as argon2id hashes only.
//
// Roles: `user` sees the mail of their granted addresses and accounts; `auditor` sees all mail
// (read-only, audited like every read); `admin` sees all mail and manages the service.
// Thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/result.h"
#include "core/crypto/password.h"

namespace mailvault {
namespace pg {
class Pool;
}

namespace users {

struct UserSpec {
  std::string name;
  std::string role = "user";           // user | auditor | admin
  std::vector<std::string> addresses;  // lower-cased on the way in
  std::vector<std::string> accounts;   // account names
};

struct User {
  std::int64_t id = 0;
  UserSpec spec;
  std::int64_t created_at = 0;  // unix seconds

  bool sees_everything() const { return spec.role == "auditor" || spec.role == "admin"; }
};

// Checks name, role and address syntax; the error names the offending value.
Status validate(const UserSpec& spec);

class UserStore {
 public:
  explicit UserStore(pg::Pool& pool, crypto::PasswordCost cost = {}) : pool_(pool), cost_(cost) {}

  // kAlreadyExists when the name is taken; kInvalidArgument from validate() or the password.
  Result<User> add(const UserSpec& spec, std::string_view password);
  Result<std::vector<User>> list();
  // kNotFound when there is no such user.
  Result<User> get(std::string_view name);
  Status remove(std::string_view name);
  // The user when the password matches; kUnauthenticated otherwise (the same error for an
  // unknown user and a wrong password, after comparable work).
  Result<User> authenticate(std::string_view name, std::string_view password);

 private:
  pg::Pool& pool_;
  crypto::PasswordCost cost_;
};

}  // namespace users
}  // namespace mailvault
