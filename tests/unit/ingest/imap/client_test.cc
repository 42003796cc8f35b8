// The client against a scripted in-memory server (a fake net::Connection): protocol paths that a
// real Dovecot does not produce on demand (SASL without SASL-IR, XOAUTH2 error challenges, BYE
// and EXISTS in the middle of a FETCH, out-of-order data). client_dovecot_test.cc covers the
// real server.
#include "ingest/imap/client.h"

#include <algorithm>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "ingest/imap/text.h"

namespace mailvault::ingest::imap {
namespace {

// A server scripted by a handler that sees every line the client writes (literal bytes arrive as
// lines too) and queues replies. Reading past the queued bytes is EOF (kUnavailable).
class FakeConnection : public net::Connection {
 public:
  using Handler = std::function<void(const std::string& line, FakeConnection& self)>;

  FakeConnection(std::string greeting, Handler handler, bool tls = false)
      : in_(std::move(greeting)), handler_(std::move(handler)), tls_(tls) {}

  void reply(std::string_view bytes) {
    if (!cut_) {
      in_.append(bytes);
    }
  }

  // The server dies after these bytes: nothing more is ever sent.
  void cut_after(std::string_view bytes) {
    reply(bytes);
    cut_ = true;
  }

  Result<std::string> read_line(std::size_t max_bytes) override {
    if (closed_) {
      return make_error(Code::kCancelled, "closed");
    }
    const std::size_t lf = in_.find('\n');
    if (lf == std::string::npos) {
      return make_error(Code::kUnavailable, "EOF");
    }
    std::string line = in_.substr(0, lf);
    in_.erase(0, lf + 1);
    if (line.ends_with('\r')) {
      line.pop_back();
    }
    if (line.size() > max_bytes) {
      return make_error(Code::kResourceExhausted, "line too long");
    }
    bytes_read_ += lf + 1;
    events.push_back("R " + line.substr(0, line.find(' ')));
    return line;
  }

  Status read_exact(std::size_t n, std::string& out) override {
    if (closed_) {
      return make_error(Code::kCancelled, "closed");
    }
    if (in_.size() < n) {
      return make_error(Code::kUnavailable, "EOF in literal");
    }
    out.append(in_, 0, n);
    in_.erase(0, n);
    bytes_read_ += n;
    return {};
  }

  Status write_all(std::string_view bytes) override {
    if (closed_) {
      return make_error(Code::kCancelled, "closed");
    }
    written += bytes;
    pending_ += bytes;
    std::size_t lf;
    while ((lf = pending_.find('\n')) != std::string::npos) {
      std::string line = pending_.substr(0, lf);
      pending_.erase(0, lf + 1);
      if (line.ends_with('\r')) {
        line.pop_back();
      }
      events.push_back("W " + line.substr(0, line.find(' ')));
      lines.push_back(line);
      handler_(line, *this);
    }
    return {};
  }

  // No clock here: with nothing queued the wait "times out" at once.
  Result<bool> wait_readable(std::chrono::milliseconds /*timeout*/) override {
    if (closed_) {
      return make_error(Code::kCancelled, "closed");
    }
    ++waits;
    return !in_.empty();
  }

  Status start_tls() override {
    tls_ = true;
    ++start_tls_calls;
    return {};
  }

  [[nodiscard]] bool tls_active() const override { return tls_; }

  [[nodiscard]] std::uint64_t bytes_read() const override { return bytes_read_; }

  void close() noexcept override { closed_ = true; }

  std::string written;
  int waits = 0;
  std::vector<std::string> lines;
  std::vector<std::string> events;
  int start_tls_calls = 0;

