// mailvault: one executable; `serve` runs the service, the other subcommands are its tools and
// clients. Exit status: 0 success, 1 error (one line on stderr), 2 partial (import: some inputs
// failed, the rest were archived).
#include <iostream>

#include <CLI/CLI.hpp>

#include "cli/client_commands.h"
#include "cli/common.h"
#include "cli/serve.h"
#include "core/base/log.h"

namespace {

void add_client_options(CLI::App* cmd, mailvault::cli::ClientOptions& o) {
  cmd->add_option("--data-dir", o.data_dir,
                  "server data directory (finds its address and admin token)");
  cmd->add_option("--server", o.server,
                  "server address host:port (default: from --data-dir, or $MAILVAULT_SERVER)");
  cmd->add_option("--token", o.token,
                  "API bearer token (default: $MAILVAULT_TOKEN or <data-dir>/admin.token)");
}

void add_server_options(CLI::App* cmd, mailvault::cli::CommonServerOptions& o) {
  cmd->add_option("--data-dir", o.data_dir,
                  "data directory (default $MAILVAULT_DATA_DIR, /var/lib/mailvault as root)");
  cmd->add_option("--database-url", o.database_url,
                  "PostgreSQL connection URL; without it a private PostgreSQL runs under "
                  "<data-dir>/postgres")
      ->envname("MAILVAULT_DATABASE_URL");
}

}  // namespace

