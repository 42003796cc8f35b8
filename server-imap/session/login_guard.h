// Server-wide login limits of the IMAP server: logged-in connections per user, and failed
// logins per client address.
//
// FailedLoginTracker (pure, the clock is a parameter): failures are remembered per address for
// `window` (10 minutes). The first `free_failures` (5) failures within the window cost nothing
// extra; from then on every LOGIN/AUTHENTICATE from that address is answered only after a
// delay: base_delay for the first failure beyond the allowance, doubling with each further one,
// up to max_delay. A successful login from the address forgets its failures. The table is
// bounded (max_addresses; the addresses whose last failure is oldest are forgotten first), so a
// flood of addresses costs memory in proportion to the bound, not to the flood.
//
// LoginGuard: the tracker behind a mutex, plus the count of logged-in connections per user. A
// session claims a Slot when its login succeeds; claim() refuses once the user holds
// max_connections_per_user slots (the session answers NO [LIMIT]); the slot is given back when
// the Slot is destroyed (the session ends). Thread-safe; it must outlive every Slot.
//
// Delays are served by the session's thread (one thread per connection), never by a lock, so a
// throttled address never slows down other connections.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

namespace mailvault::imapd {

struct LoginLimits {
  std::size_t max_connections_per_user = 20;
  int free_failures = 5;
  std::chrono::seconds window{10 * 60};
  std::chrono::milliseconds base_delay{2000};
  std::chrono::milliseconds max_delay{60'000};
  std::size_t max_addresses = 100'000;
};

class FailedLoginTracker {
 public:
  using Clock = std::chrono::steady_clock;

  explicit FailedLoginTracker(const LoginLimits& limits) : limits_(limits) {}

  // The delay before an attempt from `address` may be answered (zero when not throttled).
  std::chrono::milliseconds delay(std::string_view address, Clock::time_point now);

  void failed(std::string_view address, Clock::time_point now);
  void succeeded(std::string_view address);

  // Failures of `address` within the window as of `now`.
  std::size_t failures(std::string_view address, Clock::time_point now);

  [[nodiscard]] std::size_t addresses() const noexcept { return failures_.size(); }

 private:
  void expire(std::deque<Clock::time_point>& times, Clock::time_point now) const;
  void evict(Clock::time_point now);

  LoginLimits limits_;
  std::unordered_map<std::string, std::deque<Clock::time_point>> failures_;
};

class LoginGuard {
 public:
  explicit LoginGuard(const LoginLimits& limits) : limits_(limits), tracker_(limits) {}

  class Slot {
   public:
    Slot(LoginGuard* guard, std::int64_t user) : guard_(guard), user_(user) {}

    Slot(Slot&& other) noexcept
        : guard_(std::exchange(other.guard_, nullptr)), user_(other.user_) {}

    Slot& operator=(Slot&& other) noexcept;
    Slot(const Slot&) = delete;
    Slot& operator=(const Slot&) = delete;
    ~Slot();

   private:
    LoginGuard* guard_;
    std::int64_t user_;
  };

  // A slot for one more connection of `user`, or nullopt at max_connections_per_user.
  std::optional<Slot> claim(std::int64_t user);

  // Logged-in connections of `user` now.
  std::size_t connections(std::int64_t user);

  std::chrono::milliseconds delay(std::string_view address);
  void failed(std::string_view address);
  void succeeded(std::string_view address);

 private:
  void release(std::int64_t user);

  LoginLimits limits_;
  std::mutex mu_;
  FailedLoginTracker tracker_;                           // guarded by mu_
  std::unordered_map<std::int64_t, std::size_t> users_;  // guarded by mu_
};

}  // namespace mailvault::imapd