 private:
  std::string in_;
  Handler handler_;
  std::string pending_;
  bool tls_ = false;
  bool closed_ = false;
  bool cut_ = false;
  std::uint64_t bytes_read_ = 0;
};

std::string tag_of(const std::string& line) {
  return line.substr(0, line.find(' '));
}

std::string rest_of(const std::string& line) {
  const auto sp = line.find(' ');
  return sp == std::string::npos ? "" : line.substr(sp + 1);
}

Credentials password_creds(std::string user, std::string password,
                           AuthMechanism mechanism = AuthMechanism::kAuto,
                           bool allow_plaintext = false) {
  Credentials c;
  c.user = std::move(user);
  c.password = std::move(password);
  c.mechanism = mechanism;
  c.allow_plaintext_password = allow_plaintext;
  return c;
}

Mailbox mailbox(std::string name) {
  Mailbox m;
  m.wire_name = name;
  m.name = std::move(name);
  return m;
}

constexpr std::string_view kGreeting =
    "* OK [CAPABILITY IMAP4rev1 SASL-IR ID IDLE LITERAL+ AUTH=PLAIN] ready\r\n";

// A small in-memory IMAP server: one mailbox "INBOX" plus a few listed names, messages by UID.
struct FakeServer {
  std::map<std::uint32_t, std::string> messages;
  std::string capabilities_after_login = "IMAP4rev1 IDLE LITERAL+ ID";
  // Called before the FETCH responses of each UID FETCH for bodies; may inject responses.
  std::function<void(FakeConnection&, int fetch_index)> before_fetch;
  std::function<void(FakeConnection&, std::uint32_t uid)> after_message;
  bool reverse_order = false;
  int fetch_commands = 0;
  bool idle_news = true;  // IDLE announces a new message at once

  static std::vector<std::uint32_t> parse_set(const std::string& set) {
    std::vector<std::uint32_t> out;
    auto ranges = parse_number_set(set);
    for (const auto& r : *ranges) {
      for (std::uint32_t u = std::min(r.first, r.last); u <= std::max(r.first, r.last); ++u) {
        out.push_back(u);
      }
    }
    return out;
  }

  void handle(const std::string& line, FakeConnection& c) {
    const std::string tag = tag_of(line);
    const std::string cmd = rest_of(line);
    if (cmd.starts_with("ID ") || cmd == "CAPABILITY" || cmd.starts_with("LOGOUT")) {
      if (cmd == "CAPABILITY") {
        c.reply("* CAPABILITY IMAP4rev1 SASL-IR ID IDLE LITERAL+ AUTH=PLAIN\r\n");
      }
      if (cmd.starts_with("LOGOUT")) {
        c.reply("* BYE bye\r\n");
      }
      c.reply(tag + " OK done\r\n");
    } else if (cmd.starts_with("AUTHENTICATE PLAIN ") || cmd.starts_with("LOGIN ")) {
      c.reply(tag + " OK [CAPABILITY " + capabilities_after_login + "] Logged in\r\n");
    } else if (cmd.starts_with("LIST ")) {
      c.reply("* LIST (\\HasChildren) \"/\" INBOX\r\n");
      c.reply("* LIST (\\HasNoChildren) \"/\" \"INBOX/Pr&APw-fung\"\r\n");
      c.reply("* LIST (\\Noselect \\HasChildren) \"/\" Archive\r\n");
      c.reply("* LIST (\\HasNoChildren) \"/\" {18}\r\nArchive/&ZeVnLIqe-\r\n");
      c.reply("* LIST (\\HasNoChildren \\Junk) \"/\" Spam\r\n");
      c.reply(tag + " OK List completed\r\n");
    } else if (cmd.starts_with("EXAMINE ")) {
      c.reply("* FLAGS (\\Seen)\r\n* " + std::to_string(messages.size()) +
              " EXISTS\r\n* OK [UIDVALIDITY 42] x\r\n* OK [UIDNEXT " +
              std::to_string(messages.empty() ? 1 : messages.rbegin()->first + 1) + "] x\r\n");
      c.reply(tag + " OK [READ-ONLY] Examine completed\r\n");
    } else if (cmd.starts_with("UID FETCH ") && cmd.ends_with(" (UID)")) {
      const std::string set = cmd.substr(10, cmd.find(' ', 10) - 10);
      const std::uint32_t first = static_cast<std::uint32_t>(std::stoul(set));
      std::uint32_t seq = 0;
      bool any = false;
      for (const auto& [uid, body] : messages) {
        ++seq;
        if (uid >= first) {
          c.reply("* " + std::to_string(seq) + " FETCH (UID " + std::to_string(uid) + ")\r\n");
          any = true;
        }
      }
      if (!any && !messages.empty()) {  // "n:*" always includes the last message
        c.reply("* " + std::to_string(seq) + " FETCH (UID " +
                std::to_string(messages.rbegin()->first) + ")\r\n");
      }
      c.reply(tag + " OK Fetch completed\r\n");
    } else if (cmd.starts_with("UID FETCH ")) {
      const std::string set = cmd.substr(10, cmd.find(' ', 10) - 10);
      if (before_fetch) {
        before_fetch(c, fetch_commands);
      }
      ++fetch_commands;
      auto uids = parse_set(set);
      if (reverse_order) {
        std::reverse(uids.begin(), uids.end());
      }
      for (std::uint32_t uid : uids) {
        auto it = messages.find(uid);
        if (it == messages.end()) {
          continue;
        }
        const auto seq = std::distance(messages.begin(), it) + 1;
        c.reply("* " + std::to_string(seq) + " FETCH (UID " + std::to_string(uid) +
                " RFC822.SIZE " + std::to_string(it->second.size()) +
                " FLAGS (\\Seen) INTERNALDATE \"17-Jul-1996 02:44:25 -0700\" BODY[] {" +
                std::to_string(it->second.size()) + "}\r\n" + it->second + ")\r\n");
        if (after_message) {
          after_message(c, uid);
        }
      }
      c.reply(tag + " OK Fetch completed\r\n");
    } else if (cmd == "IDLE") {
      c.reply(idle_news ? "+ idling\r\n* 1 RECENT\r\n* " + std::to_string(messages.size() + 1) +
                              " EXISTS\r\n"
                        : std::string("+ idling\r\n"));
      idle_tag = tag;
    } else if (line == "DONE") {
      c.reply(idle_tag + " OK Idle completed\r\n");
    } else {
      c.reply(tag + " BAD unknown command\r\n");
    }
  }

