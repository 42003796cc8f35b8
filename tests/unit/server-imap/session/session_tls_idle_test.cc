// Scripted sessions for STARTTLS (capabilities, plaintext discarded after "Begin TLS"), IDLE and
// NOOP reporting new mail, and the login guard (per-user connections, per-address delays).
#include <memory>
#include <utility>

#include <gtest/gtest.h>

#include "server-imap/session/session.h"

namespace mailvault::imapd {
namespace {

// A mailbox that grows while the test runs: add() archives a message with that UID.
class GrowingBackend : public SessionBackend {
 public:
  Result<Viewer> authenticate(std::string_view user, std::string_view password) override {
    if (password == "secret")
      return Viewer{user == "bob" ? 2 : 1, std::string{user}, true};
    return make_error(Code::kUnauthenticated, "no");
  }

  Result<std::vector<MailboxRef>> list(const Viewer& /*viewer*/) override {
    return std::vector<MailboxRef>{MailboxRef{}};
  }

  Result<std::optional<Snapshot>> open(const Viewer& /*viewer*/, std::string_view name) override {
    ++opens;
    if (name != "All Mail")
      return std::optional<Snapshot>{};
    Snapshot s;
    s.name = std::string{name};
    s.uidvalidity = 1;
    s.messages = messages;
    normalise(s.messages);
    s.uidnext = s.messages.empty() ? 1 : to_int(s.max_uid()) + 1;
    return std::optional<Snapshot>{std::move(s)};
  }

  Result<MessageBytes> read_message(const Viewer& /*viewer*/, const Snapshot& /*mailbox*/,
                                    const MessageEntry& m) override {
    return std::make_shared<const std::string>("Subject: " + std::to_string(to_int(m.uid)) +
                                               "\r\n\r\nbody\r\n");
  }

  void add(std::uint32_t uid) {
    MessageEntry e;
    e.uid = Uid{uid};
    e.id = MessageId{uid};
    e.size = 10;
    messages.push_back(e);
  }

  std::vector<MessageEntry> messages;
  int opens = 0;
};

struct Client {
  Client(SessionBackend& backend, SessionOptions o)
      : session(backend, std::move(o), [this](std::string_view b) {
          out += b;
          return true;
        }) {
    session.start();
    greeting = std::exchange(out, {});
  }

  std::string run(const std::string& bytes) {
    out.clear();
    alive = session.on_input(bytes);
    return out;
  }

