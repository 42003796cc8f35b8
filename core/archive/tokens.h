// API bearer tokens. Only the SHA-256 of a token is stored; the token is shown once.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "core/base/result.h"

namespace mailvault {

namespace pg {
class Pool;
}

struct Principal {
  std::string name;
  std::string role;  // admin | auditor | user
};

// Looks a bearer token up; nullopt when unknown.
Result<std::optional<Principal>> authenticate_token(pg::Pool& pool, std::string_view token);

// Creates a token named `name` with `role`, replacing an earlier one of that name; returns it.
Result<std::string> create_token(pg::Pool& pool, std::string_view name, std::string_view role);

// First start: when `path` does not exist, creates the "admin" token and writes it there with
// mode 0600. When it exists and is still valid, leaves it alone; when the database no longer
// knows it (a new database), issues a fresh one.
Status ensure_admin_token(pg::Pool& pool, const std::filesystem::path& path);

}  // namespace mailvault
