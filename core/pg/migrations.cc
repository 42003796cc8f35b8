#include "core/pg/migrations.h"

#include <fmt/format.h>

#include "core/base/log.h"

namespace mailvault::pg {

namespace {
constexpr long long kMigrationLock = 0x6d61696c7661;  // "mailva"
}

Result<MigrateSummary> migrate(Pool& pool) {
  try {
    auto lease = pool.acquire();
    auto& conn = lease.conn();
    {
      pqxx::nontransaction nt(conn);
      nt.exec0("SET client_min_messages = warning");
      nt.exec0(
          "CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, name text "
          "NOT "
          "NULL, applied_at timestamptz NOT NULL DEFAULT now())");
      nt.exec_params("SELECT pg_advisory_lock($1)", kMigrationLock);
    }
    MigrateSummary summary;

    struct Unlock {
      pqxx::connection& c;

      ~Unlock() {
        try {
          pqxx::nontransaction nt(c);
          nt.exec_params("SELECT pg_advisory_unlock($1)", kMigrationLock);
        } catch (...) {  // NOLINT(bugprone-empty-catch): the lock dies with the session anyway
        }
      }
    } unlock{conn};

    int current = 0;
    {
      pqxx::nontransaction nt(conn);
      current = nt.exec1("SELECT coalesce(max(version), 0) FROM schema_migrations")[0].as<int>();
    }
    const auto& all = embedded_migrations();
    const int known = all.empty() ? 0 : all.back().version;
    if (current > known) {
      return make_error(
          Code::kFailedPrecondition,
          fmt::format("database schema version {} is newer than this mailvault knows ({}); "
                      "upgrade mailvault",
                      current, known));
    }
    for (const auto& m : all) {
      if (m.version <= current)
        continue;
      pqxx::work tx(conn, "migrate");
      tx.exec0(std::string{m.sql});
      tx.exec_params0("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", m.version,
                      std::string{m.name});
      tx.commit();
      spdlog::info("applied migration {}", m.name);
      ++summary.applied;
      current = m.version;
    }
    summary.current_version = current;
    return summary;
  } catch (const std::exception& e) {
    return to_error(e, "migrate");
  }
}

}  // namespace mailvault::pg
