// The failed-login tracker (pure, explicit clock) and the per-user connection slots.
#include "server-imap/session/login_guard.h"

#include <gtest/gtest.h>

namespace mailvault::imapd {
namespace {

using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

LoginLimits limits() {
  LoginLimits l;
  l.free_failures = 5;
  l.window = minutes{10};
  l.base_delay = milliseconds{2000};
  l.max_delay = milliseconds{60'000};
  return l;
}

TEST(FailedLoginTracker, DelayStartsAfterTheAllowanceAndGrows) {
  FailedLoginTracker t(limits());
  const auto t0 = FailedLoginTracker::Clock::time_point{} + std::chrono::hours{1};
  for (int i = 0; i < 4; ++i) {
    t.failed("192.0.2.1", t0 + seconds{i});
    EXPECT_EQ(t.delay("192.0.2.1", t0 + seconds{i}), milliseconds{0}) << i;
  }
  t.failed("192.0.2.1", t0 + seconds{4});  // the 5th failure
  EXPECT_EQ(t.delay("192.0.2.1", t0 + seconds{5}), milliseconds{2000});
  t.failed("192.0.2.1", t0 + seconds{6});
  EXPECT_EQ(t.delay("192.0.2.1", t0 + seconds{7}), milliseconds{4000});
  t.failed("192.0.2.1", t0 + seconds{8});
  EXPECT_EQ(t.delay("192.0.2.1", t0 + seconds{9}), milliseconds{8000});
  for (int i = 0; i < 30; ++i)
    t.failed("192.0.2.1", t0 + seconds{10 + i});
  EXPECT_EQ(t.delay("192.0.2.1", t0 + seconds{41}), milliseconds{60'000});  // capped
  // Other addresses are not affected.
  EXPECT_EQ(t.delay("192.0.2.2", t0 + seconds{41}), milliseconds{0});
  EXPECT_EQ(t.delay("::1", t0 + seconds{41}), milliseconds{0});
}

TEST(FailedLoginTracker, FailuresExpireAfterTheWindow) {
  FailedLoginTracker t(limits());
  const auto t0 = FailedLoginTracker::Clock::time_point{} + std::chrono::hours{1};
  for (int i = 0; i < 5; ++i)
    t.failed("a", t0 + minutes{i});  // minutes 0..4
  EXPECT_EQ(t.failures("a", t0 + minutes{5}), 5u);
  EXPECT_GT(t.delay("a", t0 + minutes{5}), milliseconds{0});
  // At minute 10 the failure of minute 0 is 10 minutes old: out of the window.
  EXPECT_EQ(t.failures("a", t0 + minutes{10}), 4u);
  EXPECT_EQ(t.delay("a", t0 + minutes{10}), milliseconds{0});
  EXPECT_EQ(t.failures("a", t0 + minutes{15}), 0u);
  EXPECT_EQ(t.addresses(), 0u);  // forgotten entirely
}

TEST(FailedLoginTracker, SuccessResets) {
  FailedLoginTracker t(limits());
  const auto t0 = FailedLoginTracker::Clock::time_point{} + std::chrono::hours{1};
  for (int i = 0; i < 7; ++i)
    t.failed("a", t0);
  EXPECT_GT(t.delay("a", t0), milliseconds{0});
  t.succeeded("a");
  EXPECT_EQ(t.delay("a", t0), milliseconds{0});
  EXPECT_EQ(t.failures("a", t0), 0u);
}

TEST(FailedLoginTracker, TableIsBounded) {
  auto l = limits();
  l.max_addresses = 100;
  FailedLoginTracker t(l);
  const auto t0 = FailedLoginTracker::Clock::time_point{} + std::chrono::hours{1};
  for (int i = 0; i < 1000; ++i)
    t.failed("10.0.0." + std::to_string(i), t0 + milliseconds{i});
  EXPECT_LE(t.addresses(), 101u);
  // The most recent addresses are the ones kept.
  EXPECT_EQ(t.failures("10.0.0.999", t0 + seconds{1}), 1u);
  EXPECT_EQ(t.failures("10.0.0.0", t0 + seconds{1}), 0u);
}

TEST(LoginGuard, ConnectionsPerUser) {
  auto l = limits();
  l.max_connections_per_user = 2;
  LoginGuard g(l);
  auto a = g.claim(7);
  auto b = g.claim(7);
  ASSERT_TRUE(a && b);
  EXPECT_FALSE(g.claim(7));
  EXPECT_TRUE(g.claim(8));  // and released at once: a temporary
  EXPECT_EQ(g.connections(7), 2u);
  EXPECT_EQ(g.connections(8), 0u);
  a.reset();
  EXPECT_EQ(g.connections(7), 1u);
  auto c = g.claim(7);
  EXPECT_TRUE(c);
  auto moved = std::move(*c);  // a moved-from slot releases nothing
  c.reset();
  EXPECT_EQ(g.connections(7), 2u);
}

}  // namespace
}  // namespace mailvault::imapd