  std::string idle_tag;
};

struct Harness {
  std::shared_ptr<FakeServer> server = std::make_shared<FakeServer>();
  FakeConnection* connection = nullptr;  // owned by the client
  std::unique_ptr<Client> client;

  explicit Harness(std::string greeting = std::string(kGreeting), bool tls = true,
                   net::TlsMode mode = net::TlsMode::kImplicit) {
    auto server_ref = server;
    auto c = std::make_unique<FakeConnection>(
        std::move(greeting),
        [server_ref](const std::string& line, FakeConnection& self) {
          server_ref->handle(line, self);
        },
        tls);
    connection = c.get();
    auto r = Client::connect(std::move(c), mode, "fake");
    if (r) {
      client = std::move(*r);
    } else {
      error = r.error();
    }
  }

  void login_and_examine() {
    const Credentials creds = password_creds("u", "p");
    ASSERT_TRUE(client->authenticate(creds));
    auto state = client->examine(mailbox("INBOX"));
    ASSERT_TRUE(state);
  }

  std::optional<Error> error;
};

TEST(IngestImapClientTest, GreetingCapabilitiesAndId) {
  Harness h;
  ASSERT_TRUE(h.client) << h.error->message;
  EXPECT_TRUE(h.client->capabilities().has("idle"));
  EXPECT_TRUE(h.client->capabilities().has("AUTH=plain"));
  ASSERT_FALSE(h.connection->lines.empty());
  EXPECT_EQ(h.connection->lines[0], "A1 ID (\"name\" \"mailvault\")");
}

TEST(IngestImapClientTest, GreetingWithoutCapabilitiesAsksForThem) {
  Harness h("* OK ready\r\n");
  ASSERT_TRUE(h.client);
  EXPECT_EQ(h.connection->lines[0], "A1 CAPABILITY");
  EXPECT_TRUE(h.client->capabilities().has("SASL-IR"));
}

TEST(IngestImapClientTest, ByeGreetingIsUnavailable) {
  Harness h("* BYE too many connections\r\n");
  ASSERT_FALSE(h.client);
  EXPECT_EQ(h.error->code, Code::kUnavailable);
  EXPECT_NE(h.error->message.find("too many connections"), std::string::npos);
}

TEST(IngestImapClientTest, PreauthSkipsAuthentication) {
  Harness h("* PREAUTH [CAPABILITY IMAP4rev1] welcome\r\n");
  ASSERT_TRUE(h.client);
  EXPECT_TRUE(h.client->authenticate(password_creds("u", "p")));
  EXPECT_TRUE(h.client->examine(mailbox("INBOX")));
}

TEST(IngestImapClientTest, StartTlsRequiredButNotAdvertised) {
  Harness h(std::string(kGreeting), false, net::TlsMode::kStartTls);
  ASSERT_FALSE(h.client);
  EXPECT_EQ(h.error->code, Code::kFailedPrecondition);
}

TEST(IngestImapClientTest, StartTlsThenCapabilitiesAreReadAgain) {
  auto c = std::make_unique<FakeConnection>(
      "* OK [CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED] hi\r\n",
      [](const std::string& line, FakeConnection& self) {
        const std::string tag = tag_of(line);
        if (rest_of(line) == "STARTTLS") {
          self.reply(tag + " OK Begin TLS negotiation now\r\n");
        } else if (rest_of(line) == "CAPABILITY") {
          EXPECT_TRUE(self.tls_active());
          self.reply("* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n" + tag + " OK\r\n");
        }
      });
  auto* raw = c.get();
  auto client = Client::connect(std::move(c), net::TlsMode::kStartTls, "fake");
  ASSERT_TRUE(client) << client.error().message;
  EXPECT_EQ(raw->start_tls_calls, 1);
  EXPECT_FALSE((*client)->capabilities().has("STARTTLS"));
  EXPECT_FALSE((*client)->capabilities().has("LOGINDISABLED"));
  EXPECT_TRUE((*client)->capabilities().has("AUTH=PLAIN"));
}

TEST(IngestImapClientTest, RefusesPasswordsWithoutTls) {
  Harness h(std::string(kGreeting), /*tls=*/false);
  ASSERT_TRUE(h.client);
  auto s = h.client->authenticate(password_creds("u", "p"));
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, Code::kFailedPrecondition);
  EXPECT_TRUE(h.client->authenticate(password_creds("u", "p", AuthMechanism::kAuto, true)));
}

TEST(IngestImapClientTest, PlainWithSaslIrNeverLogsThePassword) {
  Harness h;
  ASSERT_TRUE(h.client->authenticate(password_creds("fred", "s3cret")));
  const std::string expected = "A2 AUTHENTICATE PLAIN " + sasl_plain_response("fred", "s3cret");
  EXPECT_EQ(h.connection->lines[1], expected);
  EXPECT_TRUE(h.client->capabilities().has("IDLE"));  // from the OK's [CAPABILITY]
  EXPECT_FALSE(h.client->capabilities().has("SASL-IR"));
}

TEST(IngestImapClientTest, PlainWithoutSaslIrUsesAContinuation) {
  auto c = std::make_unique<FakeConnection>(
      "* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] hi\r\n",
      [](const std::string& line, FakeConnection& self) {
        static std::string tag;
        if (rest_of(line) == "AUTHENTICATE PLAIN") {
          tag = tag_of(line);
          self.reply("+ \r\n");
        } else if (line == sasl_plain_response("fred", "pw")) {
          self.reply(tag + " OK Logged in\r\n");
        } else if (rest_of(line) == "CAPABILITY") {
          self.reply("* CAPABILITY IMAP4rev1 IDLE\r\n" + tag_of(line) + " OK\r\n");
        } else {
          self.reply(tag + " NO unexpected\r\n");
        }
      },
      true);
  auto client = Client::connect(std::move(c), net::TlsMode::kImplicit, "fake");
  ASSERT_TRUE(client);
  auto s = (*client)->authenticate(password_creds("fred", "pw"));
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_TRUE((*client)->capabilities().has("IDLE"));
}

TEST(IngestImapClientTest, LoginWithAnEightBitPasswordWaitsForTheContinuation) {
  std::vector<std::string> seen;
  auto c = std::make_unique<FakeConnection>(
      "* OK [CAPABILITY IMAP4rev1] hi\r\n",
      [&seen](const std::string& line, FakeConnection& self) {
        seen.push_back(line);
        if (line.ends_with("{6}")) {
          self.reply("+ Ready for literal data\r\n");
        } else if (line == "p\xc3\xa4ss!") {
          self.reply("A1 NO [AUTHENTICATIONFAILED] Authentication failed.\r\n");
        }
      },
      true);
  auto client = Client::connect(std::move(c), net::TlsMode::kImplicit, "fake");
  ASSERT_TRUE(client);
  auto s = (*client)->authenticate(password_creds("fred", "p\xc3\xa4ss!", AuthMechanism::kLogin));
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, Code::kUnauthenticated);
  EXPECT_NE(s.error().message.find("Authentication failed."), std::string::npos);
  EXPECT_EQ(s.error().message.find("p\xc3\xa4ss"), std::string::npos);
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0], "A1 LOGIN \"fred\" {6}");
}

