// Pulling one account into the archive: the shared vocabulary of imap_sync and pop3_sync.
//
// A sync resumes from the checkpoints in PostgreSQL and advances them only through
// Archive::store_batch (the same transaction as the messages they cover), so it can be killed at
// any instant: the next sync re-fetches at most the messages of the batch that was in flight,
// and SHA-256 deduplication plus the placements' unique key make that re-fetch store nothing.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "core/accounts/account_store.h"
#include "core/archive/archive.h"
#include "core/base/result.h"
#include "ingest/net/connection.h"

namespace mailvault::ingest {

struct SyncOptions {
  std::chrono::milliseconds connect_timeout{15'000};
  std::chrono::milliseconds io_timeout{120'000};
  // A store batch is committed when it reaches either bound (one transaction, one checkpoint).
  std::size_t batch_messages = 500;
  std::size_t batch_bytes = 32u << 20;
  // Batches prepared (parsed, blobs written) at once while the oldest commits; commits stay in
  // order. Memory: up to this many batches of batch_bytes.
  std::size_t batches_in_flight = 3;
  // IMAP: UIDs per UID FETCH command, and commands in flight. One: Dovecot runs pipelined
  // FETCH commands concurrently and interleaves their responses (RFC 3501 §5.5 allows it), and
  // checkpoints need the messages in UID order; a 200-UID command keeps the link busy anyway.
  std::size_t fetch_batch = 200;
  std::size_t fetch_pipeline = 1;
};

struct SyncContext {
  accounts::AccountStore& store;
  Archive& archive;
  const accounts::Account& account;           // with its secret
  std::string worker;                         // lease owner
  const std::atomic<bool>* cancel = nullptr;  // set when the lease is lost
  SyncOptions options;
  const std::atomic<bool>* stop = nullptr;  // set when the server stops
};

struct SyncReport {
  std::int64_t fetched = 0;     // messages downloaded
  std::int64_t stored = 0;      // new to the archive
  std::int64_t duplicates = 0;  // already archived (same SHA-256)
  std::int64_t rejected = 0;    // refused by the archive (empty, over the size limit)
  std::int64_t bytes = 0;       // bytes downloaded
  std::int64_t folders = 0;     // folders examined
  std::int64_t uidvalidity_changes = 0;
  std::vector<std::string> folder_errors;  // "<folder>: <reason>" for folders that failed
};

// The transport options of an account.
net::ConnectOptions connect_options(const accounts::Account& account, const SyncOptions& options);

// True when the sync should stop now (cancel flag set).
inline bool cancelled(const SyncContext& ctx) {
  return (ctx.cancel != nullptr && ctx.cancel->load(std::memory_order_relaxed)) ||
         (ctx.stop != nullptr && ctx.stop->load(std::memory_order_relaxed));
}

// Dispatches on the account's protocol. `report` counts what was done even when the sync fails
// part-way (what was committed before the failure stays committed).
Status sync_account(const SyncContext& ctx, SyncReport& report);
Status sync_imap(const SyncContext& ctx, SyncReport& report);
Status sync_pop3(const SyncContext& ctx, SyncReport& report);

// Runs `command` with /bin/sh and returns its first line of output (an XOAUTH2 access token),
// or reads the first line of `file`. kUnavailable with the command's exit status or stderr.
Result<std::string> fetch_access_token(const accounts::Secret& secret,
                                       std::chrono::milliseconds timeout);

}  // namespace mailvault::ingest
