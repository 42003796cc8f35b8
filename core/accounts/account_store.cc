#include "core/accounts/account_store.h"

#include <algorithm>
#include <regex>

#include <fmt/format.h>

#include "core/pg/pool.h"

#include <nlohmann/json.hpp>

namespace mailvault::accounts {
namespace {

// Every column list and its reader in one place.
constexpr const char* kAccountColumns =
    "a.id, a.name, a.protocol, a.host, a.port, a.tls, a.verify_tls, a.ca_file, a.username, "
    "a.auth, a.secret, array_to_json(a.include_folders)::text, "
    "array_to_json(a.exclude_folders)::text, a.interval_seconds, a.owner, "
    "a.delete_after_archive, (extract(epoch from a.last_attempt_at) * 1000000)::bigint, "
    "(extract(epoch from a.last_finished_at) * 1000000)::bigint, "
    "extract(epoch from a.last_success_at)::bigint, extract(epoch from a.next_sync_at)::bigint, "
    "a.failures, a.last_error, COALESCE(a.lease_owner, ''), a.idle, COALESCE(a.idle_owner, '')";

constexpr const char* kFolderColumns =
    "id, name, uidvalidity, last_uid, messages_archived, extract(epoch from "
    "last_synced_at)::bigint, "
    "gone";

std::vector<std::string> json_strings(const std::string& text) {
  std::vector<std::string> out;
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_array()) {
    for (const auto& v : j)
      if (v.is_string())
        out.push_back(v.get<std::string>());
  }
  return out;
}

std::string hex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (char c : bytes) {
    auto b = static_cast<unsigned char>(c);
    out += kDigits[b >> 4];
    out += kDigits[b & 0xF];
  }
  return out;
}

std::string json_array(const std::vector<std::string>& items) {
  return nlohmann::json(items).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

template <typename T>
std::optional<T> opt(const pqxx::field& f) {
  if (f.is_null())
    return std::nullopt;
  return f.as<T>();
}

FolderState read_folder(const pqxx::row& r) {
  FolderState f;
  f.id = r[0].as<std::int64_t>();
  f.name = r[1].as<std::string>();
  f.uidvalidity = static_cast<std::uint32_t>(r[2].as<std::int64_t>());
  f.last_uid = static_cast<std::uint32_t>(r[3].as<std::int64_t>());
  f.messages_archived = r[4].as<std::int64_t>();
  f.last_synced_at = opt<std::int64_t>(r[5]);
  f.gone = r[6].as<bool>();
  return f;
}

}  // namespace

std::string_view to_string(Protocol p) {
  return p == Protocol::kImap ? "imap" : "pop3";
}

std::string_view to_string(Tls t) {
  switch (t) {
    case Tls::kImplicit:
      return "implicit";
    case Tls::kStartTls:
      return "starttls";
    case Tls::kNone:
      return "none";
  }
  return "implicit";
}

Result<Protocol> parse_protocol(std::string_view text) {
  if (text == "imap")
    return Protocol::kImap;
  if (text == "pop3")
    return Protocol::kPop3;
  return make_error(Code::kInvalidArgument,
                    fmt::format("protocol must be imap or pop3, not '{}'", text));
}

Result<Tls> parse_tls(std::string_view text) {
  if (text == "implicit" || text == "tls" || text == "ssl")
    return Tls::kImplicit;
  if (text == "starttls" || text == "stls")
    return Tls::kStartTls;
  if (text == "none" || text == "plain")
    return Tls::kNone;
  return make_error(Code::kInvalidArgument,
                    fmt::format("tls must be implicit, starttls or none, not '{}'", text));
}

std::uint16_t default_port(Protocol p, Tls t) {
  if (p == Protocol::kImap)
    return t == Tls::kImplicit ? 993 : 143;
  return t == Tls::kImplicit ? 995 : 110;
}

