// IngestWorkers: the `ingest` role of `mailvault serve`. A fixed number of threads lease due
// accounts from PostgreSQL (AccountStore::lease_next, FOR UPDATE SKIP LOCKED), sync them and
// release them, renewing each lease while the sync runs. Any number of processes may run these
// against one database: an account is worked on by one worker at a time, a crashed worker's
// lease expires and another takes over, failures back off exponentially.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/accounts/account_store.h"
#include "core/archive/archive.h"
#include "ingest/sync/sync.h"

namespace mailvault::ingest {

// "<hostname>:<pid>:<random>": how this process names itself in lease owners (sync leases add
// "/<thread>", IDLE watch leases "/idle"), so that a restarted server can tell the leases of a
// crashed process on its host (release_dead_leases).
std::string default_worker_id();

struct WorkerOptions {
  std::size_t concurrency = 4;  // accounts synced at once by this process
  std::chrono::seconds lease{60};
  std::chrono::milliseconds poll{1000};  // how often idle workers look for due accounts
  std::string worker_id;                 // empty: default_worker_id()
  SyncOptions sync;
};

class IngestWorkers {
 public:
  // Borrows store and archive; starts the threads.
  IngestWorkers(accounts::AccountStore& store, Archive& archive, WorkerOptions options);
  // Stops: running syncs are cancelled at their next message and joined.
  ~IngestWorkers();
  IngestWorkers(const IngestWorkers&) = delete;
  IngestWorkers& operator=(const IngestWorkers&) = delete;
  IngestWorkers(IngestWorkers&&) = delete;
  IngestWorkers& operator=(IngestWorkers&&) = delete;

  const std::string& worker_id() const { return id_; }

  // Wakes idle workers (an account was added or a sync requested).
  void poke();

 private:
  void run(std::size_t index);
  void release_dead_local_leases();
  void sync_one(const accounts::Account& account, const std::string& lease_owner);

  accounts::AccountStore& store_;
  Archive& archive_;
  WorkerOptions options_;
  std::string id_;
  std::atomic<bool> stopping_{false};
  std::mutex mu_;
  std::condition_variable wake_;
  std::uint64_t pokes_ = 0;  // under mu_: bumped by poke(), so that a waiting worker wakes
  std::vector<std::thread> threads_;
};

}  // namespace mailvault::ingest
