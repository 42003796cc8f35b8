// `mailvault import PATH...`: walks Maildirs, mbox files and .eml files, sends the messages
// through gRPC Ingest (several streams at once, bounded calls), and reports per message.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <iostream>
#include <mutex>
#include <optional>
#include <thread>

#include <fmt/format.h>
#include <grpcpp/grpcpp.h>

#include "cli/client_commands.h"
#include "ingest/import/message_source.h"
#include "mailvault/v1/archive.grpc.pb.h"

#include <nlohmann/json.hpp>

namespace mailvault::cli {
namespace {

namespace pb = mailvault::v1;
using Clock = std::chrono::steady_clock;

struct Item {
  ingest::SourceMessage msg;
};

// What the scanner produced, handed to the sender threads; bounded so memory stays flat.
class Queue {
 public:
  explicit Queue(std::size_t max_bytes) : max_bytes_(max_bytes) {}

  void push(Item item) {
    std::unique_lock lock(mu_);
    room_.wait(lock, [&] { return bytes_ < max_bytes_ || items_.empty(); });
    bytes_ += item.msg.raw.size();
    items_.push_back(std::move(item));
    ready_.notify_one();
  }

  void close() {
    std::lock_guard lock(mu_);
    closed_ = true;
    ready_.notify_all();
  }

  // Up to n items; empty when closed and drained.
  std::vector<Item> pop(std::size_t n, std::size_t max_bytes) {
    std::unique_lock lock(mu_);
    ready_.wait(lock, [&] { return !items_.empty() || closed_; });
    std::vector<Item> out;
    std::size_t taken = 0;
    while (!items_.empty() && out.size() < n &&
           (out.empty() || taken + items_.front().msg.raw.size() <= max_bytes)) {
      taken += items_.front().msg.raw.size();
      bytes_ -= items_.front().msg.raw.size();
      out.push_back(std::move(items_.front()));
      items_.pop_front();
    }
    room_.notify_all();
    return out;
  }