Status validate(const AccountSpec& spec) {
  static const std::regex kName{"^[A-Za-z0-9][A-Za-z0-9._@+-]{0,63}$"};
  if (!std::regex_match(spec.name, kName)) {
    return make_error(Code::kInvalidArgument,
                      fmt::format("account name '{}' is invalid: use 1-64 letters, digits and . _ "
                                  "@ + - (starting with a letter or digit)",
                                  spec.name));
  }
  if (spec.host.empty() || spec.host.size() > 253 ||
      spec.host.find_first_of(" /\t\r\n") != std::string::npos) {
    return make_error(Code::kInvalidArgument, fmt::format("host '{}' is invalid", spec.host));
  }
  if (spec.username.empty())
    return make_error(Code::kInvalidArgument, "user must not be empty");
  if (spec.interval_seconds < 1)
    return make_error(Code::kInvalidArgument, "interval must be at least 1 second");
  static const std::vector<std::string_view> kImapAuth{"auto", "login", "plain", "xoauth2"};
  static const std::vector<std::string_view> kPopAuth{"auto", "user", "apop", "plain"};
  const auto& allowed = spec.protocol == Protocol::kImap ? kImapAuth : kPopAuth;
  if (std::find(allowed.begin(), allowed.end(), spec.auth) == allowed.end()) {
    return make_error(Code::kInvalidArgument,
                      fmt::format("auth '{}' is not valid for {} (use one of: {})", spec.auth,
                                  to_string(spec.protocol), fmt::join(allowed, ", ")));
  }
  if (spec.auth == "xoauth2") {
    if (spec.secret.token_command.empty() && spec.secret.token_file.empty())
      return make_error(Code::kInvalidArgument, "auth xoauth2 needs a token command or file");
  } else if (spec.secret.password.empty()) {
    return make_error(Code::kInvalidArgument,
                      "a password is required (from stdin or a file) unless auth is xoauth2");
  }
  if (spec.delete_after_archive && spec.protocol != Protocol::kPop3)
    return make_error(Code::kInvalidArgument, "delete-after-archive applies to pop3 accounts only");
  if (spec.protocol == Protocol::kPop3 &&
      (!spec.include_folders.empty() || !spec.exclude_folders.empty()))
    return make_error(Code::kInvalidArgument, "pop3 accounts have no folders to include/exclude");
  return ok_status();
}

namespace {

Account read_account(const pqxx::row& r, const crypto::MasterKey* key, bool* secret_ok,
                     std::string* secret_error) {
  Account a;
  a.id = r[0].as<std::int64_t>();
  a.spec.name = r[1].as<std::string>();
  a.spec.protocol = r[2].as<std::string>() == "pop3" ? Protocol::kPop3 : Protocol::kImap;
  a.spec.host = r[3].as<std::string>();
  a.spec.port = static_cast<std::uint16_t>(r[4].as<int>());
  a.spec.tls = parse_tls(r[5].as<std::string>()).value_or(Tls::kImplicit);
  a.spec.verify_tls = r[6].as<bool>();
  a.spec.ca_file = r[7].as<std::string>();
  a.spec.username = r[8].as<std::string>();
  a.spec.auth = r[9].as<std::string>();
  if (key != nullptr) {
    pqxx::binarystring sealed{r[10]};
    auto plain = crypto::open(*key, sealed.str(), "mailvault-account:" + a.spec.name);
    if (!plain) {
      *secret_ok = false;
      *secret_error = fmt::format("account {}: {}", a.spec.name, plain.error().message);
    } else {
      auto j = nlohmann::json::parse(*plain, nullptr, false);
      a.spec.secret.password = j.value("password", "");
      a.spec.secret.token_command = j.value("token_command", "");
      a.spec.secret.token_file = j.value("token_file", "");
    }
  }
  a.spec.include_folders = json_strings(r[11].is_null() ? "[]" : r[11].as<std::string>());
  a.spec.exclude_folders = json_strings(r[12].is_null() ? "[]" : r[12].as<std::string>());
  a.spec.interval_seconds = r[13].as<std::int32_t>();
  a.spec.owner = r[14].as<std::string>();
  a.spec.delete_after_archive = r[15].as<bool>();
  a.last_attempt_at = opt<std::int64_t>(r[16]);
  a.last_finished_at = opt<std::int64_t>(r[17]);
  a.last_success_at = opt<std::int64_t>(r[18]);
  a.next_sync_at = r[19].as<std::int64_t>();
  a.failures = r[20].as<std::int32_t>();
  a.last_error = r[21].as<std::string>();
  a.lease_owner = r[22].as<std::string>();
  a.spec.idle = r[23].as<bool>();
  a.idle_owner = r[24].as<std::string>();
  return a;
}

}  // namespace