TEST(IngestImapClientTest, XOAuth2FailureReportsTheJsonAndRetriesOnceWithAFreshToken) {
  const std::string json =
      R"({"status":"401","schemes":"bearer","scope":"https://mail.google.com/"})";
  std::vector<std::string> initial;
  auto c = std::make_unique<FakeConnection>(
      "* OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=XOAUTH2] hi\r\n",
      [&](const std::string& line, FakeConnection& self) {
        static std::string tag;
        if (rest_of(line).starts_with("AUTHENTICATE XOAUTH2 ")) {
          tag = tag_of(line);
          initial.push_back(rest_of(rest_of(line)).substr(8));
          self.reply("+ " + base64_encode(json) + "\r\n");
        } else if (line.empty()) {
          self.reply(tag + " NO [AUTHENTICATIONFAILED] Invalid credentials (Failure)\r\n");
        }
      },
      true);
  auto client = Client::connect(std::move(c), net::TlsMode::kImplicit, "fake");
  ASSERT_TRUE(client);
  int calls = 0;
  Credentials creds;
  creds.user = "someone@example.com";
  creds.access_token = [&calls]() -> Result<std::string> {
    return "token" + std::to_string(++calls);
  };
  auto s = (*client)->authenticate(creds);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, Code::kUnauthenticated);
  EXPECT_NE(s.error().message.find(json), std::string::npos) << s.error().message;
  EXPECT_EQ(s.error().message.find("token1"), std::string::npos);
  EXPECT_EQ(calls, 2);
  ASSERT_EQ(initial.size(), 2u);
  EXPECT_EQ(initial[0], sasl_xoauth2_response("someone@example.com", "token1"));
  EXPECT_EQ(initial[1], sasl_xoauth2_response("someone@example.com", "token2"));
}

