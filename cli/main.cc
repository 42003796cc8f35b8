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
  cmd_serve->add_option("--imaps-listen", serve.imaps_listen, "IMAPS listen address")
      ->capture_default_str();
  cmd_serve->add_option("--roles", serve.roles, "comma-separated roles: ingest,index,api,imap")
      ->capture_default_str();
  cmd_serve->add_option("--index-threads", serve.index_threads,
                        "threads building index documents (0: one per core)");
  cmd_serve->add_option(
      "--language", serve.language,
      "stemming language of a new index, or none (default: the index's own, else english)");
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
  if (cmd_migrate->parsed())
    return run_migrate(admin);
  if (cmd_reindex->parsed())
    return run_reindex(admin, reindex_language);
  return 1;
}
