// IdleWatchers: new mail picked up by IMAP IDLE (RFC 2177) between the ingest workers' polls.
//
// Design. The write path is untouched: a watcher never fetches or stores a message. It holds its
// own IMAP connection to one account, EXAMINEs one folder, IDLEs, and when the server announces
// new mail (EXISTS growth; Dovecot sends RECENT with it) it calls AccountStore::request_sync()
// for the account and pokes the sync workers (`on_sync_requested`): the normal leased sync
// (workers.h) then fetches the mail with its checkpoints, whichever process runs it.
//
//  * Which accounts: IMAP accounts with `idle` on (the default; `account add --no-idle` turns it
//    off) whose server advertises IDLE. A server without IDLE is noted as an `idle` event
//    (not again while that note is among the account's latest events) and asked again an hour
//    later (the account is polled meanwhile, as always).
//  * Which folder: IDLE watches one mailbox per connection. The watcher takes INBOX when the
//    account archives it (the include/exclude globs select it), else the first archived folder
//    the server lists (choose_watch_folder). Mail that lands in other folders is picked up by the
//    interval poll only.
//  * On (re)connect the watcher compares the folder's UIDVALIDITY/UIDNEXT with the checkpoint
//    and requests a sync when mail may have arrived while nobody watched (needs_sync).
//  * IDLE is re-issued every `refresh` (25 minutes by default, under RFC 2177's 29).
//  * Errors (connection lost, login refused, ...): logged, and the watcher reconnects after an
//    exponential backoff (idle_backoff). They become `idle` account events through an
//    EventThrottle, so a flapping server does not flood the history.
//  * One watcher per account over all processes: a watch lease in PostgreSQL
//    (AccountStore::lease_idle, FOR UPDATE SKIP LOCKED), separate from the sync lease, renewed
//    every lease/3 for all of this process's watchers in one statement; an account whose renewal
//    fails (removed, idle turned off, lease lost) has its watcher stopped. A crashed process's
//    leases expire and are taken over (a restarted server on the same host releases them at
//    once, see IngestWorkers). At most `max_watchers` per process; watchers are threads of their
//    own and do not take the sync concurrency slots.
//  * Stopping (destructor): every watcher's connection is closed from the stopping thread, which
//    cancels a waiting IDLE at once; a watcher in the middle of connecting stops within the
//    connect timeout. Leases are released.
//
// Thread safety: the public members may be called from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "core/accounts/account_store.h"
#include "ingest/imap/client.h"
#include "ingest/sync/sync.h"

namespace mailvault::ingest {

struct IdleOptions {
  std::size_t max_watchers = 100;        // accounts watched at once by this process; 0: none
  std::chrono::seconds lease{60};        // watch lease, renewed every lease/3
  std::chrono::milliseconds scan{5000};  // how often to look for accounts nobody watches
  // IDLE is ended with DONE and re-issued after this (RFC 2177: before 29 minutes).
  std::chrono::milliseconds refresh{25 * 60 * 1000};
  std::chrono::milliseconds backoff_base{2000};  // reconnect delay after the first error
  std::chrono::milliseconds backoff_max{5 * 60 * 1000};
  std::chrono::seconds no_idle_hold_off{3600};  // a server without IDLE is asked again after
  std::string owner;                        // lease owner; empty: "<hostname>:<pid>:<random>/idle"
  SyncOptions sync;                         // connect and I/O timeouts
  std::function<void()> on_sync_requested;  // e.g. IngestWorkers::poke
};

// Reconnect delay after `failures` errors in a row: 0 for none, then base, 2*base, 4*base, ...
// capped at `max`.
std::chrono::milliseconds idle_backoff(int failures, std::chrono::milliseconds base,
                                       std::chrono::milliseconds max);

// The mailbox to watch among those the account archives (already filtered by its globs, in
// the server's order): INBOX if it is there and selectable, else the first selectable one;
// nullptr if none is.
const imap::Mailbox* choose_watch_folder(const std::vector<imap::Mailbox>& mailboxes);

// Whether the examined folder may hold mail past its checkpoint: no checkpoint yet, another
// UIDVALIDITY, or a UIDNEXT past the last archived UID (UIDNEXT unknown: any message at all).
// An empty folder needs nothing.
bool needs_sync(const std::vector<accounts::FolderState>& checkpoints, std::string_view folder,
                const imap::MailboxState& state);

// Which watch outcomes become account events. An error is recorded unless it repeats the last
// recorded error within `repeat`; "watching" is recorded the first time and again only after a
// recorded error. A server that drops the connection every minute thus leaves at most two
// events per `repeat`.
class EventThrottle {
 public:
  using Clock = std::chrono::steady_clock;

  explicit EventThrottle(std::chrono::seconds repeat = std::chrono::hours{1}) : repeat_(repeat) {}

  bool on_error(std::string_view message, Clock::time_point now);
  bool on_watching();

 private:
  std::chrono::seconds repeat_;
  std::string last_error_;
  std::optional<Clock::time_point> last_error_at_;
  bool watching_recorded_ = false;
};

class IdleWatchers {
 public:
  // Borrows the store; starts the thread that leases accounts and starts their watchers.
  IdleWatchers(accounts::AccountStore& store, IdleOptions options);
  // Stops every watcher (see the header comment), releases the leases, joins.
  ~IdleWatchers();
  IdleWatchers(const IdleWatchers&) = delete;
  IdleWatchers& operator=(const IdleWatchers&) = delete;
  IdleWatchers(IdleWatchers&&) = delete;
  IdleWatchers& operator=(IdleWatchers&&) = delete;

  const std::string& owner() const { return options_.owner; }

  // Wakes the leasing thread (an account was added).
  void poke();

 private:
  struct Watcher;

  void run();
  void renew(std::vector<std::unique_ptr<Watcher>>& watchers);
  void lease_more(std::vector<std::unique_ptr<Watcher>>& watchers);
  void watch(Watcher& w);
  // One connection's life: connect, log in, examine, IDLE until an error or stop. `idling` is
  // set once IDLE was entered (the backoff starts over after a connection that worked).
  Status watch_once(Watcher& w, bool& idling, EventThrottle& throttle);
  void request_sync(const Watcher& w, std::string_view why);
  void record(const Watcher& w, const std::string& detail);
  // record() unless one of the account's 20 latest events says the same.
  void record_once(const Watcher& w, const std::string& detail);

  accounts::AccountStore& store_;
  IdleOptions options_;
  std::atomic<bool> stopping_{false};
  std::mutex mu_;
  std::condition_variable wake_;
  bool poked_ = false;  // under mu_: poke() or a watcher ended
  std::thread thread_;
};

}  // namespace mailvault::ingest
