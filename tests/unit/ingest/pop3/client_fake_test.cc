// The POP3 client against scripted servers on 127.0.0.1: the behaviours a real Dovecot will not
// show (broken greetings, no CAPA, no UIDL, no STLS, forced pipelining, -ERR mid-pipeline).
#include <chrono>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "ingest/pop3/client.h"
#include "tests/unit/ingest/net/test_server.h"

namespace mailvault::ingest::pop3 {
namespace {

using namespace std::chrono_literals;
using net::testing::ScriptedServer;
using net::testing::ServerSide;

constexpr const char* kCapa =
    "+OK\r\nTOP\r\nUIDL\r\nRESP-CODES\r\nPIPELINING\r\nUSER\r\nSASL PLAIN\r\n.\r\n";

ConnectOptions options(std::uint16_t port) {
  ConnectOptions o;
  o.connection.host = "127.0.0.1";
  o.connection.port = port;
  o.connection.tls = net::TlsMode::kNone;
  o.connection.connect_timeout = 5s;
  o.connection.io_timeout = 5s;
  o.allow_plaintext_password = true;
  return o;
}

// Greeting, CAPA, USER/PASS: the common start of the scripts.
void login(ServerSide& s, const std::string& capa = kCapa) {
  s.write("+OK ready\r\n");
  EXPECT_EQ(s.read_line(), "CAPA");
  s.write(capa);
  EXPECT_EQ(s.read_line(), "USER u");
  s.write("+OK\r\n");
  EXPECT_EQ(s.read_line(), "PASS p");
  s.write("+OK logged in\r\n");
  if (capa.rfind("+OK", 0) == 0) {
    EXPECT_EQ(s.read_line(), "CAPA");
    s.write(capa);
  }
}

std::unique_ptr<Client> must_login(std::uint16_t port, ConnectOptions o) {
  auto c = Client::connect(o);
  if (!c) {
    ADD_FAILURE() << c.error().message;
    return nullptr;
  }
  auto st = (*c)->authenticate("u", "p", AuthMechanism::kUserPass);
  if (!st) {
    ADD_FAILURE() << st.error().message;
    return nullptr;
  }
  (void)port;
  return std::move(*c);
}

TEST(Pop3ClientFake, ServerClosesAfterGreeting) {
  ScriptedServer server([](ServerSide& s) {
    s.write("+OK hello\r\n");
    s.close();
  });
  auto c = Client::connect(options(server.port()));
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().code, Code::kUnavailable);
  EXPECT_NE(c.error().message.find("POP3 CAPA"), std::string::npos) << c.error().message;
  EXPECT_NE(c.error().message.find("closed by peer"), std::string::npos) << c.error().message;
}

TEST(Pop3ClientFake, ServerClosesWithoutGreeting) {
  ScriptedServer server([](ServerSide& s) { s.close(); });
  auto c = Client::connect(options(server.port()));
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().code, Code::kUnavailable);
  EXPECT_NE(c.error().message.find("POP3 greeting"), std::string::npos) << c.error().message;
}

TEST(Pop3ClientFake, GarbageGreetingIsProtocolError) {
  ScriptedServer server([](ServerSide& s) {
    s.write("\x16\x03\x01 this is \xff not pop3\r\n");
    s.wait_for_close();
  });
  auto c = Client::connect(options(server.port()));
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().code, Code::kInternal);
  EXPECT_NE(c.error().message.find("POP3 greeting at 127.0.0.1:"), std::string::npos)
      << c.error().message;
  EXPECT_NE(c.error().message.find("protocol error"), std::string::npos);
  EXPECT_NE(c.error().message.find("\\x16"), std::string::npos);
}

TEST(Pop3ClientFake, ImapServerIsProtocolError) {
  ScriptedServer server([](ServerSide& s) {
    s.write("* OK [CAPABILITY IMAP4rev1] ready\r\n");
    s.wait_for_close();
  });
  auto c = Client::connect(options(server.port()));
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().code, Code::kInternal);
}

