// The pure parts of the IDLE watchers: reconnect backoff, the folder chosen to watch, whether a
// (re)connected watcher asks for a sync, and the event throttle. The watchers against Dovecot and
// PostgreSQL are covered by tests/integration/test_ingest_idle.py.
#include "ingest/sync/idle_watchers.h"

#include <gtest/gtest.h>

namespace mailvault::ingest {
namespace {

using std::chrono::milliseconds;

TEST(IngestIdleBackoffTest, DoublesFromTheBaseUpToTheCap) {
  const milliseconds base{2000};
  const milliseconds max{60'000};
  EXPECT_EQ(idle_backoff(0, base, max), milliseconds{0});
  EXPECT_EQ(idle_backoff(1, base, max), milliseconds{2000});
  EXPECT_EQ(idle_backoff(2, base, max), milliseconds{4000});
  EXPECT_EQ(idle_backoff(5, base, max), milliseconds{32'000});
  EXPECT_EQ(idle_backoff(6, base, max), max);
  EXPECT_EQ(idle_backoff(1'000'000, base, max), max);  // no overflow
}

imap::Mailbox box(std::string name, bool selectable = true) {
  imap::Mailbox m;
  m.name = m.wire_name = std::move(name);
  m.delimiter = '/';
  if (!selectable)
    m.attributes.emplace_back("\\Noselect");
  return m;
}

TEST(IngestIdleFolderTest, InboxWhenArchivedElseTheFirstSelectable) {
  std::vector<imap::Mailbox> boxes{box("Archive", false), box("Lists"), box("INBOX")};
  ASSERT_NE(choose_watch_folder(boxes), nullptr);
  EXPECT_EQ(choose_watch_folder(boxes)->name, "INBOX");
  boxes.pop_back();
  ASSERT_NE(choose_watch_folder(boxes), nullptr);
  EXPECT_EQ(choose_watch_folder(boxes)->name, "Lists");
  EXPECT_EQ(choose_watch_folder({box("Archive", false)}), nullptr);
  EXPECT_EQ(choose_watch_folder({}), nullptr);
  EXPECT_EQ(choose_watch_folder({box("INBOX", false), box("Sent")})->name, "Sent");
}

accounts::FolderState checkpoint(std::string name, std::uint32_t uidvalidity,
                                 std::uint32_t last_uid) {
  accounts::FolderState f;
  f.name = std::move(name);
  f.uidvalidity = uidvalidity;
  f.last_uid = last_uid;
  return f;
}

imap::MailboxState state(std::uint32_t uidvalidity, std::uint32_t uidnext, std::uint32_t exists) {
  return {uidvalidity, uidnext, exists};
}

TEST(IngestIdleNeedsSyncTest, ComparesTheFolderWithItsCheckpoint) {
  const std::vector<accounts::FolderState> cps{checkpoint("Lists", 7, 3),
                                               checkpoint("INBOX", 42, 10)};
  EXPECT_FALSE(needs_sync(cps, "INBOX", state(42, 11, 10)));  // everything archived
  EXPECT_FALSE(needs_sync(cps, "INBOX", state(42, 11, 4)));   // some expunged at the source
  EXPECT_TRUE(needs_sync(cps, "INBOX", state(42, 12, 11)));   // one new message
  EXPECT_TRUE(needs_sync(cps, "INBOX", state(43, 11, 10)));   // UIDVALIDITY changed
  EXPECT_TRUE(needs_sync(cps, "INBOX", state(42, 0, 10)));    // no UIDNEXT: cannot tell
  EXPECT_TRUE(needs_sync(cps, "Other", state(1, 2, 1)));      // never synced
  EXPECT_FALSE(needs_sync(cps, "Other", state(1, 1, 0)));     // empty: nothing to fetch
  EXPECT_FALSE(needs_sync({}, "INBOX", state(42, 5, 0)));
}

TEST(IngestIdleEventThrottleTest, RepeatedErrorsAndFlappingDoNotFlood) {
  using Clock = EventThrottle::Clock;
  EventThrottle t{std::chrono::seconds{3600}};
  const auto t0 = Clock::now();
  EXPECT_TRUE(t.on_watching());
  EXPECT_FALSE(t.on_watching());  // a reconnect without an error in between
  EXPECT_TRUE(t.on_error("connection closed by peer", t0));
  EXPECT_TRUE(t.on_watching());  // back after a recorded error
  // The server drops the connection every minute for an hour: nothing more is recorded.
  for (int minute = 1; minute < 60; ++minute) {
    EXPECT_FALSE(t.on_error("connection closed by peer", t0 + std::chrono::minutes{minute}));
    EXPECT_FALSE(t.on_watching());
  }
  // After the repeat period, or with another error, once more.
  EXPECT_TRUE(t.on_error("connection closed by peer", t0 + std::chrono::minutes{61}));
  EXPECT_FALSE(t.on_error("connection closed by peer", t0 + std::chrono::minutes{62}));
  EXPECT_TRUE(t.on_error("login refused", t0 + std::chrono::minutes{63}));
  EXPECT_TRUE(t.on_error("connection closed by peer", t0 + std::chrono::minutes{64}));
  EXPECT_TRUE(t.on_watching());
}

}  // namespace
}  // namespace mailvault::ingest
