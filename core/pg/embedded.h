// The embedded default: a private PostgreSQL under <data-dir>/postgres, Unix socket only.
//
//   <data-dir>/postgres/data         the cluster (initdb on first start)
//   <data-dir>/postgres/run          the socket directory (mode 0700); no TCP listener
//   <data-dir>/postgres/postgres.log server log
//
// initdb and postgres refuse to run as root, so when this process is root the cluster belongs
// to an unprivileged system user (MAILVAULT_PG_USER, default "postgres") and the commands run
// as that user. A postmaster that outlived a crashed mailvault is reused; a stale
// postmaster.pid whose process is gone (or is not a postgres) is removed before starting.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "core/base/result.h"

namespace mailvault::pg {

class EmbeddedPostgres {
 public:
  // Starts (initialising on first use) and waits until it accepts connections.
  static Result<std::unique_ptr<EmbeddedPostgres>> start(const std::filesystem::path& data_dir);

  // libpq connection string for the `mailvault` database over the private socket.
  const std::string& conninfo() const { return conninfo_; }

  // Fast shutdown; idempotent. Also called by the destructor. A server that was already running
  // when start() was called (left by a crashed `serve`, or used by a running one) is only
  // stopped if take_ownership() was called.
  void stop();

  void take_ownership() { started_here_ = true; }

  ~EmbeddedPostgres();

  EmbeddedPostgres(const EmbeddedPostgres&) = delete;
  EmbeddedPostgres& operator=(const EmbeddedPostgres&) = delete;
  EmbeddedPostgres(EmbeddedPostgres&&) = delete;
  EmbeddedPostgres& operator=(EmbeddedPostgres&&) = delete;

 private:
  EmbeddedPostgres() = default;
  std::filesystem::path root_;
  std::filesystem::path bin_dir_;
  std::string run_as_;  // empty: this process's user
  std::string conninfo_;
  bool running_ = false;
  bool started_here_ = false;
};

}  // namespace mailvault::pg