TEST(Pop3ClientFake, ErrGreetingIsUnavailable) {
  ScriptedServer server([](ServerSide& s) {
    s.write("-ERR [SYS/TEMP] too many connections\r\n");
    s.wait_for_close();
  });
  auto c = Client::connect(options(server.port()));
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().code, Code::kUnavailable);
  EXPECT_NE(c.error().message.find("too many connections"), std::string::npos);
}

TEST(Pop3ClientFake, StartTlsRequiredButNotOffered) {
  std::string after;
  ScriptedServer server([&after](ServerSide& s) {
    s.write("+OK ready\r\n");
    EXPECT_EQ(s.read_line(), "CAPA");
    s.write("+OK\r\nUSER\r\nUIDL\r\n.\r\n");
    after = s.read_line();  // the client must not send STLS or credentials
  });
  auto o = options(server.port());
  o.connection.tls = net::TlsMode::kStartTls;
  auto c = Client::connect(o);
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().code, Code::kFailedPrecondition);
  EXPECT_NE(c.error().message.find("does not offer it"), std::string::npos) << c.error().message;
  server.join();
  EXPECT_EQ(after, "");
}

TEST(Pop3ClientFake, RefusesPlaintextPasswordUnlessAllowed) {
  std::string next;
  ScriptedServer server([&next](ServerSide& s) {
    s.write("+OK ready\r\n");  // no APOP timestamp
    EXPECT_EQ(s.read_line(), "CAPA");
    s.write(kCapa);
    next = s.read_line();
    s.write("+OK bye\r\n");
  });
  auto o = options(server.port());
  o.allow_plaintext_password = false;
  auto c = Client::connect(o);
  ASSERT_TRUE(c) << c.error().message;
  for (auto mech : {AuthMechanism::kAuto, AuthMechanism::kUserPass, AuthMechanism::kPlain}) {
    auto st = (*c)->authenticate("u", "secret", mech);
    ASSERT_FALSE(st);
    EXPECT_EQ(st.error().code, Code::kFailedPrecondition);
    EXPECT_NE(st.error().message.find("without TLS"), std::string::npos);
    EXPECT_EQ(st.error().message.find("secret"), std::string::npos);
  }
  EXPECT_EQ((*c)->authenticate("u", "secret", AuthMechanism::kApop).error().code,
            Code::kFailedPrecondition);
  EXPECT_EQ((*c)->authenticate("u\r\nDELE 1", "p").error().code, Code::kInvalidArgument);
  EXPECT_EQ((*c)->authenticate("u", "p\nQUIT").error().code, Code::kInvalidArgument);
  EXPECT_TRUE((*c)->quit());
  server.join();
  EXPECT_EQ(next, "QUIT");
}

TEST(Pop3ClientFake, AutoUsesApopWithoutTls) {
  ScriptedServer server([](ServerSide& s) {
    s.write("+OK POP3 server ready <1896.697170952@dbc.mtview.ca.us>\r\n");
    EXPECT_EQ(s.read_line(), "CAPA");
    s.write("-ERR unknown command\r\n");
    EXPECT_EQ(s.read_line(), "APOP mrose c4c9334bac560ecc979e58001b3e22fb");
    s.write("+OK maildrop has 0 messages\r\n");
    EXPECT_EQ(s.read_line(), "QUIT");
    s.write("+OK\r\n");
  });
  auto o = options(server.port());
  o.allow_plaintext_password = false;
  auto c = Client::connect(o);
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_FALSE((*c)->capabilities().known);
  EXPECT_TRUE((*c)->apop_available());
  auto st = (*c)->authenticate("mrose", "tanstaaf");
  ASSERT_TRUE(st) << st.error().message;
  EXPECT_TRUE((*c)->quit());
  EXPECT_EQ(server.join(), "");
}

