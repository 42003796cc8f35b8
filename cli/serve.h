// Server-side subcommands: serve, migrate, reindex (they open the database and stores directly).
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "core/archive/archive.h"
#include "core/base/result.h"
#include "core/base/thread_pool.h"
#include "core/blob/blob_store.h"
#include "core/pg/embedded.h"
#include "core/pg/pool.h"

namespace mailvault::cli {

struct CommonServerOptions {
  std::string data_dir;
  std::string database_url;
  std::size_t db_connections = 16;
  std::uint64_t max_message_size = 256ull << 20;
  std::size_t body_cache_mb = 0;  // ArchiveOptions::body_cache_bytes in MiB (serve: 256)
};

struct ServeOptions {
  CommonServerOptions common;
  std::string grpc_listen = "127.0.0.1:50051";
  std::string imap_listen = "127.0.0.1:1143";
  std::string imaps_listen;  // empty: no implicit-TLS port
  std::size_t imap_max_connections = 200;
  std::uint32_t imap_idle_timeout_seconds = 30 * 60;
  bool imap_store_ok = false;  // IMAP STORE answers OK without effect instead of NO [CANNOT]
  std::size_t imap_fetch_threads = 2;  // per FETCH of several bodies; 0: the session reads
  std::string imap_tls_cert;           // empty (with imap_tls_key): <data-dir>/tls/, self-signed
  std::string imap_tls_key;
  std::string imap_plaintext_auth = "auto";
  std::size_t imap_max_connections_per_user = 20;
  std::uint32_t imap_failed_login_delay_ms = 2000;
  std::uint32_t imap_idle_poll_ms = 2000;
  std::string roles = "ingest,index,api,imap";
  std::size_t index_threads = 0;  // 0: one per core
  std::string language;           // empty: the index's own language ("english" for a new index)
  std::size_t ingest_concurrency = 4;  // accounts synced at once by this process
  std::size_t index_batch = 1000;      // messages per index commit at most
  std::size_t ingest_idle_max = 100;   // IMAP accounts watched by IDLE by this process; 0: none
  std::string master_key;              // 64 hex digits (--master-key / $MAILVAULT_MASTER_KEY)
  std::string master_key_file;         // default <data-dir>/master.key
};

// The storage side every server-side command needs, in teardown order.
struct Services {
  std::filesystem::path data_dir;
  std::unique_ptr<pg::EmbeddedPostgres> embedded;
  std::unique_ptr<pg::Pool> pool;
  std::unique_ptr<BlobStore> blobs;
  std::unique_ptr<ThreadPool> workers;
  std::unique_ptr<Archive> archive;

  ~Services() {
    archive.reset();
    workers.reset();
    pool.reset();  // close connections before stopping the embedded server
    embedded.reset();
  }

  Services() = default;
  Services(const Services&) = delete;
  Services& operator=(const Services&) = delete;
  Services(Services&&) = delete;
  Services& operator=(Services&&) = delete;
};

// Opens the database (starting the embedded PostgreSQL when no URL is given), applies
// migrations and opens the blob store. `own_pg`: stop the embedded server at exit even if it
// was already running.
Result<std::unique_ptr<Services>> open_services(const CommonServerOptions& options, bool own_pg);

int run_serve(const ServeOptions& options);
int run_migrate(const CommonServerOptions& options);
int run_reindex(const CommonServerOptions& options, const std::string& language);

}  // namespace mailvault::cli