Result<std::int64_t> AccountStore::add(const AccountSpec& spec_in) {
  AccountSpec spec = spec_in;
  if (spec.port == 0)
    spec.port = default_port(spec.protocol, spec.tls);
  if (auto st = validate(spec); !st)
    return st.error();
  nlohmann::json secret{{"password", spec.secret.password},
                        {"token_command", spec.secret.token_command},
                        {"token_file", spec.secret.token_file}};
  auto sealed = crypto::seal(key_, secret.dump(), context(spec.name));
  auto id = pg::write(pool_, "account_add", [&](pqxx::work& tx) -> std::int64_t {
    auto taken =
        tx.exec_params("SELECT 1 FROM accounts WHERE name = $1 AND removed_at IS NULL", spec.name);
    if (!taken.empty()) {
      throw pg::Abort(Code::kAlreadyExists,
                      fmt::format("an account named '{}' already exists", spec.name));
    }
    auto r = tx.exec_params1(
        "INSERT INTO accounts (name, protocol, host, port, tls, verify_tls, ca_file, username, "
        "auth, secret, include_folders, exclude_folders, interval_seconds, owner, "
        "delete_after_archive, idle) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, "
        "decode($10, 'hex'), ARRAY(SELECT json_array_elements_text($11::json)), "
        "ARRAY(SELECT json_array_elements_text($12::json)), $13, $14, $15, $16) RETURNING id",
        spec.name, std::string{to_string(spec.protocol)}, spec.host, static_cast<int>(spec.port),
        std::string{to_string(spec.tls)}, spec.verify_tls, spec.ca_file, spec.username, spec.auth,
        hex(sealed), json_array(spec.include_folders), json_array(spec.exclude_folders),
        spec.interval_seconds, spec.owner, spec.delete_after_archive, spec.idle);
    return r[0].as<std::int64_t>();
  });
  return id;
}

Result<std::vector<Account>> AccountStore::list() {
  return pg::read(pool_, "account_list", [&](pqxx::read_transaction& tx) {
    std::vector<Account> out;
    for (const auto& r : tx.exec(std::string{"SELECT "} + kAccountColumns +
                                 " FROM accounts a WHERE a.removed_at IS NULL ORDER BY a.name")) {
      out.push_back(read_account(r, nullptr, nullptr, nullptr));
    }
    for (auto& a : out) {
      for (const auto& r :
           tx.exec_params(std::string{"SELECT "} + kFolderColumns +
                              " FROM account_folders WHERE account_id = $1 ORDER BY name",
                          a.id)) {
        a.folders.push_back(read_folder(r));
        a.messages_archived += a.folders.back().messages_archived;
      }
    }
    return out;
  });
}

Result<Account> AccountStore::get(std::string_view name, bool with_secret) {
  bool secret_ok = true;
  std::string secret_error;
  auto got = pg::read(pool_, "account_get", [&](pqxx::read_transaction& tx) {
    std::optional<Account> a;
    auto rows = tx.exec_params(std::string{"SELECT "} + kAccountColumns +
                                   " FROM accounts a WHERE a.name = $1 AND a.removed_at IS NULL",
                               std::string{name});
    if (rows.empty())
      return a;
    a = read_account(rows[0], with_secret ? &key_ : nullptr, &secret_ok, &secret_error);
    for (const auto& r : tx.exec_params(std::string{"SELECT "} + kFolderColumns +
                                            " FROM account_folders WHERE account_id = $1 ORDER "
                                            "BY name",
                                        a->id)) {
      a->folders.push_back(read_folder(r));
      a->messages_archived += a->folders.back().messages_archived;
    }
    return a;
  });
  if (!got)
    return got.error();
  if (!*got)
    return make_error(Code::kNotFound, fmt::format("no account named '{}'", name));
  if (!secret_ok)
    return make_error(Code::kPermissionDenied, secret_error);
  return std::move(**got);
}

Status AccountStore::remove(std::string_view name) {
  auto n = pg::write(pool_, "account_remove", [&](pqxx::work& tx) {
    return tx
        .exec_params(
            "UPDATE accounts SET removed_at = now(), lease_owner = NULL, lease_expires_at = NULL, "
            "idle_owner = NULL, idle_expires_at = NULL WHERE name = $1 AND removed_at IS NULL",
            std::string{name})
        .affected_rows();
  });
  if (!n)
    return n.error();
  if (*n == 0)
    return make_error(Code::kNotFound, fmt::format("no account named '{}'", name));
  return ok_status();
}