TEST(Pop3ClientFake, AuthPlainAndWrongPassword) {
  ScriptedServer server([](ServerSide& s) {
    s.write("+OK ready\r\n");
    EXPECT_EQ(s.read_line(), "CAPA");
    s.write(kCapa);
    EXPECT_EQ(s.read_line(), "AUTH PLAIN AHUAd3Jvbmc=");
    s.write("-ERR [AUTH] Authentication failed.\r\n");
    EXPECT_EQ(s.read_line(), "AUTH PLAIN AHUAcA==");
    s.write("+OK Logged in.\r\n");
    EXPECT_EQ(s.read_line(), "CAPA");
    s.write(kCapa);
    s.wait_for_close();
  });
  auto c = Client::connect(options(server.port()));
  ASSERT_TRUE(c) << c.error().message;
  auto st = (*c)->authenticate("u", "wrong");
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, Code::kUnauthenticated);
  EXPECT_NE(st.error().message.find("-ERR [AUTH] Authentication failed."), std::string::npos)
      << st.error().message;
  EXPECT_EQ(st.error().message.find("wrong"), std::string::npos) << "password in the message";
  ASSERT_TRUE((*c)->authenticate("u", "p"));
  EXPECT_TRUE((*c)->authenticated());
}

TEST(Pop3ClientFake, NoCapaNoUidlIsUnimplemented) {
  ScriptedServer server([](ServerSide& s) {
    s.write("+OK old server\r\n");
    EXPECT_EQ(s.read_line(), "CAPA");
    s.write("-ERR what?\r\n");
    EXPECT_EQ(s.read_line(), "USER u");
    s.write("+OK\r\n");
    EXPECT_EQ(s.read_line(), "PASS p");
    s.write("+OK\r\n");
    EXPECT_EQ(s.read_line(), "UIDL");
    s.write("-ERR unknown command\r\n");
    EXPECT_EQ(s.read_line(), "STAT");
    s.write("+OK 2 300\r\n");
    s.wait_for_close();
  });
  auto c = must_login(server.port(), options(server.port()));
  ASSERT_TRUE(c);
  auto u = c->uidl();
  ASSERT_FALSE(u);
  EXPECT_EQ(u.error().code, Code::kUnimplemented);
  auto st = c->stat();  // still usable
  ASSERT_TRUE(st) << st.error().message;
  EXPECT_EQ(st->count, 2U);
  EXPECT_EQ(st->size, 300U);
}

TEST(Pop3ClientFake, CapaWithoutUidlIsUnimplementedWithoutAsking) {
  ScriptedServer server([](ServerSide& s) {
    login(s, "+OK\r\nUSER\r\n.\r\n");
    EXPECT_EQ(s.read_line(), "LIST");
    s.write("+OK\r\n1 100\r\n2 200\r\n.\r\n");
    s.wait_for_close();
  });
  auto c = must_login(server.port(), options(server.port()));
  ASSERT_TRUE(c);
  EXPECT_EQ(c->uidl().error().code, Code::kUnimplemented);
  auto l = c->list();
  ASSERT_TRUE(l) << l.error().message;
  ASSERT_EQ(l->size(), 2U);
  EXPECT_EQ(to_int((*l)[1].number), 2U);
  EXPECT_EQ((*l)[1].size, 200U);
}

TEST(Pop3ClientFake, RetrUnstuffsExactBytes) {
  const std::string message = "Subject: dots\r\n\r\n.\r\n..\r\n.leading\r\nlast\r\n";
  ScriptedServer server([&message](ServerSide& s) {
    login(s);
    EXPECT_EQ(s.read_line(), "RETR 1");
    s.write("+OK " + std::to_string(message.size()) + " octets\r\n" + encode_multiline(message));
    EXPECT_EQ(s.read_line(), "RETR 9");
    s.write("-ERR There's no message 9.\r\n");
    EXPECT_EQ(s.read_line(), "NOOP?");  // never sent: the test ends first
  });
  auto c = must_login(server.port(), options(server.port()));
  ASSERT_TRUE(c);
  auto m = c->retr(MessageNumber{1});
  ASSERT_TRUE(m) << m.error().message;
  EXPECT_EQ(*m, message);
  auto missing = c->retr(MessageNumber{9});
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, Code::kNotFound);
  EXPECT_NE(missing.error().message.find("RETR 9"), std::string::npos);
  EXPECT_NE(missing.error().message.find("no message 9"), std::string::npos);
}