  std::string out;
  std::string greeting;
  bool alive = true;
  Session session;
};

SessionOptions tls_options() {
  SessionOptions o;
  o.allow_plaintext = false;
  o.tls_available = true;
  o.failed_login_delay = std::chrono::milliseconds{0};
  return o;
}

bool has(const std::string& text, std::string_view what) {
  return text.find(what) != std::string::npos;
}

TEST(SessionTls, StartTlsChangesCapabilitiesAndDiscardsPlaintext) {
  GrowingBackend backend;
  Client c(backend, tls_options());
  EXPECT_TRUE(has(c.greeting, " STARTTLS LOGINDISABLED]")) << c.greeting;
  EXPECT_EQ(c.run("a LOGIN alice secret\r\n"),
            "a NO [PRIVACYREQUIRED] LOGIN is disabled without TLS\r\n");
  EXPECT_EQ(c.run("b AUTHENTICATE PLAIN AGFsaWNlAHNlY3JldA==\r\n"),
            "b NO [PRIVACYREQUIRED] AUTHENTICATE PLAIN is disabled without TLS\r\n");
  // A command injected after STARTTLS in the same packet is never executed.
  EXPECT_EQ(c.run("c STARTTLS\r\nd LOGIN alice secret\r\n"), "c OK Begin TLS negotiation now\r\n");
  EXPECT_TRUE(c.session.tls_requested());
  EXPECT_EQ(c.run("e LOGIN alice secret\r\n"), "");  // nothing until the handshake is done
  c.session.on_tls_started();
  EXPECT_FALSE(c.session.tls_requested());
  EXPECT_TRUE(std::holds_alternative<NotAuthenticated>(c.session.state()));
  const auto caps = c.run("f CAPABILITY\r\n");
  EXPECT_TRUE(has(caps, " AUTH=PLAIN\r\n")) << caps;
  EXPECT_FALSE(has(caps, "STARTTLS")) << caps;
  EXPECT_FALSE(has(caps, "LOGINDISABLED")) << caps;
  EXPECT_EQ(c.run("g STARTTLS\r\n"), "g BAD TLS is already active\r\n");
  EXPECT_TRUE(has(c.run("h LOGIN alice secret\r\n"), "h OK [CAPABILITY"));
}

TEST(SessionTls, NoStartTlsWithoutACertificateOrOnImplicitTls) {
  GrowingBackend backend;
  SessionOptions plain;
  plain.allow_plaintext = false;
  Client a(backend, plain);
  EXPECT_FALSE(has(a.greeting, "STARTTLS"));
  EXPECT_EQ(a.run("a STARTTLS\r\n"), "a BAD STARTTLS is not available\r\n");

  auto implicit = tls_options();
  implicit.tls_active = true;
  Client b(backend, implicit);
  EXPECT_FALSE(has(b.greeting, "STARTTLS"));
  EXPECT_TRUE(has(b.greeting, "AUTH=PLAIN]")) << b.greeting;
  EXPECT_TRUE(has(b.run("a LOGIN alice secret\r\n"), "a OK"));
}

TEST(SessionIdle, ReportsNewMessagesUntilDone) {
  GrowingBackend backend;
  backend.add(3);
  backend.add(7);
  Client c(backend, SessionOptions{});
  c.run("a LOGIN alice secret\r\n");
  EXPECT_TRUE(has(c.run("b EXAMINE \"All Mail\"\r\n"), "* 2 EXISTS"));
  EXPECT_EQ(c.run("c IDLE\r\n"), "+ idling\r\n");
  EXPECT_TRUE(c.session.idling());
  c.out.clear();
  c.session.on_idle_poll();
  EXPECT_EQ(c.out, "");
  backend.add(9);
  backend.add(5);  // below the highest UID shown: left for the next SELECT
  c.session.on_idle_poll();
  EXPECT_EQ(c.out, "* 3 EXISTS\r\n");
  c.out.clear();
  c.session.on_idle_poll();
  EXPECT_EQ(c.out, "");
  EXPECT_EQ(c.run("done\r\n"), "c OK IDLE terminated\r\n");
  EXPECT_FALSE(c.session.idling());
  const auto fetch = c.run("d FETCH 3 (UID)\r\n");
  EXPECT_EQ(fetch, "* 3 FETCH (UID 9)\r\nd OK FETCH completed\r\n");
  EXPECT_EQ(c.run("e UID SEARCH ALL\r\n"), "* SEARCH 3 7 9\r\ne OK UID SEARCH completed\r\n");
}

TEST(SessionIdle, NoopReportsNewMessagesAndOtherLinesEndIdle) {
  GrowingBackend backend;
  backend.add(1);
  Client c(backend, SessionOptions{});
  c.run("a LOGIN alice secret\r\n");
  c.run("b SELECT \"All Mail\"\r\n");
  backend.add(2);
  EXPECT_EQ(c.run("c NOOP\r\n"), "* 2 EXISTS\r\nc OK NOOP completed\r\n");
  EXPECT_EQ(c.run("d CHECK\r\n"), "d OK CHECK completed\r\n");
  backend.add(4);
  // IDLE reports at once what arrived before it started.
  EXPECT_EQ(c.run("e IDLE\r\n"), "+ idling\r\n* 3 EXISTS\r\n");
  EXPECT_EQ(c.run("f NOOP\r\n"), "e BAD expected DONE\r\n");
  EXPECT_FALSE(c.session.idling());
  // IDLE without a selected mailbox is allowed and reports nothing.
  c.run("g CLOSE\r\n");
  EXPECT_EQ(c.run("h IDLE\r\n"), "+ idling\r\n");
  c.session.on_idle_poll();
  EXPECT_EQ(c.run("DONE\r\n"), "h OK IDLE terminated\r\n");
}

TEST(SessionGuard, ConnectionsPerUserAreLimited) {
  GrowingBackend backend;
  LoginLimits limits;
  limits.max_connections_per_user = 1;
  LoginGuard guard(limits);
  SessionOptions o;
  o.guard = &guard;
  o.client_address = "127.0.0.1";
  auto first = std::make_unique<Client>(backend, o);
  EXPECT_TRUE(has(first->run("a LOGIN alice secret\r\n"), "a OK"));
  Client second(backend, o);
  EXPECT_EQ(second.run("a LOGIN alice secret\r\n"),
            "a NO [LIMIT] too many connections for alice; close some and retry\r\n");
  EXPECT_TRUE(std::holds_alternative<NotAuthenticated>(second.session.state()));
  EXPECT_TRUE(has(second.run("b LOGIN bob secret\r\n"), "b OK"));  // another user
  first.reset();  // the session ends: its slot is free
  Client third(backend, o);
  EXPECT_TRUE(has(third.run("a LOGIN alice secret\r\n"), "a OK"));
}

TEST(SessionGuard, AnAddressWithManyFailuresWaitsBeforeEveryAnswer) {
  GrowingBackend backend;
  LoginLimits limits;
  limits.free_failures = 2;
  limits.base_delay = std::chrono::milliseconds{100};
  LoginGuard guard(limits);
  std::vector<std::chrono::milliseconds> pauses;
  SessionOptions o;
  o.guard = &guard;
  o.client_address = "192.0.2.9";
  o.failed_login_delay = std::chrono::milliseconds{1};
  o.max_failed_logins = 100;
  o.pause = [&](std::chrono::milliseconds d) {
    pauses.push_back(d);
    return true;
  };
  Client c(backend, o);
  c.run("a LOGIN alice x\r\n");
  c.run("b LOGIN alice y\r\n");
  using ms = std::chrono::milliseconds;
  EXPECT_EQ(pauses, (std::vector<ms>{ms{1}, ms{1}}));  // the per-failure delay only
  pauses.clear();
  c.run("c LOGIN alice z\r\n");
  EXPECT_EQ(pauses, (std::vector<ms>{ms{100}, ms{1}}));
  pauses.clear();
  // Another connection from the same address waits too, even with the right password...
  Client d(backend, o);
  EXPECT_TRUE(has(d.run("a AUTHENTICATE PLAIN AGFsaWNlAHNlY3JldA==\r\n"), "a OK"));
  EXPECT_EQ(pauses, (std::vector<ms>{ms{200}}));
  pauses.clear();
  // ...and the success reset the address.
  c.run("d LOGIN alice w\r\n");
  EXPECT_EQ(pauses, (std::vector<ms>{ms{1}}));
  // A wait cut short by shutdown ends the session.
  o.pause = [](std::chrono::milliseconds) {
    return false;
  };
  Client e(backend, o);
  EXPECT_TRUE(has(e.run("a LOGIN alice x\r\n"), "* BYE"));
  EXPECT_FALSE(e.alive);
}

}  // namespace
}  // namespace mailvault::imapd
