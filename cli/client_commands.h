// Client subcommands: they speak gRPC to a running `mailvault serve`.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "cli/common.h"

namespace mailvault::cli {

struct ImportOptions {
  std::vector<std::string> paths;
  bool json = false;
  std::size_t streams = 4;  // concurrent Ingest streams (overlap the per-batch flush waits)
  std::size_t messages_per_call = 500;
  std::uint64_t max_message_size = 256ull << 20;
};

int run_import(const ClientOptions& client, const ImportOptions& options);

struct SearchOptions {
  std::string query;
  std::uint32_t limit = 20;  // 0: every hit
  bool json = false;
  std::string sort = "date";  // date | oldest | relevance
};

int run_search(const ClientOptions& client, const SearchOptions& options);

struct AccountAddOptions {
  std::string name;
  std::string protocol = "imap";
  std::string host;
  std::uint16_t port = 0;
  std::string tls = "implicit";
  std::string ca_file;
  bool insecure_skip_verify = false;
  std::string user;
  std::string auth = "auto";
  bool password_stdin = false;
  std::string password_file;
  std::string token_command;
  std::string token_file;
  std::vector<std::string> folders;
  std::vector<std::string> exclude;
  std::string interval;  // "300", "30s", "5m", "1h"
  std::string owner;
  bool delete_after_archive = false;
  bool no_idle = false;
  bool json = false;
};

// "300", "30s", "5m", "1h", "1d" -> seconds; the error names the option.
Result<std::uint32_t> parse_interval(std::string_view text);

int run_account_add(const ClientOptions& client, const AccountAddOptions& options);
int run_account_list(const ClientOptions& client, bool json);
int run_account_remove(const ClientOptions& client, const std::string& name);
int run_account_sync(const ClientOptions& client, const std::string& name, bool wait,
                     std::uint32_t timeout_s, bool json);
int run_account_history(const ClientOptions& client, const std::string& name, std::uint32_t limit,
                        bool json);

struct UserAddOptions {
  std::string name;
  std::string role = "user";
  bool password_stdin = false;
  std::vector<std::string> addresses;
  std::vector<std::string> accounts;
  bool json = false;
};

int run_user_add(const ClientOptions& client, const UserAddOptions& options);
int run_user_list(const ClientOptions& client, bool json);
int run_user_remove(const ClientOptions& client, const std::string& name);

int run_show(const ClientOptions& client, std::int64_t id, bool raw, bool json);
int run_status(const ClientOptions& client, bool json);

}  // namespace mailvault::cli