// The server reads every RETR before it answers: without pipelining this would deadlock (and
// fail on the 5 s timeout).
TEST(Pop3ClientFake, RetrManyPipelinesCommands) {
  ScriptedServer server([](ServerSide& s) {
    login(s);
    std::vector<std::string> commands;
    for (int i = 0; i < 5; ++i) {
      commands.push_back(s.read_line());
    }
    std::string replies;
    for (const auto& cmd : commands) {
      const std::string n = cmd.substr(5);
      if (n == "3") {
        replies += "-ERR Message is deleted.\r\n";
      } else {
        replies += "+OK\r\n" + encode_multiline("message " + n + "\r\n");
      }
    }
    s.write(replies);
    EXPECT_EQ(s.read_line(), "STAT");
    s.write("+OK 4 100\r\n");
    s.wait_for_close();
  });
  auto c = must_login(server.port(), options(server.port()));
  ASSERT_TRUE(c);
  ASSERT_TRUE(c->capabilities().pipelining);
  const std::vector<MessageNumber> numbers = {MessageNumber{1}, MessageNumber{2}, MessageNumber{3},
                                              MessageNumber{4}, MessageNumber{5}};
  std::vector<std::string> got;
  auto st = c->retr_many(numbers, [&got](MessageNumber n, std::string bytes) {
    got.push_back(std::to_string(to_int(n)) + "=" + bytes);
    return ok_status();
  });
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, Code::kNotFound);
  EXPECT_NE(st.error().message.find("RETR 3"), std::string::npos) << st.error().message;
  // Messages before the failure were delivered; the rest were read and dropped.
  EXPECT_EQ(got, (std::vector<std::string>{"1=message 1\r\n", "2=message 2\r\n"}));
  auto stat = c->stat();  // the replies in flight were drained: the session is in step
  ASSERT_TRUE(stat) << stat.error().message;
  EXPECT_EQ(stat->count, 4U);
}

// Many pipelined RETRs (more than the window, so it refills), each reply written in small
// pieces that split lines, CRLFs and the terminator: every message comes back exact.
TEST(Pop3ClientFake, RetrManyExactAcrossSmallWrites) {
  constexpr int kMessages = 80;
  auto message_of = [](int n) {
    std::string m = "Subject: m" + std::to_string(n) + "\r\n\r\n";
    for (int i = 0; i < 50 + n; ++i) {
      m += (i % 7 == 0 ? "." : "") + std::string(static_cast<std::size_t>((i * n) % 90), 'a') +
           (i % 11 == 0 ? "\n" : "\r\n");
    }
    return m + ".\r\nend\r\n";
  };
  ScriptedServer server([&message_of](ServerSide& s) {
    login(s);
    for (int n = 1; n <= kMessages; ++n) {
      EXPECT_EQ(s.read_line(), "RETR " + std::to_string(n));
      const std::string reply = "+OK\r\n" + encode_multiline(message_of(n));
      for (std::size_t off = 0; off < reply.size(); off += 37) {
        s.write(std::string_view(reply).substr(off, 37));
      }
    }
    EXPECT_EQ(s.read_line(), "STAT");
    s.write("+OK 80 100\r\n");
    s.wait_for_close();
  });
  auto c = must_login(server.port(), options(server.port()));
  ASSERT_TRUE(c);
  std::vector<MessageNumber> numbers;
  for (int n = 1; n <= kMessages; ++n) {
    numbers.push_back(MessageNumber{static_cast<std::uint32_t>(n)});
  }
  int next = 1;
  auto st = c->retr_many(numbers, [&](MessageNumber n, std::string bytes) {
    EXPECT_EQ(static_cast<int>(to_int(n)), next);
    // A bare LF comes back as CRLF (as the client documents).
    std::string want = message_of(next);
    std::string crlf;
    for (std::size_t i = 0; i < want.size(); ++i) {
      if (want[i] == '\n' && (i == 0 || want[i - 1] != '\r')) {
        crlf += '\r';
      }
      crlf += want[i];
    }
    EXPECT_EQ(bytes, crlf) << "message " << next;
    ++next;
    return ok_status();
  });
  ASSERT_TRUE(st) << st.error().message;
  EXPECT_EQ(next, kMessages + 1);
  auto stat = c->stat();
  ASSERT_TRUE(stat) << stat.error().message;
  EXPECT_EQ(stat->count, 80U);
}

