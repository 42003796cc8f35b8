// `mailvault migrate` and `mailvault reindex`.
#include <iostream>

#include <fmt/format.h>

#include "cli/common.h"
#include "cli/serve.h"
#include "core/base/log.h"
#include "indexer/index_writer.h"
#include "indexer/queue_consumer.h"

namespace mailvault::cli {

namespace fs = std::filesystem;

int run_migrate(const CommonServerOptions& options) {
  auto services = open_services(options, /*own_pg=*/false);  // open_services migrates
  if (!services)
    return fail(services.error());
  std::cout << "database schema is up to date\n";
  return 0;
}

int run_reindex(const CommonServerOptions& options, const std::string& language) {
  auto services = open_services(options, /*own_pg=*/false);
  if (!services)
    return fail(services.error());
  auto& s = **services;
  const fs::path live = s.data_dir / "index";
  const fs::path fresh = s.data_dir / "index.new";
  const fs::path old = s.data_dir / "index.old";
  index::IndexOptions io;
  io.language = language;
  {
    // Refuse while a server writes the live index (its lock makes this open fail). Any other
    // failure (an old schema version, another language) is exactly what a rebuild repairs.
    std::error_code ec;
    if (fs::exists(live, ec)) {
      auto probe = index::IndexWriter::open(live, io);
      if (!probe && probe.error().code == Code::kUnavailable) {
        return fail(fmt::format("cannot rebuild the index: {} (stop `mailvault serve` first)",
                                probe.error().message));
      }
      if (probe && io.language.empty())
        io.language = probe->language();  // keep the index's own
    }
  }
  std::error_code ec;
  fs::remove_all(fresh, ec);
  auto writer = index::IndexWriter::open(fresh, io);
  if (!writer)
    return fail(writer.error());
  index::QueueConsumer consumer(*s.pool, *s.archive, *writer, *s.workers);
  const bool tty = stderr_is_terminal();
  auto st = consumer.reindex_all([&](std::uint64_t done, std::uint64_t total) {
    if (tty)
      std::cerr << fmt::format("\rreindexed {} of {} messages", done, total) << std::flush;
  });
  if (tty)
    std::cerr << '\n';
  if (!st)
    return fail(st.error());
  const auto count = writer->doc_count();
  // A freshly built index is about twice the size of a packed one: compact it into place.
  const fs::path packed = s.data_dir / "index.packed";
  fs::remove_all(packed, ec);
  if (auto packed_ok = writer->compact_to(packed); !packed_ok)
    return fail(packed_ok.error());
  { auto closing = std::move(*writer); }
  fs::remove_all(fresh, ec);
  fs::remove_all(old, ec);
  if (fs::exists(live, ec))
    fs::rename(live, old, ec);
  fs::rename(packed, live, ec);
  if (ec)
    return fail(fmt::format("cannot move the new index into place: {}", ec.message()));
  fs::remove_all(old, ec);
  std::cout << fmt::format("reindexed {} messages into {}\n", count, live.string());
  return 0;
}

}  // namespace mailvault::cli
