#include "ingest/sync/workers.h"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

#include <fmt/format.h>

#include "core/base/log.h"
#include "core/crypto/digest.h"

namespace mailvault::ingest {

std::string default_worker_id() {
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  return fmt::format("{}:{}:{}", host, ::getpid(), crypto::random_hex(4));
}

IngestWorkers::IngestWorkers(accounts::AccountStore& store, Archive& archive, WorkerOptions options)
    : store_(store), archive_(archive), options_(std::move(options)) {
  id_ = options_.worker_id.empty() ? default_worker_id() : options_.worker_id;
  if (options_.concurrency == 0)
    options_.concurrency = 1;
  release_dead_local_leases();
  for (std::size_t i = 0; i < options_.concurrency; ++i)
    threads_.emplace_back([this, i] { run(i); });
  spdlog::info("ingest: {} worker(s) as {}", options_.concurrency, id_);
}

IngestWorkers::~IngestWorkers() {
  {
    std::lock_guard lock{mu_};
    stopping_ = true;
  }
  wake_.notify_all();
  for (auto& t : threads_)
    t.join();
}

void IngestWorkers::release_dead_local_leases() {
  // Owners are "<host>:<pid>:<random>/<thread>". A lease of this host whose pid no longer runs
  // belongs to a crashed server: release it now rather than after its expiry.
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  const std::string prefix = std::string{host} + ":";
  auto released = store_.release_dead_leases(prefix, [&](const std::string& owner) {
    auto rest = owner.substr(prefix.size());
    auto colon = rest.find(':');
    if (colon == std::string::npos)
      return false;
    char* end = nullptr;
    long pid = std::strtol(rest.c_str(), &end, 10);
    if (end != rest.c_str() + colon || pid <= 0)
      return false;
    if (pid == ::getpid())
      return owner.rfind(id_, 0) != 0;  // an earlier life of this pid number: not us
    return ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH;
  });
  if (!released)
    spdlog::warn("ingest: cannot check for leases of crashed workers: {}",
                 released.error().message);
  else if (*released > 0)
    spdlog::info("ingest: released {} lease(s) of a crashed worker on this host", *released);
}

void IngestWorkers::poke() {
  {
    std::lock_guard lock{mu_};
    ++pokes_;
  }
  wake_.notify_all();
}

void IngestWorkers::run(std::size_t index) {
  // Each thread leases under its own owner name, so that one process's threads never share an
  // account either, and a lease is always renewed by the thread that does the work.
  const std::string owner = fmt::format("{}/{}", id_, index);
  while (!stopping_) {
    // A poke during lease_next must not be lost: remember the count before looking.
    std::uint64_t seen = 0;
    {
      std::lock_guard lock{mu_};
      seen = pokes_;
    }
    auto leased = store_.lease_next(owner, options_.lease);
    if (!leased) {
      spdlog::warn("ingest: cannot lease an account: {}", leased.error().message);
    } else if (*leased) {
      sync_one(**leased, owner);
      continue;  // look for more work at once
    }
    std::unique_lock lock{mu_};
    // Until the next poll, or at once on poke() (a sync was requested, an account added): the
    // predicate must see the poke, or the wait would sleep on to the end of the poll interval.
    wake_.wait_for(lock, options_.poll, [&] { return stopping_.load() || pokes_ != seen; });
  }
}

void IngestWorkers::sync_one(const accounts::Account& account, const std::string& owner) {
  const auto t0 = std::chrono::steady_clock::now();
  std::atomic<bool> cancel{false};
  // Renew the lease while the sync runs; losing it cancels the sync (another worker owns the
  // account now, and the store's fencing would refuse our commits anyway).
  std::mutex renew_mu;
  std::condition_variable renew_cv;
  bool done = false;
  std::thread renewer{[&] {
    std::unique_lock lock{renew_mu};
    while (!renew_cv.wait_for(lock, options_.lease / 3, [&] { return done; })) {
      if (stopping_)
        cancel = true;
      if (auto st = store_.renew(account.id, owner, options_.lease); !st) {
        if (st.error().code == Code::kAborted) {
          spdlog::warn("account {}: {}; stopping its sync", account.spec.name, st.error().message);
          cancel = true;
        }
      }
    }
  }};
  SyncContext ctx{store_, archive_, account, owner, &cancel, options_.sync, &stopping_};
  SyncReport report;
  Status st = sync_account(ctx, report);
  {
    std::lock_guard lock{renew_mu};
    done = true;
  }
  renew_cv.notify_all();
  renewer.join();
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  auto detail = fmt::format(
      "{} folder(s), fetched {} ({:.1f} MB), stored {}, duplicates {}, rejected {}, {:.2f} s",
      report.folders, report.fetched, static_cast<double>(report.bytes) / 1e6, report.stored,
      report.duplicates, report.rejected, secs);
  if (st) {
    if (report.fetched > 0)
      spdlog::info("account {}: synced: {}", account.spec.name, detail);
    else
      spdlog::debug("account {}: synced, nothing new ({} folders, {:.2f} s)", account.spec.name,
                    report.folders, secs);
  } else {
    spdlog::warn("account {}: sync failed: {} ({})", account.spec.name, st.error().message, detail);
  }
  (void)store_.record_event(
      account.id, accounts::make_event(st ? "sync" : "error", "", owner,
                                       st ? detail : st.error().message + " (" + detail + ")",
                                       report.fetched, report.stored));
  if (auto fin = store_.finish(account.id, owner, st); !fin)
    spdlog::warn("account {}: cannot release its lease: {}", account.spec.name,
                 fin.error().message);
}

}  // namespace mailvault::ingest