int main(int argc, char** argv) {
  using namespace mailvault::cli;  // NOLINT(google-build-using-namespace): main only wires
  mailvault::log::init();
  CLI::App app{"mailvault: mail archiving and full-text search"};
  app.require_subcommand(1);
  app.fallthrough();  // global options (--log-level) may also follow the subcommand
  app.set_version_flag("--version", MAILVAULT_VERSION);
  std::string log_level = "info";
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error, off")
      ->envname("MAILVAULT_LOG_LEVEL")
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);

  ServeOptions serve;
  auto* cmd_serve = app.add_subcommand("serve", "run the service");
  add_server_options(cmd_serve, serve.common);
  cmd_serve->add_option("--grpc-listen", serve.grpc_listen, "gRPC listen address")
      ->capture_default_str();
  cmd_serve->add_option("--imap-listen", serve.imap_listen, "IMAP listen address")
      ->capture_default_str();
  cmd_serve->add_option("--imaps-listen", serve.imaps_listen,
                        "IMAPS (implicit TLS) listen address (default: none)");
  cmd_serve
      ->add_option("--imap-max-connections", serve.imap_max_connections,
                   "IMAP connections open at once (more are greeted with BYE)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd_serve
      ->add_option("--imap-idle-timeout", serve.imap_idle_timeout_seconds,
                   "seconds an IMAP client may stay silent before it is logged out")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  serve.common.body_cache_mb = 256;
  cmd_serve
      ->add_option("--body-cache-mb", serve.common.body_cache_mb,
                   "MiB of verified message bodies kept in memory for IMAP FETCH and "
                   "GetRawMessage/GetMessage reads (0: read every body from the blob store)")
      ->capture_default_str()
      ->check(CLI::Range(0, 1 << 20));
  cmd_serve
      ->add_option("--imap-fetch-threads", serve.imap_fetch_threads,
                   "threads that read, decompress and verify the bodies of an IMAP FETCH of "
                   "several messages ahead of the connection (0: the connection's own thread)")
      ->capture_default_str()
      ->check(CLI::Range(0, 16));
  cmd_serve->add_flag("--imap-store-ok", serve.imap_store_ok,
                      "IMAP STORE answers OK without changing anything (for fetchmail), "
                      "instead of NO [CANNOT]");
  cmd_serve
      ->add_option("--imap-tls-cert", serve.imap_tls_cert,
                   "PEM certificate (chain) for STARTTLS and IMAPS (default: a self-signed "
                   "one generated under <data-dir>/tls/)")
      ->check(CLI::ExistingFile);
  cmd_serve->add_option("--imap-tls-key", serve.imap_tls_key, "PEM private key of --imap-tls-cert")
      ->check(CLI::ExistingFile);
  cmd_serve
      ->add_option("--imap-plaintext-auth", serve.imap_plaintext_auth,
                   "LOGIN before TLS: auto (on loopback connections when --imap-listen is "
                   "loopback), loopback (on any loopback connection), never")
      ->capture_default_str()
      ->check(CLI::IsMember({"auto", "loopback", "never"}));
  cmd_serve
      ->add_option("--imap-max-connections-per-user", serve.imap_max_connections_per_user,
                   "IMAP connections one user may have logged in at once")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd_serve
      ->add_option("--imap-failed-login-delay-ms", serve.imap_failed_login_delay_ms,
                   "delay before a failed IMAP login is answered; also the first step of the "
                   "growing delay for an address with 5 failures in 10 minutes")
      ->capture_default_str();
  cmd_serve
      ->add_option("--imap-idle-poll-ms", serve.imap_idle_poll_ms,
                   "how often an IMAP IDLE session checks for new mail, milliseconds")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd_serve->add_option("--roles", serve.roles, "comma-separated roles: ingest,index,api,imap")
      ->capture_default_str();
  cmd_serve->add_option("--index-threads", serve.index_threads,
                        "threads building index documents (0: one per core)");
  cmd_serve
      ->add_option("--index-batch", serve.index_batch,
                   "messages per index commit when a backlog is waiting (fewer, larger commits "
                   "index faster and use more memory)")
      ->capture_default_str()
      ->check(CLI::Range(1, 100000));
  cmd_serve->add_option(
      "--language", serve.language,
      "stemming language of a new index, or none (default: the index's own, else english)");
  cmd_serve
      ->add_option("--ingest-concurrency", serve.ingest_concurrency,
                   "accounts synced at once by this process")
      ->capture_default_str();
  cmd_serve
      ->add_option("--ingest-idle-max", serve.ingest_idle_max,
                   "IMAP accounts watched by IDLE for new mail by this process (0: poll only)")
      ->capture_default_str();
  cmd_serve
      ->add_option("--master-key", serve.master_key,
                   "64 hex digits sealing account credentials (default: the key file)")
      ->envname("MAILVAULT_MASTER_KEY");
  cmd_serve->add_option("--master-key-file", serve.master_key_file,
                        "key file (default <data-dir>/master.key, created on first start)");
  cmd_serve
      ->add_option("--max-message-size", serve.common.max_message_size,
                   "largest message accepted, bytes")
      ->capture_default_str();

  ClientOptions client;
  ImportOptions import;
  auto* cmd_import =
      app.add_subcommand("import", "archive Maildir folders, mbox files and .eml files");
  add_client_options(cmd_import, client);
  cmd_import->add_option("PATH", import.paths, "files or directories")->required();
  cmd_import->add_flag("--json", import.json, "one JSON object per input message on stdout");
  cmd_import->add_option("--streams", import.streams, "concurrent upload streams")
      ->capture_default_str();

  SearchOptions search;
  auto* cmd_search =
      app.add_subcommand("search", "search the archive (see docs/query-language.md)");
  add_client_options(cmd_search, client);
  cmd_search->add_option("QUERY", search.query, "query")->required();
  cmd_search->add_option("--limit", search.limit, "results to show (0: all)")
      ->capture_default_str();
  cmd_search->add_option("--sort", search.sort, "date (newest first), oldest, relevance")
      ->capture_default_str();
  cmd_search->add_flag("--json", search.json, "one JSON object per result");

  std::int64_t show_id = 0;
  bool show_raw = false;
  bool show_json = false;
  auto* cmd_show = app.add_subcommand("show", "show one message");
  add_client_options(cmd_show, client);
  cmd_show->add_option("ID", show_id, "message id")->required();
  cmd_show->add_flag("--raw", show_raw, "write the exact archived bytes to stdout");
  cmd_show->add_flag("--json", show_json, "JSON output");

  bool status_json = false;
  auto* cmd_status = app.add_subcommand("status", "archive and index counts");
  add_client_options(cmd_status, client);
  cmd_status->add_flag("--json", status_json, "JSON output");

  AccountAddOptions account_add;
  std::string account_name;
  bool account_json = false;
  bool account_wait = false;
  std::uint32_t account_timeout = 3600;
  std::uint32_t account_limit = 50;
  auto* cmd_account = app.add_subcommand("account", "remote IMAP/POP3 accounts to archive");
  cmd_account->require_subcommand(1);
  auto* cmd_account_add = cmd_account->add_subcommand("add", "add an account");
  add_client_options(cmd_account_add, client);
  cmd_account_add->add_option("NAME", account_add.name, "account name")->required();
  cmd_account_add->add_option("--protocol", account_add.protocol, "imap or pop3")
      ->capture_default_str();
  cmd_account_add->add_option("--host", account_add.host, "server host name")->required();
  cmd_account_add->add_option("--port", account_add.port,
                              "server port (default 993/143 IMAP, 995/110 POP3)");
  cmd_account_add->add_option("--tls", account_add.tls, "implicit, starttls, or none (plaintext)")
      ->capture_default_str();
  cmd_account_add->add_option("--ca-file", account_add.ca_file,
                              "PEM CA bundle to verify the server (default: system CAs)");
  cmd_account_add->add_flag("--insecure-skip-verify", account_add.insecure_skip_verify,
                            "do not verify the server certificate (not recommended)");
  cmd_account_add->add_option("--user", account_add.user, "login name")->required();
  cmd_account_add
      ->add_option("--auth", account_add.auth,
                   "auto, login, plain, xoauth2 (IMAP); auto, user, apop, plain (POP3)")
      ->capture_default_str();
  cmd_account_add->add_flag("--password-stdin", account_add.password_stdin,
                            "read the password from the first line of stdin");
  cmd_account_add->add_option("--password-file", account_add.password_file,
                              "read the password from the first line of a file");
  cmd_account_add->add_option("--token-command", account_add.token_command,
                              "XOAUTH2: a command printing a fresh access token");
  cmd_account_add->add_option("--token-file", account_add.token_file,
                              "XOAUTH2: a file holding the current access token");
  cmd_account_add->add_option("--folder", account_add.folders,
                              "IMAP folders to archive (glob, repeatable; default all)");
  cmd_account_add->add_option("--exclude", account_add.exclude,
                              "IMAP folders to skip (glob, repeatable)");
  cmd_account_add->add_option("--interval", account_add.interval,
                              "time between syncs: seconds or 30s, 5m, 1h (default 5m)");
  cmd_account_add->add_option("--owner", account_add.owner, "owner of the mail (a user name)");
  cmd_account_add->add_flag("--delete-after-archive", account_add.delete_after_archive,
                            "POP3: delete messages at the source once archived");
  cmd_account_add->add_flag("--no-idle", account_add.no_idle,
                            "IMAP: poll at the interval only, no IDLE watch for new mail");
  cmd_account_add->add_flag("--json", account_add.json, "JSON output");
  auto* cmd_account_list = cmd_account->add_subcommand("list", "accounts with sync state");
  add_client_options(cmd_account_list, client);
  cmd_account_list->add_flag("--json", account_json, "one JSON object per account");
  auto* cmd_account_remove =
      cmd_account->add_subcommand("remove", "stop archiving an account (its mail stays)");
  add_client_options(cmd_account_remove, client);
  cmd_account_remove->add_option("NAME", account_name, "account name")->required();
  auto* cmd_account_sync = cmd_account->add_subcommand("sync", "sync an account now");
  add_client_options(cmd_account_sync, client);
  cmd_account_sync->add_option("NAME", account_name, "account name")->required();
  cmd_account_sync->add_flag("--wait", account_wait, "wait until the sync has finished");
  cmd_account_sync->add_option("--timeout", account_timeout, "with --wait: seconds")
      ->capture_default_str();
  cmd_account_sync->add_flag("--json", account_json, "JSON output");
  auto* cmd_account_history =
      cmd_account->add_subcommand("history", "recent syncs and events of an account");
  add_client_options(cmd_account_history, client);
  cmd_account_history->add_option("NAME", account_name, "account name")->required();
  cmd_account_history->add_option("--limit", account_limit, "events to show")
      ->capture_default_str();
  cmd_account_history->add_flag("--json", account_json, "one JSON object per event");

  UserAddOptions user_add;
  std::string user_name;
  bool user_json = false;
  auto* cmd_user = app.add_subcommand("user", "people who may read the archive (IMAP, API)");
  cmd_user->require_subcommand(1);
  auto* cmd_user_add = cmd_user->add_subcommand("add", "add a user");
  add_client_options(cmd_user_add, client);
  cmd_user_add->add_option("NAME", user_add.name, "user name (the IMAP login)")->required();
  cmd_user_add->add_option("--role", user_add.role, "user, auditor (sees all mail) or admin")
      ->capture_default_str();
  cmd_user_add->add_flag("--password-stdin", user_add.password_stdin,
                         "read the password from the first line of stdin (required)");
  cmd_user_add->add_option("--address", user_add.addresses,
                           "an e-mail address whose mail the user sees (repeatable)");
  cmd_user_add->add_option("--account", user_add.accounts,
                           "an account whose mail the user sees (repeatable)");
  cmd_user_add->add_flag("--json", user_add.json, "JSON output");
  auto* cmd_user_list = cmd_user->add_subcommand("list", "list users");
  add_client_options(cmd_user_list, client);
  cmd_user_list->add_flag("--json", user_json, "one JSON object per user");
  auto* cmd_user_remove = cmd_user->add_subcommand("remove", "remove a user");
  add_client_options(cmd_user_remove, client);
  cmd_user_remove->add_option("NAME", user_name, "user name")->required();

  CommonServerOptions admin;
  std::string reindex_language;
  auto* cmd_migrate = app.add_subcommand("migrate", "apply database migrations");
  add_server_options(cmd_migrate, admin);
  auto* cmd_reindex =
      app.add_subcommand("reindex", "rebuild the search index from the database and blobs");
  add_server_options(cmd_reindex, admin);
  cmd_reindex->add_option(
      "--language", reindex_language,
      "stemming language, or none (default: the current index's, else english)");

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    // The contract: exit status 1 and one line naming what is wrong.
    return fail(std::string(e.what()) + " (see mailvault --help)");
  }
  if (!mailvault::log::set_level(log_level))
    return fail("--log-level: unknown level '" + log_level + "'");

  if (cmd_serve->parsed())
    return run_serve(serve);
  if (cmd_import->parsed())
    return run_import(client, import);
  if (cmd_search->parsed())
    return run_search(client, search);
  if (cmd_show->parsed())
    return run_show(client, show_id, show_raw, show_json);
  if (cmd_status->parsed())
    return run_status(client, status_json);
  if (cmd_account_add->parsed())
    return run_account_add(client, account_add);
  if (cmd_account_list->parsed())
    return run_account_list(client, account_json);
  if (cmd_account_remove->parsed())
    return run_account_remove(client, account_name);
  if (cmd_account_sync->parsed())
    return run_account_sync(client, account_name, account_wait, account_timeout, account_json);
  if (cmd_account_history->parsed())
    return run_account_history(client, account_name, account_limit, account_json);
  if (cmd_user_add->parsed())
    return run_user_add(client, user_add);
  if (cmd_user_list->parsed())
    return run_user_list(client, user_json);
  if (cmd_user_remove->parsed())
    return run_user_remove(client, user_name);
  if (cmd_migrate->parsed())
    return run_migrate(admin);
  if (cmd_reindex->parsed())
    return run_reindex(admin, reindex_language);
  return 1;
}