 private:
  std::mutex mu_;
  std::condition_variable ready_;
  std::condition_variable room_;
  std::deque<Item> items_;
  std::size_t bytes_ = 0;
  std::size_t max_bytes_;
  bool closed_ = false;
};

struct Totals {
  std::atomic<std::uint64_t> read{0}, stored{0}, duplicates{0}, failed{0}, bytes{0};
};

std::string location_of(const ingest::SourceMessage& m) {
  return m.offset ? fmt::format("{}#{}", m.path, *m.offset) : m.path;
}

}  // namespace

int run_import(const ClientOptions& client_options, const ImportOptions& options) {
  if (options.paths.empty())
    return fail("import: give at least one PATH (Maildir, mbox or .eml)");
  auto client = Client::connect(client_options);
  if (!client)
    return fail(client.error());
  auto stub = pb::ArchiveService::NewStub(client->channel());

  Totals totals;
  std::mutex out_mu;
  std::vector<std::string> failures;  // reasons, for the summary
  auto emit = [&](const nlohmann::json& j) {
    std::lock_guard lock(out_mu);
    std::cout << j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
  };
  auto note_failure = [&](const std::string& where, const std::string& reason) {
    std::lock_guard lock(out_mu);
    if (failures.size() < 50)
      failures.push_back(fmt::format("{}: {}", where, reason));
  };

  Queue queue(256u << 20);
  std::atomic<bool> fatal{false};
  std::string fatal_message;
  std::mutex fatal_mu;

  auto sender = [&] {
    for (;;) {
      auto batch = queue.pop(options.messages_per_call, 64u << 20);
      if (batch.empty())
        return;
      if (fatal.load())
        continue;  // drain without sending
      grpc::ClientContext ctx;
      client->prepare(ctx);
      pb::IngestResponse resp;
      auto writer = stub->Ingest(&ctx, &resp);
      pb::IngestRequest req;
      for (auto& item : batch) {
        req.set_raw(item.msg.raw);
        req.set_source("import");
        req.set_folder(item.msg.folder);
        req.set_location(location_of(item.msg));
        req.set_internal_date(item.msg.internal_date);
        req.clear_flags();
        for (const auto& f : item.msg.flags)
          req.add_flags(f);
        if (!writer->Write(req))
          break;
      }
      writer->WritesDone();
      auto status = writer->Finish();
      if (!status.ok() || static_cast<std::size_t>(resp.outcomes_size()) != batch.size()) {
        std::lock_guard lock(fatal_mu);
        fatal = true;
        fatal_message = status.ok() ? "server returned a short answer"
                                    : fmt::format("Ingest failed: {}", status.error_message());
        continue;
      }
      for (std::size_t i = 0; i < batch.size(); ++i) {
        const auto& o = resp.outcomes(static_cast<int>(i));
        const auto& m = batch[i].msg;
        totals.read++;
        totals.bytes += m.raw.size();
        std::string outcome;
        switch (o.kind()) {
          case pb::IngestOutcome::STORED:
            totals.stored++;
            outcome = "stored";
            break;
          case pb::IngestOutcome::DUPLICATE:
            totals.duplicates++;
            outcome = "duplicate";
            break;
          default:
            totals.failed++;
            outcome = "rejected";
            note_failure(location_of(m), o.reason());
            break;
        }
        if (options.json) {
          nlohmann::json j = {{"path", m.path}, {"outcome", outcome}};
          if (m.offset)
            j["offset"] = *m.offset;
          if (o.id() != 0)
            j["id"] = o.id();
          if (!o.sha256().empty())
            j["sha256"] = o.sha256();
          if (!o.message_id().empty())
            j["message_id"] = o.message_id();
          if (!o.reason().empty())
            j[outcome == "rejected" ? "reason" : "problems"] = o.reason();
          emit(j);
        }
      }
    }
  };

  const auto start = Clock::now();
  std::atomic<bool> done{false};
  std::thread progress;
  if (stderr_is_terminal() && !options.json) {
    progress = std::thread([&] {
      while (!done.load()) {
        std::this_thread::sleep_for(std::chrono::milliseconds(500));
        const double secs = std::chrono::duration<double>(Clock::now() - start).count();
        std::cerr << fmt::format("\rimported {} messages ({:.0f} msg/s, {:.1f} MB/s)   ",
                                 totals.read.load(), totals.read.load() / secs,
                                 totals.bytes.load() / secs / 1e6)
                  << std::flush;
      }
    });
  }
  std::vector<std::thread> senders;
  for (std::size_t i = 0; i < std::max<std::size_t>(1, options.streams); ++i)
    senders.emplace_back(sender);

  ingest::ImportScanOptions scan_options;
  scan_options.max_message_size = options.max_message_size;
  std::uint64_t scan_problems = 0;
  ingest::scan_sources(
      options.paths, scan_options,
      [&](ingest::SourceMessage&& m) { queue.push(Item{std::move(m)}); },
      [&](ingest::SourceProblem&& p) {
        ++scan_problems;
        totals.failed++;
        const std::string where = p.offset ? fmt::format("{}#{}", p.path, *p.offset) : p.path;
        note_failure(where, p.reason);
        if (options.json) {
          nlohmann::json j = {{"path", p.path}, {"outcome", "failed"}, {"reason", p.reason}};
          if (p.offset)
            j["offset"] = *p.offset;
          emit(j);
        }
      });
  queue.close();
  for (auto& t : senders)
    t.join();
  done = true;
  if (progress.joinable()) {
    progress.join();
    std::cerr << '\n';
  }
  if (fatal.load())
    return fail(fatal_message);

  const double secs = std::chrono::duration<double>(Clock::now() - start).count();
  const auto summary = fmt::format(
      "read {} messages: {} stored, {} duplicates, {} failed ({:.1f} s, {:.0f} msg/s, {:.1f} MB/s)",
      totals.read.load() + scan_problems, totals.stored.load(), totals.duplicates.load(),
      totals.failed.load(), secs, totals.read.load() / std::max(secs, 1e-9),
      totals.bytes.load() / std::max(secs, 1e-9) / 1e6);
  std::cerr << summary << '\n';
  for (const auto& f : failures)
    std::cerr << "  failed: " << f << '\n';
  if (totals.failed.load() > failures.size()) {
    std::cerr << fmt::format("  ... and {} more failures\n",
                             totals.failed.load() - failures.size());
  }
  return totals.failed.load() == 0 ? 0 : 2;
}

}  // namespace mailvault::cli
