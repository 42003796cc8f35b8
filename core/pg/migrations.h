// Schema migrations: numbered SQL files from migrations/, compiled into the binary, applied in
// order, each in its own transaction together with its row in schema_migrations.
#pragma once

#include <string_view>
#include <vector>

#include "core/base/result.h"
#include "core/pg/pool.h"

namespace mailvault::pg {

struct Migration {
  int version;
  std::string_view name;
  std::string_view sql;
};

const std::vector<Migration>& embedded_migrations();

struct MigrateSummary {
  int applied = 0;
  int current_version = 0;
};

// Applies every migration newer than the database's version. Safe to run concurrently from
// several processes (an advisory lock serialises them). Refuses a database whose version is
// newer than this binary knows (kFailedPrecondition).
Result<MigrateSummary> migrate(Pool& pool);

}  // namespace mailvault::pg