TEST(IngestImapClientTest, ListDecodesNamesAndFilters) {
  Harness h;
  ASSERT_TRUE(h.client->authenticate(password_creds("u", "p")));
  auto all = h.client->list();
  ASSERT_TRUE(all) << all.error().message;
  std::vector<std::string> names;
  for (const auto& m : *all) {
    names.push_back(m.name);
  }
  EXPECT_EQ(names, (std::vector<std::string>{"INBOX", "INBOX/Prüfung", "Archive", "Archive/日本語",
                                             "Spam"}));
  EXPECT_EQ((*all)[1].wire_name, "INBOX/Pr&APw-fung");
  EXPECT_FALSE((*all)[2].selectable());
  EXPECT_TRUE((*all)[3].selectable());

  auto some = h.client->list({"INBOX*", "Archive/%"}, {"*Prüfung"});
  ASSERT_TRUE(some);
  names.clear();
  for (const auto& m : *some) {
    names.push_back(m.name);
  }
  EXPECT_EQ(names, (std::vector<std::string>{"INBOX", "Archive/日本語"}));
}

TEST(IngestImapClientTest, UidsFromDropsTheStarMessageBelowFirst) {
  Harness h;
  h.server->messages = {{3, "a"}, {7, "b"}, {9, "c"}};
  h.login_and_examine();
  auto uids = h.client->uids_from(4);
  ASSERT_TRUE(uids);
  EXPECT_EQ(*uids, (std::vector<std::uint32_t>{7, 9}));
  uids = h.client->uids_from(10);  // the server answers with UID 9 for "10:*"
  ASSERT_TRUE(uids);
  EXPECT_TRUE(uids->empty());
}