// The server reads every DELE before it answers (pipelined); a -ERR in the middle is reported
// after every reply was read, so the session stays in step.
TEST(Pop3ClientFake, DeleManyPipelinedWithErrorInTheMiddle) {
  ScriptedServer server([](ServerSide& s) {
    login(s);
    std::string replies;
    for (int n = 1; n <= 5; ++n) {
      EXPECT_EQ(s.read_line(), "DELE " + std::to_string(n));
      replies += n == 3 ? "-ERR Message is deleted.\r\n" : "+OK Marked to be deleted.\r\n";
    }
    s.write(replies);
    EXPECT_EQ(s.read_line(), "STAT");
    s.write("+OK 1 100\r\n");
    s.wait_for_close();
  });
  auto c = must_login(server.port(), options(server.port()));
  ASSERT_TRUE(c);
  const std::vector<MessageNumber> numbers = {MessageNumber{1}, MessageNumber{2}, MessageNumber{3},
                                              MessageNumber{4}, MessageNumber{5}};
  auto st = c->dele_many(numbers);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, Code::kNotFound);
  EXPECT_NE(st.error().message.find("DELE 3"), std::string::npos) << st.error().message;
  auto stat = c->stat();
  ASSERT_TRUE(stat) << stat.error().message;
  EXPECT_EQ(stat->count, 1U);
}

// Without PIPELINING in CAPA: one DELE, its answer, the next (the server checks that nothing
// else arrived before it answered).
TEST(Pop3ClientFake, DeleManyOneAtATimeWithoutPipelining) {
  ScriptedServer server([](ServerSide& s) {
    login(s, "+OK\r\nUIDL\r\nUSER\r\n.\r\n");
    for (int n = 1; n <= 3; ++n) {
      EXPECT_EQ(s.read_line(), "DELE " + std::to_string(n));
      EXPECT_FALSE(s.readable_within(100ms)) << "DELE " << n + 1 << " sent before the answer";
      s.write("+OK\r\n");
    }
    s.wait_for_close();
  });
  auto c = must_login(server.port(), options(server.port()));
  ASSERT_TRUE(c);
  EXPECT_FALSE(c->capabilities().pipelining);
  const std::vector<MessageNumber> numbers = {MessageNumber{1}, MessageNumber{2}, MessageNumber{3}};
  auto st = c->dele_many(numbers);
  ASSERT_TRUE(st) << st.error().message;
}

