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

int run_show(const ClientOptions& client, std::int64_t id, bool raw, bool json);
int run_status(const ClientOptions& client, bool json);

}  // namespace mailvault::cli
