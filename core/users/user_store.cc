#include "core/users/user_store.h"

#include <algorithm>
#include <regex>

#include <fmt/format.h>

#include "core/pg/pool.h"

#include <nlohmann/json.hpp>

namespace mailvault::users {
namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

std::string json_array(const std::vector<std::string>& v) {
  return nlohmann::json(v).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::vector<std::string> json_strings(const pqxx::field& f) {
  std::vector<std::string> out;
  if (f.is_null())
    return out;
  auto j = nlohmann::json::parse(f.as<std::string>(), nullptr, false);
  if (j.is_array())
    for (const auto& v : j)
      if (v.is_string())
        out.push_back(v.get<std::string>());
  std::sort(out.begin(), out.end());
  return out;
}

constexpr const char* kSelect =
    "SELECT u.id, u.name, u.role, extract(epoch from u.created_at)::bigint, "
    "(SELECT json_agg(address) FROM user_addresses a WHERE a.user_id = u.id)::text, "
    "(SELECT json_agg(account_name) FROM user_accounts c WHERE c.user_id = u.id)::text, "
    "u.password_hash FROM users u";

User read_user(const pqxx::row& r) {
  User u;
  u.id = r[0].as<std::int64_t>();
  u.spec.name = r[1].as<std::string>();
  u.spec.role = r[2].as<std::string>();
  u.created_at = r[3].as<std::int64_t>();
  u.spec.addresses = json_strings(r[4]);
  u.spec.accounts = json_strings(r[5]);
  return u;
}

// A valid hash of a random password: unknown users cost as much as known ones.
const std::string& decoy_hash(const crypto::PasswordCost& cost) {
  static const std::string hash = *crypto::hash_password("decoy-password-never-matches", cost);
  return hash;
}

}  // namespace

Status validate(const UserSpec& spec) {
  static const std::regex kName{"^[A-Za-z0-9][A-Za-z0-9._@+-]{0,127}$"};
  if (!std::regex_match(spec.name, kName)) {
    return make_error(Code::kInvalidArgument,
                      fmt::format("user name '{}' is invalid: use 1-128 letters, digits and . _ @ "
                                  "+ - (starting with a letter or digit)",
                                  spec.name));
  }
  if (spec.role != "user" && spec.role != "auditor" && spec.role != "admin") {
    return make_error(Code::kInvalidArgument,
                      fmt::format("role must be user, auditor or admin, not '{}'", spec.role));
  }
  static const std::regex kAddress{"^[^@\\s]+@[^@\\s]+$"};
  for (const auto& a : spec.addresses) {
    if (!std::regex_match(a, kAddress))
      return make_error(Code::kInvalidArgument, fmt::format("address '{}' is invalid", a));
  }
  for (const auto& a : spec.accounts) {
    if (a.empty())
      return make_error(Code::kInvalidArgument, "an account name is empty");
  }
  return ok_status();
}

Result<User> UserStore::add(const UserSpec& spec_in, std::string_view password) {
  UserSpec spec = spec_in;
  for (auto& a : spec.addresses)
    a = lower(a);
  if (auto st = validate(spec); !st)
    return st.error();
  auto hash = crypto::hash_password(password, cost_);
  if (!hash)
    return hash.error();
  auto added = pg::write(pool_, "user_add", [&](pqxx::work& tx) {
    if (!tx.exec_params("SELECT 1 FROM users WHERE name = $1", spec.name).empty()) {
      throw pg::Abort(Code::kAlreadyExists,
                      fmt::format("a user named '{}' already exists", spec.name));
    }
    auto id = tx.exec_params1(
                    "INSERT INTO users (name, role, password_hash) VALUES ($1, $2, $3) "
                    "RETURNING id",
                    spec.name, spec.role, *hash)[0]
                  .as<std::int64_t>();
    tx.exec_params0(
        "INSERT INTO user_addresses (user_id, address) SELECT $1, "
        "json_array_elements_text($2::json) ON CONFLICT DO NOTHING",
        id, json_array(spec.addresses));
    tx.exec_params0(
        "INSERT INTO user_accounts (user_id, account_name) SELECT $1, "
        "json_array_elements_text($2::json) ON CONFLICT DO NOTHING",
        id, json_array(spec.accounts));
    return read_user(tx.exec_params1(std::string{kSelect} + " WHERE u.id = $1", id));
  });
  return added;
}

Result<std::vector<User>> UserStore::list() {
  return pg::read(pool_, "user_list", [&](pqxx::read_transaction& tx) {
    std::vector<User> out;
    for (const auto& r : tx.exec(std::string{kSelect} + " ORDER BY u.name"))
      out.push_back(read_user(r));
    return out;
  });
}

Result<User> UserStore::get(std::string_view name) {
  auto got = pg::read(pool_, "user_get", [&](pqxx::read_transaction& tx) {
    std::optional<User> u;
    auto rows = tx.exec_params(std::string{kSelect} + " WHERE u.name = $1", std::string{name});
    if (!rows.empty())
      u = read_user(rows[0]);
    return u;
  });
  if (!got)
    return got.error();
  if (!*got)
    return make_error(Code::kNotFound, fmt::format("no user named '{}'", name));
  return std::move(**got);
}

Status UserStore::remove(std::string_view name) {
  auto n = pg::write(pool_, "user_remove", [&](pqxx::work& tx) {
    return tx.exec_params("DELETE FROM users WHERE name = $1", std::string{name}).affected_rows();
  });
  if (!n)
    return n.error();
  if (*n == 0)
    return make_error(Code::kNotFound, fmt::format("no user named '{}'", name));
  return ok_status();
}

Result<User> UserStore::authenticate(std::string_view name, std::string_view password) {
  auto got = pg::read(pool_, "user_auth", [&](pqxx::read_transaction& tx) {
    std::optional<std::pair<User, std::string>> u;
    auto rows = tx.exec_params(std::string{kSelect} + " WHERE u.name = $1", std::string{name});
    if (!rows.empty())
      u.emplace(read_user(rows[0]), rows[0][6].as<std::string>());
    return u;
  });
  if (!got)
    return got.error();
  const auto denied = make_error(Code::kUnauthenticated, "invalid user name or password");
  if (!*got) {
    (void)crypto::verify_password(password, decoy_hash(cost_));
    return denied;
  }
  if (!crypto::verify_password(password, (*got)->second))
    return denied;
  return std::move((*got)->first);
}

}  // namespace mailvault::users