TEST(Pop3ClientFake, RetrManyCallbackErrorStops) {
  ScriptedServer server([](ServerSide& s) {
    login(s, "+OK\r\nUIDL\r\nUSER\r\n.\r\n");  // no PIPELINING: one at a time
    EXPECT_EQ(s.read_line(), "RETR 1");
    s.write("+OK\r\na\r\n.\r\n");
    EXPECT_EQ(s.read_line(), "RETR 2");
    s.write("+OK\r\nb\r\n.\r\n");
    EXPECT_EQ(s.read_line(), "NOOP?");
  });
  auto c = must_login(server.port(), options(server.port()));
  ASSERT_TRUE(c);
  EXPECT_FALSE(c->capabilities().pipelining);
  const std::vector<MessageNumber> numbers = {MessageNumber{1}, MessageNumber{2}, MessageNumber{3}};
  int calls = 0;
  auto st = c->retr_many(numbers, [&calls](MessageNumber n, std::string) -> Status {
    ++calls;
    if (to_int(n) == 2) {
      return make_error(Code::kAborted, "archive full");
    }
    return ok_status();
  });
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, Code::kAborted);
  EXPECT_EQ(calls, 2);
}

TEST(Pop3ClientFake, MessageLargerThanLimitIsResourceExhausted) {
  ScriptedServer server([](ServerSide& s) {
    login(s);
    EXPECT_EQ(s.read_line(), "RETR 1");
    s.write("+OK\r\n" + encode_multiline(std::string(3000, 'x') + "\r\n"));
    s.wait_for_close();
  });
  auto o = options(server.port());
  o.max_message_bytes = 1000;
  auto c = must_login(server.port(), o);
  ASSERT_TRUE(c);
  auto m = c->retr(MessageNumber{1});
  ASSERT_FALSE(m);
  EXPECT_EQ(m.error().code, Code::kResourceExhausted);
  EXPECT_EQ(c->stat().error().code, Code::kFailedPrecondition);  // the session is over
}

TEST(Pop3ClientFake, InvalidUidlLineEndsSession) {
  ScriptedServer server([](ServerSide& s) {
    login(s);
    EXPECT_EQ(s.read_line(), "UIDL");
    s.write("+OK\r\n1 good\r\n2 bad\x01uid\r\n.\r\n");
    s.wait_for_close();
  });
  auto c = must_login(server.port(), options(server.port()));
  ASSERT_TRUE(c);
  auto u = c->uidl();
  ASSERT_FALSE(u);
  EXPECT_EQ(u.error().code, Code::kInternal);
  EXPECT_NE(u.error().message.find("2 bad\\x01uid"), std::string::npos) << u.error().message;
}

TEST(Pop3ClientFake, CommandsNeedTransactionState) {
  ScriptedServer server([](ServerSide& s) {
    s.write("+OK ready\r\n");
    EXPECT_EQ(s.read_line(), "CAPA");
    s.write(kCapa);
    s.wait_for_close();
  });
  auto c = Client::connect(options(server.port()));
  ASSERT_TRUE(c);
  EXPECT_EQ((*c)->stat().error().code, Code::kFailedPrecondition);
  EXPECT_EQ((*c)->uidl().error().code, Code::kFailedPrecondition);
  EXPECT_EQ((*c)->retr(MessageNumber{1}).error().code, Code::kFailedPrecondition);
  EXPECT_EQ((*c)->dele(MessageNumber{1}).error().code, Code::kFailedPrecondition);
}

TEST(Pop3ClientFake, AbortFromAnotherThread) {
  ScriptedServer server([](ServerSide& s) {
    login(s);
    EXPECT_EQ(s.read_line(), "RETR 1");
    s.write("+OK\r\nfirst line\r\n");  // and then nothing
    s.wait_for_close();
  });
  auto o = options(server.port());
  o.connection.io_timeout = 30s;
  auto c = must_login(server.port(), o);
  ASSERT_TRUE(c);
  std::thread aborter([&c] {
    std::this_thread::sleep_for(200ms);
    c->abort();
  });
  const auto start = std::chrono::steady_clock::now();
  auto m = c->retr(MessageNumber{1});
  aborter.join();
  ASSERT_FALSE(m);
  EXPECT_EQ(m.error().code, Code::kCancelled) << m.error().message;
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
}

}  // namespace
}  // namespace mailvault::ingest::pop3