Result<std::int64_t> AccountStore::request_sync(std::string_view name) {
  auto at = pg::write(pool_, "account_request_sync", [&](pqxx::work& tx) {
    std::optional<std::int64_t> t;
    auto r = tx.exec_params(
        "UPDATE accounts SET sync_requested_at = clock_timestamp(), next_sync_at = "
        "LEAST(next_sync_at, now()) WHERE name = $1 AND removed_at IS NULL "
        "RETURNING (extract(epoch from sync_requested_at) * 1000000)::bigint",
        std::string{name});
    if (!r.empty())
      t = r[0][0].as<std::int64_t>();
    return t;
  });
  if (!at)
    return at.error();
  if (!*at)
    return make_error(Code::kNotFound, fmt::format("no account named '{}'", name));
  return **at;
}

Result<std::optional<Account>> AccountStore::lease_next(std::string_view worker,
                                                        std::chrono::seconds lease) {
  auto id = pg::write(pool_, "account_lease", [&](pqxx::work& tx) {
    auto r = tx.exec_params(
        "WITH c AS (SELECT id FROM accounts WHERE removed_at IS NULL AND next_sync_at <= now() "
        "AND (lease_owner IS NULL OR lease_expires_at < now()) ORDER BY next_sync_at, id LIMIT 1 "
        "FOR UPDATE SKIP LOCKED) "
        "UPDATE accounts a SET lease_owner = $1, lease_expires_at = clock_timestamp() + $2 * "
        "interval '1 second', last_attempt_at = clock_timestamp() FROM c WHERE a.id = c.id "
        "RETURNING a.name",
        std::string{worker}, static_cast<std::int64_t>(lease.count()));
    return r.empty() ? std::optional<std::string>{} : std::optional{r[0][0].as<std::string>()};
  });
  if (!id)
    return id.error();
  if (!*id)
    return std::optional<Account>{};
  auto account = get(**id, true);
  if (!account) {
    // Release at once so that the error is visible and the account is retried later.
    (void)finish(0, worker, account.error());
    return account.error();
  }
  return std::optional<Account>{std::move(*account)};
}

Result<std::size_t> AccountStore::release_dead_leases(
    std::string_view owner_prefix, const std::function<bool(const std::string&)>& is_dead) {
  auto held = pg::read(pool_, "account_leases", [&](pqxx::read_transaction& tx) {
    std::vector<std::pair<std::int64_t, std::string>> out;
    for (const auto& r :
         tx.exec_params("SELECT id, lease_owner FROM accounts WHERE starts_with(lease_owner, $1) "
                        "UNION ALL SELECT id, idle_owner FROM accounts WHERE "
                        "starts_with(idle_owner, $1)",
                        std::string{owner_prefix}))
      out.emplace_back(r[0].as<std::int64_t>(), r[1].as<std::string>());
    return out;
  });
  if (!held)
    return held.error();
  std::size_t released = 0;
  for (const auto& [id, owner] : *held) {
    if (!is_dead(owner))
      continue;
    auto n = pg::write(pool_, "account_release_dead", [&](pqxx::work& tx) {
      return tx.exec_params(
                   "UPDATE accounts SET lease_owner = NULL, lease_expires_at = NULL, "
                   "last_finished_at = clock_timestamp(), failures = failures + 1, "
                   "last_error = 'the worker syncing it stopped abruptly' "
                   "WHERE id = $1 AND lease_owner = $2",
                   id, owner)
                 .affected_rows() +
             tx.exec_params(
                   "UPDATE accounts SET idle_owner = NULL, idle_expires_at = NULL "
                   "WHERE id = $1 AND idle_owner = $2",
                   id, owner)
                 .affected_rows();
    });
    if (!n)
      return n.error();
    released += *n;
  }
  return released;
}

Status AccountStore::renew(std::int64_t account_id, std::string_view worker,
                           std::chrono::seconds lease) {
  auto n = pg::write(pool_, "account_renew", [&](pqxx::work& tx) {
    return tx
        .exec_params(
            "UPDATE accounts SET lease_expires_at = clock_timestamp() + $3 * interval '1 second' "
            "WHERE id = $1 AND lease_owner = $2 AND removed_at IS NULL",
            account_id, std::string{worker}, static_cast<std::int64_t>(lease.count()))
        .affected_rows();
  });
  if (!n)
    return n.error();
  if (*n == 0)
    return make_error(Code::kAborted, fmt::format("lease on account {} lost", account_id));
  return ok_status();
}

