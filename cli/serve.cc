// `mailvault serve`: wires the roles (ingest, index, api, imap) of one process together.
#include "cli/serve.h"

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <thread>

#include <fmt/chrono.h>
#include <fmt/format.h>

#include "api/server.h"
#include "cli/common.h"
#include "core/accounts/account_store.h"
#include "core/archive/archive.h"
#include "core/archive/tokens.h"
#include "core/base/log.h"
#include "core/blob/blob_store.h"
#include "core/crypto/aead.h"
#include "core/crypto/certificate.h"
#include "core/pg/embedded.h"
#include "core/pg/migrations.h"
#include "core/pg/pool.h"
#include "core/users/user_store.h"
#include "indexer/index_writer.h"
#include "indexer/queue_consumer.h"
#include "indexer/substring_narrower.h"
#include "ingest/sync/idle_watchers.h"
#include "ingest/sync/workers.h"
#include "server-imap/session/archive_backend.h"
#include "server-imap/session/mailbox_store.h"
#include "server-imap/session/server.h"

namespace mailvault::cli {

namespace fs = std::filesystem;

Result<std::unique_ptr<Services>> open_services(const CommonServerOptions& options, bool own_pg) {
  auto s = std::make_unique<Services>();
  s->data_dir = options.data_dir.empty() ? default_data_dir() : fs::path(options.data_dir);
  std::error_code ec;
  fs::create_directories(s->data_dir, ec);
  if (ec) {
    return make_error(Code::kUnavailable, fmt::format("cannot create data directory {}: {}",
                                                      s->data_dir.string(), ec.message()));
  }
  ::chmod(s->data_dir.c_str(), 0700);
  std::string url = options.database_url;
  if (url.empty()) {
    auto pg = pg::EmbeddedPostgres::start(s->data_dir);
    if (!pg)
      return pg.error();
    if (own_pg)
      (*pg)->take_ownership();
    url = (*pg)->conninfo();
    s->embedded = std::move(*pg);
  }
  auto pool = pg::Pool::open(url, options.db_connections);
  if (!pool)
    return pool.error();
  s->pool = std::move(*pool);
  auto migrated = pg::migrate(*s->pool);
  if (!migrated)
    return migrated.error();
  auto blobs = open_fs_blob_store(s->data_dir / "blobs");
  if (!blobs)
    return blobs.error();
  s->blobs = std::move(*blobs);
  const auto cores = std::max(1u, std::thread::hardware_concurrency());
  s->workers = std::make_unique<ThreadPool>(cores, 4096);
  ArchiveOptions archive_options;
  archive_options.max_message_size = options.max_message_size;
  archive_options.body_cache_bytes = options.body_cache_mb << 20;
  s->archive = std::make_unique<Archive>(*s->pool, *s->blobs, s->workers.get(), archive_options);
  return s;
}

namespace {

// The ingest role: the sync workers and the IDLE watchers that poke them. The watchers are
// declared last, so they stop first.
struct IngestRole {
  std::unique_ptr<ingest::IngestWorkers> workers;
  std::unique_ptr<ingest::IdleWatchers> watchers;