std::map<std::uint32_t, std::string> make_messages(std::uint32_t n) {
  std::map<std::uint32_t, std::string> out;
  for (std::uint32_t uid = 1; uid <= n; ++uid) {
    out[uid * 2] = "Subject: " + std::to_string(uid) + "\r\n\r\n" + std::string(uid, 'x') +
                   "\r\n* 1 EXISTS\r\n)\r\n";
  }
  return out;
}

TEST(IngestImapClientTest, PipelinedFetchKeepsOrderAndSendsAheadOfReading) {
  Harness h;
  h.server->messages = make_messages(10);
  h.login_and_examine();
  std::vector<std::uint32_t> wanted;
  for (const auto& [uid, body] : h.server->messages) {
    wanted.push_back(uid);
  }
  wanted.push_back(100);  // vanished
  // EXISTS and an unsolicited FLAGS update in the middle of the second command's data.
  h.server->before_fetch = [](FakeConnection& c, int index) {
    if (index == 1) {
      c.reply("* 11 EXISTS\r\n* 1 FETCH (FLAGS (\\Seen \\Flagged))\r\n");
    }
  };
  const std::size_t events_before = h.connection->events.size();
  std::vector<FetchedMessage> got;
  auto s = h.client->fetch(
      wanted,
      [&](FetchedMessage&& m) {
        got.push_back(std::move(m));
        return ok_status();
      },
      /*batch=*/3, /*pipeline_depth=*/2);
  ASSERT_TRUE(s) << s.error().message;
  ASSERT_EQ(got.size(), 10u);
  for (std::size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].uid, 2 * (i + 1));
    EXPECT_EQ(got[i].body, h.server->messages[got[i].uid]);
    EXPECT_EQ(got[i].rfc822_size, got[i].body.size());
    EXPECT_EQ(got[i].internal_date_unix, 837596665);
    EXPECT_EQ(got[i].flags, std::vector<std::string>{"\\Seen"});
  }
  // The first two commands were written before anything was read.
  std::vector<std::string> ev(h.connection->events.begin() + static_cast<long>(events_before),
                              h.connection->events.end());
  ASSERT_GE(ev.size(), 3u);
  EXPECT_TRUE(ev[0].starts_with("W A"));
  EXPECT_TRUE(ev[1].starts_with("W A"));
  EXPECT_EQ(ev[2], "R *");
  // Batches: 2:6, 8:12, 14:18, 20,100 (4 commands).
  EXPECT_EQ(h.server->fetch_commands, 4);
  EXPECT_NE(h.connection->written.find("UID FETCH 2,4,6 (UID BODY.PEEK[] INTERNALDATE FLAGS "
                                       "RFC822.SIZE)"),
            std::string::npos);
  EXPECT_NE(h.connection->written.find("UID FETCH 20,100 "), std::string::npos);
}

TEST(IngestImapClientTest, FetchOutOfUidOrderIsAnError) {
  Harness h;
  h.server->messages = make_messages(3);
  h.server->reverse_order = true;
  h.login_and_examine();
  const std::vector<std::uint32_t> wanted = {2, 4, 6};
  auto s = h.client->fetch(wanted, [](FetchedMessage&&) { return ok_status(); });
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, Code::kInternal);
  EXPECT_NE(s.error().message.find("after UID"), std::string::npos);
}

TEST(IngestImapClientTest, CallerErrorDrainsAndTheClientStaysUsable) {
  Harness h;
  h.server->messages = make_messages(10);
  h.login_and_examine();
  std::vector<std::uint32_t> wanted;
  for (const auto& [uid, body] : h.server->messages) {
    wanted.push_back(uid);
  }
  int calls = 0;
  auto s = h.client->fetch(
      wanted,
      [&](FetchedMessage&&) {
        return ++calls == 2 ? Status(make_error(Code::kDataLoss, "disk full")) : ok_status();
      },
      2, 3);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, Code::kDataLoss);
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(h.server->fetch_commands, 3);  // the commands in flight, no more
  EXPECT_TRUE(h.client->examine(mailbox("INBOX")));
}