Status AccountStore::finish(std::int64_t account_id, std::string_view worker, const Status& outcome,
                            std::chrono::seconds backoff_base) {
  const bool ok = outcome.has_value();
  const std::string error = ok ? std::string{} : outcome.error().message;
  auto n = pg::write(pool_, "account_finish", [&](pqxx::work& tx) {
    // A sync requested while this one ran must not be swallowed by the new schedule.
    return tx
        .exec_params(
            "UPDATE accounts SET lease_owner = NULL, lease_expires_at = NULL, "
            "last_finished_at = clock_timestamp(), "
            "failures = CASE WHEN $3 THEN 0 ELSE failures + 1 END, "
            "last_success_at = CASE WHEN $3 THEN now() ELSE last_success_at END, "
            "last_error = $4, "
            "next_sync_at = CASE "
            "  WHEN sync_requested_at IS NOT NULL AND sync_requested_at > last_attempt_at "
            "    THEN now() "
            "  WHEN $3 THEN now() + interval_seconds * interval '1 second' "
            "  ELSE now() + LEAST(interval_seconds, 3600, $5 * power(2, LEAST(failures, 20))) * "
            "    interval '1 second' END "
            "WHERE (id = $1 OR $1 = 0) AND lease_owner = $2",
            account_id, std::string{worker}, ok, error,
            static_cast<std::int64_t>(backoff_base.count()))
        .affected_rows();
  });
  if (!n)
    return n.error();
  return ok_status();
}

Result<std::vector<Account>> AccountStore::lease_idle(std::string_view worker,
                                                      std::chrono::seconds lease,
                                                      std::size_t limit) {
  auto names = pg::write(pool_, "account_lease_idle", [&](pqxx::work& tx) {
    std::vector<std::string> out;
    for (const auto& r : tx.exec_params(
             "WITH c AS (SELECT id FROM accounts WHERE removed_at IS NULL AND protocol = 'imap' "
             "AND idle AND idle_next_at <= now() AND (idle_owner IS NULL OR idle_expires_at < "
             "now()) ORDER BY id LIMIT $3 FOR UPDATE SKIP LOCKED) "
             "UPDATE accounts a SET idle_owner = $1, idle_expires_at = clock_timestamp() + $2 * "
             "interval '1 second' FROM c WHERE a.id = c.id RETURNING a.name",
             std::string{worker}, static_cast<std::int64_t>(lease.count()),
             static_cast<std::int64_t>(limit)))
      out.push_back(r[0].as<std::string>());
    return out;
  });
  if (!names)
    return names.error();
  std::vector<Account> out;
  for (const auto& name : *names) {
    auto account = get(name, true);
    if (account) {
      out.push_back(std::move(*account));
      continue;
    }
    auto id = pg::write(pool_, "account_idle_unopenable", [&](pqxx::work& tx) {
      tx.exec_params0(
          "UPDATE accounts SET idle_owner = NULL, idle_expires_at = NULL, idle_next_at = now() + "
          "interval '1 hour' WHERE name = $1 AND removed_at IS NULL AND idle_owner = $2",
          name, std::string{worker});
    });
    if (!id)
      return id.error();
  }
  return out;
}

Result<std::vector<std::int64_t>> AccountStore::renew_idle(std::string_view worker,
                                                           std::chrono::seconds lease) {
  return pg::write(pool_, "account_renew_idle", [&](pqxx::work& tx) {
    std::vector<std::int64_t> out;
    for (const auto& r : tx.exec_params(
             "UPDATE accounts SET idle_expires_at = clock_timestamp() + $2 * interval '1 second' "
             "WHERE idle_owner = $1 AND removed_at IS NULL AND idle RETURNING id",
             std::string{worker}, static_cast<std::int64_t>(lease.count())))
      out.push_back(r[0].as<std::int64_t>());
    return out;
  });
}

