#include "ingest/sync/idle_watchers.h"

#include <algorithm>
#include <utility>

#include <fmt/format.h>

#include "core/base/log.h"
#include "ingest/sync/imap_login.h"
#include "ingest/sync/workers.h"

namespace mailvault::ingest {

std::chrono::milliseconds idle_backoff(int failures, std::chrono::milliseconds base,
                                       std::chrono::milliseconds max) {
  if (failures <= 0)
    return std::chrono::milliseconds{0};
  auto delay = base;
  for (int i = 1; i < failures && delay < max; ++i)
    delay *= 2;
  return std::min(delay, max);
}

const imap::Mailbox* choose_watch_folder(const std::vector<imap::Mailbox>& mailboxes) {
  const imap::Mailbox* first = nullptr;
  for (const auto& m : mailboxes) {
    if (!m.selectable())
      continue;
    if (m.name == "INBOX")  // the client spells an INBOX in any case "INBOX"
      return &m;
    if (first == nullptr)
      first = &m;
  }
  return first;
}

bool needs_sync(const std::vector<accounts::FolderState>& checkpoints, std::string_view folder,
                const imap::MailboxState& state) {
  if (state.exists == 0)
    return false;
  auto it = std::find_if(checkpoints.begin(), checkpoints.end(),
                         [&](const accounts::FolderState& f) { return f.name == folder; });
  if (it == checkpoints.end() || it->uidvalidity != state.uidvalidity)
    return true;
  return state.uidnext == 0 || state.uidnext > it->last_uid + 1;
}

bool EventThrottle::on_error(std::string_view message, Clock::time_point now) {
  if (last_error_at_ && message == last_error_ && now - *last_error_at_ < repeat_)
    return false;
  last_error_ = std::string{message};
  last_error_at_ = now;
  watching_recorded_ = false;
  return true;
}

bool EventThrottle::on_watching() {
  if (watching_recorded_)
    return false;
  watching_recorded_ = true;
  return true;
}

namespace {

// Hands the IMAP client a connection that the watcher can still close from another thread: the
// client owns this adapter, the watcher keeps a second reference to the real connection.
class SharedConnection final : public net::Connection {
 public:
  explicit SharedConnection(std::shared_ptr<net::Connection> inner) : inner_(std::move(inner)) {}

  Result<std::string> read_line(std::size_t max_bytes) override {
    return inner_->read_line(max_bytes);
  }

  Status read_exact(std::size_t n, std::string& out) override { return inner_->read_exact(n, out); }

  Status write_all(std::string_view bytes) override { return inner_->write_all(bytes); }

  Result<bool> wait_readable(std::chrono::milliseconds timeout) override {
    return inner_->wait_readable(timeout);
  }

  Status start_tls() override { return inner_->start_tls(); }

  [[nodiscard]] bool tls_active() const override { return inner_->tls_active(); }

  [[nodiscard]] std::uint64_t bytes_read() const override { return inner_->bytes_read(); }

  void close() noexcept override { inner_->close(); }

 private:
  std::shared_ptr<net::Connection> inner_;
};

}  // namespace

struct IdleWatchers::Watcher {
  accounts::Account account;  // with its secret
  std::atomic<bool> stop{false};
  std::atomic<bool> done{false};
  std::mutex mu;
  std::condition_variable cv;                   // backoff sleeps end early on stop
  std::shared_ptr<net::Connection> connection;  // the live one, under mu
  std::thread thread;

