#include "core/archive/tokens.h"

#include <sys/stat.h>

#include <fstream>

#include <fmt/format.h>

#include "core/base/files.h"
#include "core/base/log.h"
#include "core/crypto/digest.h"
#include "core/pg/pool.h"

namespace mailvault {

Result<std::optional<Principal>> authenticate_token(pg::Pool& pool, std::string_view token) {
  if (token.size() < 16 || token.size() > 256)
    return std::optional<Principal>{};
  const std::string hash = crypto::to_hex(crypto::sha256(token));
  return pg::read(
      pool, "token_lookup", [&](pqxx::read_transaction& tx) -> std::optional<Principal> {
        auto r = tx.exec_params(
            "SELECT name, role FROM api_tokens WHERE token_hash = decode($1, 'hex')", hash);
        if (r.empty())
          return std::nullopt;
        return Principal{r[0][0].as<std::string>(), r[0][1].as<std::string>()};
      });
}

Result<std::string> create_token(pg::Pool& pool, std::string_view name, std::string_view role) {
  std::string token = "mv_" + crypto::random_hex(24);
  const std::string hash = crypto::to_hex(crypto::sha256(token));
  auto st = pg::write(pool, "token_create", [&](pqxx::work& tx) {
    tx.exec_params0(
        "INSERT INTO api_tokens (name, token_hash, role) VALUES ($1, decode($2, 'hex'), $3) "
        "ON CONFLICT (name) DO UPDATE SET token_hash = EXCLUDED.token_hash, role = EXCLUDED.role, "
        "created_at = now()",
        std::string{name}, hash, std::string{role});
  });
  if (!st)
    return st.error();
  return token;
}

Status ensure_admin_token(pg::Pool& pool, const std::filesystem::path& path) {
  {
    std::ifstream in(path);
    std::string existing;
    if (in && std::getline(in, existing) && !existing.empty()) {
      auto who = authenticate_token(pool, existing);
      if (!who)
        return who.error();
      if (*who)
        return {};
      spdlog::warn("{} holds a token this database does not know; issuing a new admin token",
                   path.string());
    }
  }
  auto token = create_token(pool, "admin", "admin");
  if (!token)
    return token.error();
  if (auto st = write_file_atomically(path, *token + "\n", 0600); !st)
    return st.error();
  spdlog::info("wrote the admin API token to {} (mode 0600)", path.string());
  return {};
}

}  // namespace mailvault