Status AccountStore::release_idle(std::int64_t account_id, std::string_view worker,
                                  std::chrono::seconds hold_off) {
  return pg::write(pool_, "account_release_idle", [&](pqxx::work& tx) {
    tx.exec_params0(
        "UPDATE accounts SET idle_owner = NULL, idle_expires_at = NULL, idle_next_at = now() + $3 "
        "* interval '1 second' WHERE id = $1 AND idle_owner = $2",
        account_id, std::string{worker}, static_cast<std::int64_t>(hold_off.count()));
  });
}

Result<std::vector<FolderState>> AccountStore::folders(std::int64_t account_id) {
  return pg::read(pool_, "account_folders", [&](pqxx::read_transaction& tx) {
    std::vector<FolderState> out;
    for (const auto& r : tx.exec_params(std::string{"SELECT "} + kFolderColumns +
                                            " FROM account_folders WHERE account_id = $1",
                                        account_id))
      out.push_back(read_folder(r));
    return out;
  });
}

Result<FolderState> AccountStore::ensure_folder(std::int64_t account_id, std::string_view name) {
  return pg::write(pool_, "account_ensure_folder", [&](pqxx::work& tx) {
    tx.exec_params0(
        "INSERT INTO account_folders (account_id, name) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        account_id, std::string{name});
    return read_folder(tx.exec_params1(std::string{"SELECT "} + kFolderColumns +
                                           " FROM account_folders WHERE account_id = $1 AND "
                                           "name = $2",
                                       account_id, std::string{name}));
  });
}

Status AccountStore::reset_folder(std::int64_t folder_id, std::uint32_t uidvalidity,
                                  std::int64_t account_id, std::string_view worker) {
  return pg::write(pool_, "account_reset_folder", [&](pqxx::work& tx) {
    auto held =
        tx.exec_params("SELECT 1 FROM accounts WHERE id = $1 AND lease_owner = $2 FOR UPDATE",
                       account_id, std::string{worker});
    if (held.empty()) {
      throw pg::Abort(Code::kAborted, fmt::format("lease on account {} lost", account_id));
    }
    tx.exec_params0(
        "UPDATE account_folders SET uidvalidity = $2, last_uid = 0, gone = false WHERE id = $1",
        folder_id, static_cast<std::int64_t>(uidvalidity));
  });
}

Status AccountStore::set_folder_gone(std::int64_t folder_id, bool gone) {
  return pg::write(pool_, "account_folder_gone", [&](pqxx::work& tx) {
    tx.exec_params0("UPDATE account_folders SET gone = $2 WHERE id = $1", folder_id, gone);
  });
}

Result<std::unordered_set<std::string>> AccountStore::pop3_uidls(std::int64_t account_id) {
  return pg::read(pool_, "account_pop3_uidls", [&](pqxx::read_transaction& tx) {
    std::unordered_set<std::string> out;
    for (const auto& r :
         tx.exec_params("SELECT uidl FROM pop3_uidls WHERE account_id = $1", account_id))
      out.insert(r[0].as<std::string>());
    return out;
  });
}

Status AccountStore::record_event(std::int64_t account_id, const SyncEvent& e) {
  return pg::write(pool_, "account_event", [&](pqxx::work& tx) {
    tx.exec_params0(
        "INSERT INTO sync_events (account_id, kind, folder, worker, fetched, stored, detail) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7)",
        account_id, e.kind, e.folder, e.worker, e.fetched, e.stored, e.detail);
  });
}

Result<std::vector<SyncEvent>> AccountStore::events(std::int64_t account_id, std::size_t limit) {
  return pg::read(pool_, "account_events", [&](pqxx::read_transaction& tx) {
    std::vector<SyncEvent> out;
    for (const auto& r : tx.exec_params(
             "SELECT id, extract(epoch from at)::bigint, kind, folder, worker, fetched, stored, "
             "detail FROM sync_events WHERE account_id = $1 ORDER BY id DESC LIMIT $2",
             account_id, static_cast<std::int64_t>(limit))) {
      SyncEvent e;
      e.id = r[0].as<std::int64_t>();
      e.at = r[1].as<std::int64_t>();
      e.kind = r[2].as<std::string>();
      e.folder = r[3].as<std::string>();
      e.worker = r[4].as<std::string>();
      e.fetched = r[5].as<std::int64_t>();
      e.stored = r[6].as<std::int64_t>();
      e.detail = r[7].as<std::string>();
      out.push_back(std::move(e));
    }
    return out;
  });
}

}  // namespace mailvault::accounts