  // Any thread: ends the watch as soon as possible.
  void abort() {
    stop = true;
    std::lock_guard lock{mu};
    if (connection)
      connection->close();
    cv.notify_all();
  }
};

IdleWatchers::IdleWatchers(accounts::AccountStore& store, IdleOptions options)
    : store_(store), options_(std::move(options)) {
  if (options_.owner.empty())
    options_.owner = default_worker_id() + "/idle";
  if (options_.lease.count() < 3)
    options_.lease = std::chrono::seconds{3};
  thread_ = std::thread([this] { run(); });
  spdlog::info("ingest: up to {} IDLE watcher(s) as {}", options_.max_watchers, options_.owner);
}

IdleWatchers::~IdleWatchers() {
  {
    std::lock_guard lock{mu_};
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void IdleWatchers::poke() {
  {
    std::lock_guard lock{mu_};
    poked_ = true;
  }
  wake_.notify_all();
}

void IdleWatchers::run() {
  using Clock = std::chrono::steady_clock;
  std::vector<std::unique_ptr<Watcher>> watchers;
  auto next_renew = Clock::now();
  while (!stopping_) {
    std::erase_if(watchers, [](const std::unique_ptr<Watcher>& w) {
      if (!w->done)
        return false;
      w->thread.join();
      return true;
    });
    if (Clock::now() >= next_renew) {
      renew(watchers);
      next_renew = Clock::now() + options_.lease / 3;
    }
    lease_more(watchers);
    std::unique_lock lock{mu_};
    const auto until_renew =
        std::chrono::duration_cast<std::chrono::milliseconds>(next_renew - Clock::now());
    wake_.wait_for(lock, std::clamp(until_renew, std::chrono::milliseconds{1}, options_.scan),
                   [this] { return stopping_.load() || poked_; });
    poked_ = false;
  }
  for (auto& w : watchers)
    w->abort();
  for (auto& w : watchers)
    w->thread.join();
}

void IdleWatchers::renew(std::vector<std::unique_ptr<Watcher>>& watchers) {
  if (watchers.empty())
    return;
  auto held = store_.renew_idle(options_.owner, options_.lease);
  if (!held) {
    // The watchers go on; if the database stays away past the lease, another process may
    // start watching too, and the next renewal that works stops ours.
    spdlog::warn("ingest: cannot renew the IDLE watch leases: {}", held.error().message);
    return;
  }
  for (auto& w : watchers) {
    if (w->done || std::find(held->begin(), held->end(), w->account.id) != held->end())
      continue;
    spdlog::info(
        "account {}: IDLE watch lease gone (account removed, idle turned off, or "
        "taken over); stopping its watcher",
        w->account.spec.name);
    w->abort();
  }
}

void IdleWatchers::lease_more(std::vector<std::unique_ptr<Watcher>>& watchers) {
  if (watchers.size() >= options_.max_watchers)
    return;
  auto leased =
      store_.lease_idle(options_.owner, options_.lease, options_.max_watchers - watchers.size());
  if (!leased) {
    spdlog::warn("ingest: cannot lease accounts to watch by IDLE: {}", leased.error().message);
    return;
  }
  for (auto& account : *leased) {
    // Ours already: our lease had expired (the database was away) and we took it back.
    if (std::any_of(watchers.begin(), watchers.end(), [&](const std::unique_ptr<Watcher>& w) {
          return !w->done && w->account.id == account.id;
        }))
      continue;
    auto w = std::make_unique<Watcher>();
    w->account = std::move(account);
    Watcher& ref = *w;
    w->thread = std::thread([this, &ref] { watch(ref); });
    watchers.push_back(std::move(w));
  }
}

void IdleWatchers::watch(Watcher& w) {
  const auto& name = w.account.spec.name;
  EventThrottle throttle;
  int failures = 0;
  std::chrono::seconds hold_off{0};
  while (!w.stop) {
    bool idling = false;
    Status st = watch_once(w, idling, throttle);
    if (w.stop || st)
      break;
    if (st.error().code == Code::kUnimplemented) {
      spdlog::info("account {}: {}; polling only, asking again in {} s", name, st.error().message,
                   options_.no_idle_hold_off.count());
      record_once(w, st.error().message + "; polling at the interval only");
      hold_off = options_.no_idle_hold_off;
      break;
    }
    failures = idling ? 1 : failures + 1;
    const auto delay = idle_backoff(failures, options_.backoff_base, options_.backoff_max);
    spdlog::warn("account {}: IDLE watch: {}; reconnecting in {} ms", name, st.error().message,
                 delay.count());
    if (throttle.on_error(st.error().message, EventThrottle::Clock::now()))
      record(w, "IDLE watch failed: " + st.error().message);
    std::unique_lock lock{w.mu};
    w.cv.wait_for(lock, delay, [&] { return w.stop.load(); });
  }
  if (auto st = store_.release_idle(w.account.id, options_.owner, hold_off); !st)
    spdlog::warn("account {}: cannot release its IDLE watch lease: {}", name, st.error().message);
  {
    std::lock_guard lock{mu_};
    w.done = true;
    poked_ = true;  // the leasing thread reaps this one
  }
  wake_.notify_all();
}

Status IdleWatchers::watch_once(Watcher& w, bool& idling, EventThrottle& throttle) {
  const auto& spec = w.account.spec;
  const auto net_options = connect_options(w.account, options_.sync);
  auto opened = net::Connection::open(net_options);
  if (!opened)
    return opened.error();
  // Destroyed last, on this thread, after `slot` made it unreachable for abort().
  std::shared_ptr<net::Connection> connection = std::move(*opened);
  {
    std::lock_guard lock{w.mu};
    if (w.stop)
      return make_error(Code::kCancelled, "stopping");
    w.connection = connection;
  }

  struct Slot {
    Watcher& w;

    ~Slot() {
      std::lock_guard lock{w.mu};
      w.connection.reset();
    }
  } slot{w};

  auto client =
      imap::Client::connect(std::make_unique<SharedConnection>(connection), net_options.tls,
                            fmt::format("imap {}:{}", spec.host, spec.port));
  if (!client)
    return client.error();
  if (auto st = (*client)->authenticate(imap_credentials(w.account, options_.sync.connect_timeout));
      !st)
    return st;
  if (!(*client)->capabilities().has("IDLE"))
    return make_error(Code::kUnimplemented, "the server does not advertise IDLE");
  auto boxes = (*client)->list(spec.include_folders, spec.exclude_folders);
  if (!boxes)
    return boxes.error();
  const imap::Mailbox* box = choose_watch_folder(*boxes);
  if (box == nullptr)
    return make_error(Code::kNotFound,
                      "no selectable folder to watch among those the account archives");
  auto state = (*client)->examine(*box);
  if (!state)
    return state.error();
  auto checkpoints = store_.folders(w.account.id);
  if (!checkpoints)
    return checkpoints.error();
  if (needs_sync(*checkpoints, box->name, *state))
    request_sync(w, fmt::format("{} may hold mail past its checkpoint", box->name));
  // Mail that arrives from here on is announced by the server in the IDLE below (an EXISTS
  // sent while IDLE starts counts too), so "watching" can be recorded before it.
  idling = true;
  spdlog::info("account {}: watching {} by IDLE", spec.name, box->name);
  if (throttle.on_watching())
    record(w, fmt::format("watching {} by IDLE", box->name));
  while (!w.stop) {
    auto woke = (*client)->idle(options_.refresh);
    if (!woke)
      return woke.error();
    if (*woke)
      request_sync(w, "IDLE announced new mail in " + box->name);
  }
  (void)(*client)->logout();
  return ok_status();
}

void IdleWatchers::request_sync(const Watcher& w, std::string_view why) {
  const auto& name = w.account.spec.name;
  if (auto at = store_.request_sync(name); !at) {
    // The interval poll still picks the mail up.
    spdlog::warn("account {}: {}, but a sync cannot be requested: {}", name, why,
                 at.error().message);
    return;
  }
  spdlog::info("account {}: {}; sync requested", name, why);
  if (options_.on_sync_requested)
    options_.on_sync_requested();
}

void IdleWatchers::record_once(const Watcher& w, const std::string& detail) {
  // The hourly re-check of a server without IDLE says the same thing each time.
  auto recent = store_.events(w.account.id, 20);
  if (recent && std::any_of(recent->begin(), recent->end(), [&](const accounts::SyncEvent& e) {
        return e.kind == "idle" && e.detail == detail;
      }))
    return;
  record(w, detail);
}

void IdleWatchers::record(const Watcher& w, const std::string& detail) {
  (void)store_.record_event(w.account.id, accounts::make_event("idle", "", options_.owner, detail));
}

}  // namespace mailvault::ingest