TEST(IngestImapClientTest, CancelledCallerDropsTheConnection) {
  Harness h;
  h.server->messages = make_messages(4);
  h.login_and_examine();
  const std::vector<std::uint32_t> wanted = {2, 4, 6, 8};
  auto s = h.client->fetch(
      wanted, [](FetchedMessage&&) { return Status(make_error(Code::kCancelled, "stop")); });
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, Code::kCancelled);
  auto again = h.client->examine(mailbox("INBOX"));
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, Code::kUnavailable);
  EXPECT_TRUE(h.client->logout());
}

TEST(IngestImapClientTest, ByeAndDropMidFetchIsUnavailableWithContext) {
  Harness h;
  h.server->messages = make_messages(6);
  h.login_and_examine();
  h.server->after_message = [](FakeConnection& c, std::uint32_t uid) {
    if (uid == 4) {
      c.reply("* BYE Server shutting down\r\n");
      c.cut_after("* 3 FETCH (UID 6 BODY[] {100}\r\nonly a part");
    }
  };
  std::vector<std::uint32_t> got;
  const std::vector<std::uint32_t> wanted = {2, 4, 6, 8, 10, 12};
  auto s = h.client->fetch(wanted, [&](FetchedMessage&& m) {
    got.push_back(m.uid);
    return ok_status();
  });
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, Code::kUnavailable);
  EXPECT_NE(s.error().message.find("Server shutting down"), std::string::npos) << s.error().message;
  EXPECT_NE(s.error().message.find("INBOX"), std::string::npos) << s.error().message;
  EXPECT_NE(s.error().message.find("UIDs 2..12"), std::string::npos) << s.error().message;
  EXPECT_EQ(got, (std::vector<std::uint32_t>{2, 4}));
  EXPECT_TRUE(h.client->logout());  // tolerated
}

TEST(IngestImapClientTest, IdleReturnsOnExists) {
  Harness h;
  h.server->messages = make_messages(2);
  h.login_and_examine();
  auto r = h.client->idle(std::chrono::seconds(5));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_TRUE(*r);
  EXPECT_NE(h.connection->written.find("DONE\r\n"), std::string::npos);
  EXPECT_TRUE(h.client->uids_from(1));  // still usable
}

TEST(IngestImapClientTest, IdleWithoutNewsEndsWithDoneAndStaysUsable) {
  Harness h;
  h.server->messages = make_messages(2);
  h.server->idle_news = false;
  h.login_and_examine();
  for (int round = 0; round < 2; ++round) {  // re-issued IDLE works the same
    auto r = h.client->idle(std::chrono::seconds(5));
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_FALSE(*r);
  }
  EXPECT_EQ(std::count(h.connection->lines.begin(), h.connection->lines.end(), "DONE"), 2);
  EXPECT_GE(h.connection->waits, 2);
  EXPECT_TRUE(h.client->uids_from(1));
}

TEST(IngestImapClientTest, IdleClosedFromOutsideIsCancelled) {
  Harness h;
  h.server->messages = make_messages(2);
  h.server->idle_news = false;
  h.login_and_examine();
  h.connection->close();
  auto r = h.client->idle(std::chrono::seconds(5));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Code::kCancelled) << r.error().message;
}

TEST(IngestImapClientTest, IdleWithoutServerSupportIsUnimplemented) {
  Harness h;
  h.server->capabilities_after_login = "IMAP4rev1";
  h.login_and_examine();
  auto r = h.client->idle(std::chrono::milliseconds(10));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Code::kUnimplemented);
}

TEST(IngestImapClientTest, ExamineRefusedIsNotFoundAndKeepsTheClient) {
  auto c = std::make_unique<FakeConnection>(
      "* PREAUTH [CAPABILITY IMAP4rev1] hi\r\n", [](const std::string& line, FakeConnection& self) {
        self.reply(tag_of(line) + " NO [NONEXISTENT] Mailbox doesn't exist\r\n");
      });
  auto client = Client::connect(std::move(c), net::TlsMode::kImplicit, "fake");
  ASSERT_TRUE(client);
  auto r = (*client)->examine(mailbox("Gone"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Code::kNotFound);
  EXPECT_NE(r.error().message.find("Mailbox doesn't exist"), std::string::npos);
  auto again = (*client)->examine(mailbox("Gone"));
  EXPECT_EQ(again.error().code, Code::kNotFound);
}

}  // namespace
}  // namespace mailvault::ingest::imap