  void poke() {
    workers->poke();
    if (watchers)
      watchers->poke();
  }
};

std::atomic<bool> g_stop{false};

bool has_role(const std::string& roles, std::string_view role) {
  std::size_t start = 0;
  while (start <= roles.size()) {
    auto end = roles.find(',', start);
    if (end == std::string::npos)
      end = roles.size();
    if (std::string_view(roles).substr(start, end - start) == role)
      return true;
    start = end + 1;
  }
  return false;
}

Status validate_roles(const std::string& roles) {
  std::size_t start = 0;
  while (start <= roles.size()) {
    auto end = roles.find(',', start);
    if (end == std::string::npos)
      end = roles.size();
    const auto r = std::string_view(roles).substr(start, end - start);
    if (r != "ingest" && r != "index" && r != "api" && r != "imap") {
      return make_error(
          Code::kInvalidArgument,
          fmt::format("--roles: unknown role '{}' (known: ingest, index, api, imap)", r));
    }
    start = end + 1;
  }
  return {};
}

}  // namespace

namespace {

fs::path master_key_path(const ServeOptions& options, const Services& s) {
  return options.master_key_file.empty() ? s.data_dir / "master.key"
                                         : fs::path{options.master_key_file};
}

// The IMAP server's TLS context: the configured pair, else the self-signed default.
Result<std::shared_ptr<const imapd::TlsContext>> imap_tls(const ServeOptions& options,
                                                          const Services& s) {
  if (options.imap_tls_cert.empty() != options.imap_tls_key.empty()) {
    return make_error(Code::kInvalidArgument,
                      "--imap-tls-cert and --imap-tls-key must be given together");
  }
  const bool configured = !options.imap_tls_cert.empty();
  const fs::path dir = s.data_dir / "tls";
  auto pair = configured ? crypto::load_key_pair(options.imap_tls_cert, options.imap_tls_key)
                         : crypto::load_or_create_self_signed(dir);
  if (!pair)
    return pair.error();
  const std::string cert_name =
      configured ? options.imap_tls_cert : (dir / crypto::kSelfSignedCertFile).string();
  if (auto info = crypto::inspect_certificate(pair->certificate)) {
    spdlog::info("imap: TLS certificate {} ({}, {}, valid until {:%Y-%m-%d})", cert_name,
                 info->subject, info->key_type,
                 fmt::gmtime(static_cast<std::time_t>(info->not_after)));
  }
  return imapd::TlsContext::create(*pair, cert_name);
}

// One line "host:port" in `path`, as the tests and scripts read it.
void write_address_file(const fs::path& path, const std::string& address) {
  std::ofstream(path) << address << '\n';
}

}  // namespace

int run_serve(const ServeOptions& options) {
  if (auto st = validate_roles(options.roles); !st)
    return fail(st.error());
  // Signals are taken by sigwait() below; block them before any thread starts.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  auto services = open_services(options.common, /*own_pg=*/true);
  if (!services)
    return fail(services.error());
  auto& s = **services;
  if (auto st = ensure_admin_token(*s.pool, s.data_dir / "admin.token"); !st)
    return fail(st.error());

  const fs::path index_dir = s.data_dir / "index";
  std::unique_ptr<index::IndexWriter> writer;
  std::unique_ptr<index::QueueConsumer> consumer;
  std::thread indexer_thread;
  std::atomic<bool> stop_indexer{false};
  if (has_role(options.roles, "index")) {
    index::IndexOptions io;
    io.threads = options.index_threads;
    io.language = options.language;
    auto w = index::IndexWriter::open(index_dir, io);
    if (!w)
      return fail(w.error());
    writer = std::make_unique<index::IndexWriter>(std::move(*w));
    index::QueueConsumerOptions qo;
    qo.batch_size = options.index_batch;
    consumer = std::make_unique<index::QueueConsumer>(*s.pool, *s.archive, *writer, *s.workers, qo);
    indexer_thread = std::thread([&] { consumer->run(stop_indexer); });
    spdlog::info("indexer running (index in {})", index_dir.string());
  }

  // Account credentials are sealed with the master key: from the environment/option, else the
  // key file, generated on first start (the embedded default).
  auto master_key = crypto::MasterKey::load(options.master_key, master_key_path(options, s),
                                            /*create=*/true);
  if (!master_key)
    return fail(master_key.error());
  accounts::AccountStore account_store{*s.pool, *master_key};
  users::UserStore user_store{*s.pool};
  std::unique_ptr<IngestRole> ingest_workers;
  if (has_role(options.roles, "ingest")) {
    ingest_workers = std::make_unique<IngestRole>();
    ingest::WorkerOptions wo;
    wo.concurrency = options.ingest_concurrency;
    ingest_workers->workers =
        std::make_unique<ingest::IngestWorkers>(account_store, *s.archive, wo);
    if (options.ingest_idle_max > 0) {
      ingest::IdleOptions io;
      io.max_watchers = options.ingest_idle_max;
      io.owner = ingest_workers->workers->worker_id() + "/idle";
      io.on_sync_requested = [workers = ingest_workers->workers.get()] {
        workers->poke();
      };
      ingest_workers->watchers = std::make_unique<ingest::IdleWatchers>(account_store, io);
    }
  }

  std::unique_ptr<api::Server> grpc_server;
  if (has_role(options.roles, "api")) {
    api::ServerOptions ao;
    ao.listen = options.grpc_listen;
    ao.index_dir = index_dir;
    ao.max_message_size = options.common.max_message_size;
    ao.accounts = &account_store;
    ao.users = &user_store;
    ao.on_accounts_changed = [&ingest_workers] {
      if (ingest_workers)
        ingest_workers->poke();
    };
    auto srv = api::start_server(ao, *s.pool, *s.archive);
    if (!srv) {
      stop_indexer = true;
      if (indexer_thread.joinable())
        indexer_thread.join();
      ingest_workers.reset();
      return fail(srv.error());
    }
    grpc_server = std::move(*srv);
    std::ofstream(s.data_dir / "grpc.address") << grpc_server->address() << '\n';
  }
  std::unique_ptr<imapd::MailboxStore> imap_mailboxes;
  std::unique_ptr<imapd::ArchiveBackend> imap_backend;
  std::unique_ptr<imapd::Server> imap_server;
  if (has_role(options.roles, "imap")) {
    imap_mailboxes = std::make_unique<imapd::MailboxStore>(*s.pool);
    imap_backend = std::make_unique<imapd::ArchiveBackend>(
        user_store, *imap_mailboxes, *s.archive,
        std::make_unique<index::SubstringNarrower>(index_dir));
    imapd::ServerOptions io;
    io.listen = options.imap_listen;
    io.tls_listen = options.imaps_listen;
    io.max_connections = options.imap_max_connections;
    io.idle_timeout = std::chrono::seconds{options.imap_idle_timeout_seconds};
    io.store_ok = options.imap_store_ok;
    io.fetch_threads = options.imap_fetch_threads;
    io.idle_poll_interval = std::chrono::milliseconds{options.imap_idle_poll_ms};
    io.failed_login_delay = std::chrono::milliseconds{options.imap_failed_login_delay_ms};
    io.login.max_connections_per_user = options.imap_max_connections_per_user;
    io.plaintext_auth = imapd::parse_plaintext_auth(options.imap_plaintext_auth)
                            .value_or(imapd::PlaintextAuth::kAuto);
    auto tls = imap_tls(options, s);
    if (tls)
      io.tls = std::move(*tls);
    auto srv = tls ? imapd::Server::start(io, *imap_backend)
                   : Result<std::unique_ptr<imapd::Server>>{tls.error()};
    if (!srv) {
      if (grpc_server)
        grpc_server->shutdown();
      stop_indexer = true;
      if (indexer_thread.joinable())
        indexer_thread.join();
      ingest_workers.reset();
      return fail(srv.error());
    }
    imap_server = std::move(*srv);
    write_address_file(s.data_dir / "imap.address", imap_server->address());
    if (!imap_server->tls_address().empty())
      write_address_file(s.data_dir / "imaps.address", imap_server->tls_address());
  }
  spdlog::info("mailvault serving (data in {}); stop with SIGINT or SIGTERM", s.data_dir.string());

  int sig = 0;
  sigwait(&signals, &sig);
  spdlog::info("received {}, shutting down", sig == SIGINT ? "SIGINT" : "SIGTERM");
  if (imap_server)
    imap_server->shutdown();
  if (grpc_server)
    grpc_server->shutdown();
  ingest_workers.reset();
  stop_indexer = true;
  if (indexer_thread.joinable())
    indexer_thread.join();
  consumer.reset();
  writer.reset();
  if (grpc_server) {  // only the process that wrote it (others may share the data dir)
    std::error_code ec;
    fs::remove(s.data_dir / "grpc.address", ec);
  }
  if (imap_server) {
    imap_server.reset();
    std::error_code ec;
    fs::remove(s.data_dir / "imap.address", ec);
    fs::remove(s.data_dir / "imaps.address", ec);
  }
  return 0;
}

}  // namespace mailvault::cli
