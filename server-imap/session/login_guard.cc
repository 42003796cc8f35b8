#include "server-imap/session/login_guard.h"

#include <algorithm>
#include <vector>

namespace mailvault::imapd {

void FailedLoginTracker::expire(std::deque<Clock::time_point>& times, Clock::time_point now) const {
  while (!times.empty() && now - times.front() >= limits_.window)
    times.pop_front();
}

std::size_t FailedLoginTracker::failures(std::string_view address, Clock::time_point now) {
  const auto it = failures_.find(std::string{address});
  if (it == failures_.end())
    return 0;
  expire(it->second, now);
  if (it->second.empty()) {
    failures_.erase(it);
    return 0;
  }
  return it->second.size();
}

std::chrono::milliseconds FailedLoginTracker::delay(std::string_view address,
                                                    Clock::time_point now) {
  const auto n = failures(address, now);
  const auto allowed = static_cast<std::size_t>(std::max(limits_.free_failures, 0));
  if (n < allowed || limits_.base_delay.count() <= 0)
    return std::chrono::milliseconds{0};
  // base, 2 base, 4 base, ... up to max_delay (the shift is bounded before it can overflow).
  const auto doublings = std::min<std::size_t>(n - allowed, 20);
  const auto grown = limits_.base_delay * (std::int64_t{1} << doublings);
  return std::min(grown, std::max(limits_.max_delay, limits_.base_delay));
}

void FailedLoginTracker::failed(std::string_view address, Clock::time_point now) {
  auto& times = failures_[std::string{address}];
  expire(times, now);
  times.push_back(now);
  // Only the count within the window matters, and it stops mattering far beyond the point
  // where the delay reaches its maximum: keep the deque short.
  const auto cap = static_cast<std::size_t>(std::max(limits_.free_failures, 0)) + 64;
  while (times.size() > cap)
    times.pop_front();
  if (failures_.size() > limits_.max_addresses)
    evict(now);
}

void FailedLoginTracker::succeeded(std::string_view address) {
  failures_.erase(std::string{address});
}

void FailedLoginTracker::evict(Clock::time_point now) {
  for (auto it = failures_.begin(); it != failures_.end();) {
    expire(it->second, now);
    it = it->second.empty() ? failures_.erase(it) : std::next(it);
  }
  if (failures_.size() <= limits_.max_addresses)
    return;
  // Still too many: forget the addresses whose latest failure is oldest, down to 90 %.
  std::vector<std::pair<Clock::time_point, std::string>> by_age;
  by_age.reserve(failures_.size());
  for (const auto& [addr, times] : failures_)
    by_age.emplace_back(times.back(), addr);
  const auto keep = limits_.max_addresses - limits_.max_addresses / 10;
  const auto drop = by_age.size() - std::min(keep, by_age.size());
  std::nth_element(by_age.begin(), by_age.begin() + static_cast<std::ptrdiff_t>(drop),
                   by_age.end());
  for (std::size_t i = 0; i < drop; ++i)
    failures_.erase(by_age[i].second);
}

LoginGuard::Slot& LoginGuard::Slot::operator=(Slot&& other) noexcept {
  if (this != &other) {
    if (guard_ != nullptr)
      guard_->release(user_);
    guard_ = std::exchange(other.guard_, nullptr);
    user_ = other.user_;
  }
  return *this;
}

LoginGuard::Slot::~Slot() {
  if (guard_ != nullptr)
    guard_->release(user_);
}

std::optional<LoginGuard::Slot> LoginGuard::claim(std::int64_t user) {
  std::lock_guard lock(mu_);
  auto& n = users_[user];
  if (n >= limits_.max_connections_per_user)
    return std::nullopt;
  ++n;
  return Slot{this, user};
}

std::size_t LoginGuard::connections(std::int64_t user) {
  std::lock_guard lock(mu_);
  const auto it = users_.find(user);
  return it == users_.end() ? 0 : it->second;
}

void LoginGuard::release(std::int64_t user) {
  std::lock_guard lock(mu_);
  const auto it = users_.find(user);
  if (it != users_.end() && --it->second == 0)
    users_.erase(it);
}

std::chrono::milliseconds LoginGuard::delay(std::string_view address) {
  std::lock_guard lock(mu_);
  return tracker_.delay(address, FailedLoginTracker::Clock::now());
}

void LoginGuard::failed(std::string_view address) {
  std::lock_guard lock(mu_);
  tracker_.failed(address, FailedLoginTracker::Clock::now());
}

void LoginGuard::succeeded(std::string_view address) {
  std::lock_guard lock(mu_);
  tracker_.succeeded(address);
}

}  // namespace mailvault::imapd
