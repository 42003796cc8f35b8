// The POP3 client against a real Dovecot 2.3 (tests/integration/dovecot.py via DovecotServer):
// what POP3 serves must be exactly what IMAP serves for the same messages.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/crypto/digest.h"
#include "ingest/pop3/client.h"
#include "tests/unit/ingest/net/test_server.h"
#include "tests/unit/ingest/pop3/dovecot_fixture.h"

namespace mailvault::ingest::pop3 {
namespace {

using namespace std::chrono_literals;
using testing::DovecotServer;

struct Served {
  std::uint32_t uid = 0;
  std::uint64_t size = 0;
  std::string sha256;
};

std::string sha_hex(std::string_view bytes) {
  return crypto::to_hex(crypto::sha256(bytes));
}

std::string expected_uidl(std::uint32_t uid, std::uint32_t uidvalidity) {
  char buf[32];
  // pop3_uidl_format %08Xu%08Xv: Dovecot writes the hex digits in lower case.
  std::snprintf(buf, sizeof buf, "%08x%08x", uid, uidvalidity);
  return buf;
}

std::vector<MessageNumber> numbers_1_to(std::size_t n) {
  std::vector<MessageNumber> out;
  for (std::size_t i = 1; i <= n; ++i) {
    out.push_back(MessageNumber{static_cast<std::uint32_t>(i)});
  }
  return out;
}

// Messages whose bytes are easy to get wrong: dots, LF-only lines, 8-bit bytes, a long line.
std::vector<std::string> tricky_messages() {
  std::vector<std::string> out;
  out.push_back("Subject: dots\r\n\r\n.\r\n..\r\n...\r\n.leading dot\r\nend\r\n");
  out.push_back("Subject: lf only\n\nline one\nline two\n.\n");
  out.push_back(
      "Subject: =?UTF-8?B?w6TDtsO8?=\r\nContent-Type: text/plain; charset=latin1\r\n"
      "\r\n8-bit \xe4\xf6\xfc and \xc3\xa9\r\n");
  std::string long_line = "Subject: long line\r\n\r\n";
  long_line += std::string(200'000, 'L') + "\r\n";
  out.push_back(long_line);
  std::string big = "Subject: two megabytes\r\n\r\n";
  while (big.size() < 2'000'000) {
    big += "0123456789 abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ .:,;-_#'+*~\r\n";
  }
  out.push_back(big);
  out.push_back("Subject: no final newline\r\n\r\nlast line without CRLF");
  return out;
}

class Pop3Dovecot : public ::testing::Test {
 protected:
  static constexpr int kGenerated = 300;

  static void SetUpTestSuite() {
    try {
      server_ = DovecotServer::launch(
          {"alice:alice-pw", "dele:dele-pw", "bulk:bulk-pw", "cut:cut-pw"}, {}, skip_reason_);
      if (!server_) {
        return;
      }
      // alice: generated messages, then the tricky ones from files.
      server_->call({{"cmd", "append"},
                     {"user", "alice"},
                     {"folder", "INBOX"},
                     {"generate", kGenerated},
                     {"seed", 5}});
      files_ = std::make_unique<net::testing::TempDir>();
      std::vector<std::string> paths;
      int i = 0;
      for (const std::string& m : tricky_messages()) {
        const auto path = files_->path() / ("m" + std::to_string(i++) + ".eml");
        std::ofstream(path, std::ios::binary) << m;
        paths.push_back(path.string());
      }
      server_->call({{"cmd", "append"}, {"user", "alice"}, {"folder", "INBOX"}, {"files", paths}});
      served_ = served("alice");
    } catch (const std::exception& e) {
      launch_error_ = e.what();
    }
  }

  static void TearDownTestSuite() {
    server_.reset();
    files_.reset();
  }

  void SetUp() override {
    if (!launch_error_.empty()) {
      FAIL() << launch_error_;
    }
    if (!server_) {
      GTEST_SKIP() << skip_reason_;
    }
  }

  static std::vector<Served> served(const std::string& user, std::uint32_t* uidvalidity = nullptr) {
    auto reply = server_->call({{"cmd", "served_messages"}, {"user", user}, {"folder", "INBOX"}});
    std::vector<Served> out;
    for (const auto& m : reply.at("messages")) {
      out.push_back({m.at("uid").get<std::uint32_t>(), m.at("size").get<std::uint64_t>(),
                     m.at("sha256").get<std::string>()});
    }
    if (uidvalidity != nullptr) {
      *uidvalidity = reply.at("uidvalidity").get<std::uint32_t>();
    }
    return out;
  }

  static ConnectOptions options(net::TlsMode tls, const std::string& host = "127.0.0.1") {
    ConnectOptions o;
    o.connection.host = host;
    o.connection.tls = tls;
    o.connection.port = server_->port(tls == net::TlsMode::kImplicit ? "pop3s" : "pop3");
    o.connection.ca_file = server_->ca_file();
    o.connection.connect_timeout = 10s;
    o.connection.io_timeout = 30s;
    return o;
  }

  static std::unique_ptr<Client> login(const std::string& user, const std::string& password,
                                       ConnectOptions o,
                                       AuthMechanism mech = AuthMechanism::kAuto) {
    auto c = Client::connect(o);
    if (!c) {
      ADD_FAILURE() << c.error().message;
      return nullptr;
    }
    if (auto st = (*c)->authenticate(user, password, mech); !st) {
      ADD_FAILURE() << st.error().message;
      return nullptr;
    }
    return std::move(*c);
  }

  static std::vector<std::string> retr_all(Client& c, std::size_t n) {
    std::vector<std::string> hashes;
    auto st = c.retr_many(numbers_1_to(n), [&hashes](MessageNumber, std::string bytes) {
      hashes.push_back(sha_hex(bytes));
      return ok_status();
    });
    EXPECT_TRUE(st) << st.error().message;
    return hashes;
  }

  static inline std::unique_ptr<DovecotServer> server_;
  static inline std::unique_ptr<net::testing::TempDir> files_;
  static inline std::string skip_reason_;
  static inline std::string launch_error_;
  static inline std::vector<Served> served_;
};

TEST_F(Pop3Dovecot, CapabilitiesAndGreeting) {
  auto c = Client::connect(options(net::TlsMode::kImplicit));
  ASSERT_TRUE(c) << c.error().message;
  const auto& caps = (*c)->capabilities();
  EXPECT_TRUE(caps.known);
  EXPECT_TRUE(caps.uidl);
  EXPECT_TRUE(caps.pipelining);
  EXPECT_TRUE(caps.resp_codes);
  EXPECT_TRUE(caps.has_sasl("PLAIN"));
  EXPECT_FALSE(caps.stls);  // not offered once TLS is on
  EXPECT_TRUE((*c)->apop_available());
  EXPECT_TRUE((*c)->tls_active());
  EXPECT_TRUE((*c)->quit());
}

TEST_F(Pop3Dovecot, UidlListEqualsAppended) {
  std::uint32_t uidvalidity = 0;
  const auto messages = served("alice", &uidvalidity);
  ASSERT_EQ(messages.size(), static_cast<std::size_t>(kGenerated) + tricky_messages().size());
  auto c = login("alice", "alice-pw", options(net::TlsMode::kImplicit));
  ASSERT_TRUE(c);
  auto uidl = c->uidl();
  ASSERT_TRUE(uidl) << uidl.error().message;
  ASSERT_EQ(uidl->size(), messages.size());
  for (std::size_t i = 0; i < messages.size(); ++i) {
    EXPECT_EQ(to_int((*uidl)[i].number), i + 1);
    EXPECT_EQ((*uidl)[i].uid, expected_uidl(messages[i].uid, uidvalidity)) << "message " << i + 1;
  }
  auto stat = c->stat();
  ASSERT_TRUE(stat);
  EXPECT_EQ(stat->count, messages.size());
  auto list = c->list();
  ASSERT_TRUE(list) << list.error().message;
  ASSERT_EQ(list->size(), messages.size());
  std::uint64_t total = 0;
  for (std::size_t i = 0; i < messages.size(); ++i) {
    EXPECT_EQ((*list)[i].size, messages[i].size) << "message " << i + 1;
    total += (*list)[i].size;
  }
  EXPECT_EQ(stat->size, total);
  EXPECT_TRUE(c->quit());
}

TEST_F(Pop3Dovecot, RetrBytesEqualImapBodyPeek) {
  auto c = login("alice", "alice-pw", options(net::TlsMode::kImplicit));
  ASSERT_TRUE(c);
  const auto tricky = tricky_messages();
  for (std::size_t i = 0; i < served_.size(); ++i) {
    auto m = c->retr(MessageNumber{static_cast<std::uint32_t>(i + 1)});
    ASSERT_TRUE(m) << m.error().message;
    if (i + 1 == served_.size()) {
      // A message without a final line ending: IMAP serves it as is, POP3 cannot (the "."
      // must start a line), so Dovecot adds CRLF. The only byte difference between the two.
      EXPECT_EQ(served_[i].sha256, sha_hex(tricky.back()));
      EXPECT_EQ(*m, tricky.back() + "\r\n");
      continue;
    }
    EXPECT_EQ(m->size(), served_[i].size) << "message " << i + 1;
    EXPECT_EQ(sha_hex(*m), served_[i].sha256) << "message " << i + 1;
  }
  // The tricky ones, as we wrote them (LF-only lines are served with CRLF).
  auto first = c->retr(MessageNumber{kGenerated + 1});
  ASSERT_TRUE(first);
  EXPECT_EQ(*first, tricky[0]);
  auto lf = c->retr(MessageNumber{kGenerated + 2});
  ASSERT_TRUE(lf);
  EXPECT_EQ(*lf, "Subject: lf only\r\n\r\nline one\r\nline two\r\n.\r\n");
  EXPECT_TRUE(c->quit());
}

TEST_F(Pop3Dovecot, PipelinedRetrManyEqualsSequential) {
  auto o = options(net::TlsMode::kImplicit);
  auto pipelined = login("alice", "alice-pw", o);
  ASSERT_TRUE(pipelined);
  ASSERT_TRUE(pipelined->capabilities().pipelining);
  o.pipeline_depth = 1;
  auto sequential = login("alice", "alice-pw", o);
  ASSERT_TRUE(sequential);
  const auto a = retr_all(*pipelined, served_.size());
  const auto b = retr_all(*sequential, served_.size());
  ASSERT_EQ(a.size(), served_.size());
  EXPECT_EQ(a, b);
  for (std::size_t i = 0; i + 1 < served_.size(); ++i) {  // the last: see RetrBytesEqual...
    EXPECT_EQ(a[i], served_[i].sha256) << "message " << i + 1;
  }
  EXPECT_EQ(a.back(), sha_hex(tricky_messages().back() + "\r\n"));
}

TEST_F(Pop3Dovecot, StlsVerifiedWithCaThenAuthPlain) {
  auto c = Client::connect(options(net::TlsMode::kStartTls));
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_TRUE((*c)->tls_active());
  EXPECT_TRUE((*c)->capabilities().has_sasl("PLAIN"));
  auto st = (*c)->authenticate("alice", "alice-pw");  // kAuto: AUTH PLAIN over TLS
  ASSERT_TRUE(st) << st.error().message;
  auto stat = (*c)->stat();
  ASSERT_TRUE(stat);
  EXPECT_EQ(stat->count, served_.size());
  EXPECT_TRUE((*c)->quit());
}

TEST_F(Pop3Dovecot, StlsAndPop3sWithoutCaAreRefused) {
  for (auto tls : {net::TlsMode::kStartTls, net::TlsMode::kImplicit}) {
    auto o = options(tls);
    o.connection.ca_file.clear();  // system CAs: the test CA is unknown
    auto c = Client::connect(o);
    ASSERT_FALSE(c);
    EXPECT_EQ(c.error().code, Code::kFailedPrecondition);
    EXPECT_NE(c.error().message.find("TLS certificate verification failed for 127.0.0.1:" +
                                     std::to_string(o.connection.port)),
              std::string::npos)
        << c.error().message;
  }
}

TEST_F(Pop3Dovecot, Pop3sByHostNameLocalhost) {
  auto c = login("alice", "alice-pw", options(net::TlsMode::kImplicit, "localhost"));
  ASSERT_TRUE(c);
  EXPECT_TRUE(c->quit());
}

TEST_F(Pop3Dovecot, WrongPasswordIsUnauthenticated) {
  for (auto mech : {AuthMechanism::kPlain, AuthMechanism::kUserPass, AuthMechanism::kApop}) {
    auto c = Client::connect(options(net::TlsMode::kImplicit));
    ASSERT_TRUE(c) << c.error().message;
    auto st = (*c)->authenticate("alice", "not-the-password", mech);
    ASSERT_FALSE(st);
    EXPECT_EQ(st.error().code, Code::kUnauthenticated) << st.error().message;
    EXPECT_NE(st.error().message.find("[AUTH]"), std::string::npos) << st.error().message;
    EXPECT_EQ(st.error().message.find("not-the-password"), std::string::npos);
  }
}

TEST_F(Pop3Dovecot, PlaintextApopAndExplicitUserPass) {
  auto o = options(net::TlsMode::kNone);
  // No TLS, no permission for plaintext passwords: kAuto picks APOP (Dovecot offers it).
  auto c = login("alice", "alice-pw", o);
  ASSERT_TRUE(c);
  EXPECT_FALSE(c->tls_active());
  EXPECT_TRUE(c->quit());
  auto refused = Client::connect(o);
  ASSERT_TRUE(refused);
  EXPECT_EQ((*refused)->authenticate("alice", "alice-pw", AuthMechanism::kUserPass).error().code,
            Code::kFailedPrecondition);
  o.allow_plaintext_password = true;
  auto allowed = login("alice", "alice-pw", o, AuthMechanism::kUserPass);
  ASSERT_TRUE(allowed);
  EXPECT_TRUE(allowed->quit());
}

TEST_F(Pop3Dovecot, DeleSemantics) {
  server_->call(
      {{"cmd", "append"}, {"user", "dele"}, {"folder", "INBOX"}, {"generate", 5}, {"seed", 9}});
  std::uint32_t uidvalidity = 0;
  const auto before = served("dele", &uidvalidity);
  ASSERT_EQ(before.size(), 5U);
  const auto o = options(net::TlsMode::kImplicit);
  {
    auto c = login("dele", "dele-pw", o);
    ASSERT_TRUE(c);
    ASSERT_TRUE(c->dele(MessageNumber{2}));
    auto stat = c->stat();
    ASSERT_TRUE(stat);
    EXPECT_EQ(stat->count, 4U);  // marked messages do not count
    EXPECT_EQ(c->retr(MessageNumber{2}).error().code, Code::kNotFound);
    EXPECT_EQ(c->dele(MessageNumber{2}).error().code, Code::kNotFound);
    EXPECT_EQ(c->dele(MessageNumber{99}).error().code, Code::kNotFound);
    auto uidl = c->uidl();
    ASSERT_TRUE(uidl);
    ASSERT_EQ(uidl->size(), 4U);  // the marked one is not listed; numbers keep their gaps
    EXPECT_EQ(to_int((*uidl)[1].number), 3U);
    EXPECT_TRUE(c->quit());  // commits
  }
  {
    // A session that ends without QUIT commits nothing.
    auto c = login("dele", "dele-pw", o);
    ASSERT_TRUE(c);
    ASSERT_TRUE(c->dele(MessageNumber{1}));
    c->abort();
  }
  auto c = login("dele", "dele-pw", o);
  ASSERT_TRUE(c);
  auto uidl = c->uidl();
  ASSERT_TRUE(uidl);
  std::vector<std::string> got;
  for (const auto& e : *uidl) {
    got.push_back(e.uid);
  }
  EXPECT_EQ(got, (std::vector<std::string>{expected_uidl(before[0].uid, uidvalidity),
                                           expected_uidl(before[2].uid, uidvalidity),
                                           expected_uidl(before[3].uid, uidvalidity),
                                           expected_uidl(before[4].uid, uidvalidity)}));
  auto m = c->retr(MessageNumber{2});  // renumbered: was message 3
  ASSERT_TRUE(m);
  EXPECT_EQ(sha_hex(*m), before[2].sha256);
  EXPECT_TRUE(c->quit());
}

TEST_F(Pop3Dovecot, ConnectionCutMidRetrIsUnavailable) {
  server_->call({{"cmd", "append"},
                 {"user", "cut"},
                 {"folder", "INBOX"},
                 {"generate", 40},
                 {"seed", 21},
                 {"size", 5000}});
  const auto port =
      server_->call({{"cmd", "proxy"}, {"target", "pop3"}, {"cut_after", 60'000}}).at("port");
  auto o = options(net::TlsMode::kNone);
  o.connection.port = port.get<std::uint16_t>();
  o.allow_plaintext_password = true;
  auto c = login("cut", "cut-pw", o);
  ASSERT_TRUE(c);
  int delivered = 0;
  auto st = c->retr_many(numbers_1_to(40), [&delivered](MessageNumber, std::string) {
    ++delivered;
    return ok_status();
  });
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, Code::kUnavailable) << st.error().message;
  EXPECT_NE(st.error().message.find("POP3 RETR"), std::string::npos) << st.error().message;
  EXPECT_GT(delivered, 0);
  EXPECT_LT(delivered, 40);
  EXPECT_EQ(c->stat().error().code, Code::kFailedPrecondition);
}

TEST_F(Pop3Dovecot, KilledServerProcessIsUnavailable) {
  auto c = login("alice", "alice-pw", options(net::TlsMode::kImplicit));
  ASSERT_TRUE(c);
  EXPECT_GE(server_->call({{"cmd", "kill_pop3_processes"}}).at("killed").get<int>(), 1);
  auto stat = c->stat();
  ASSERT_FALSE(stat);
  EXPECT_EQ(stat.error().code, Code::kUnavailable) << stat.error().message;
}

TEST_F(Pop3Dovecot, BulkPullRate) {
  const char* env = std::getenv("MAILVAULT_POP3_BULK");
  const int n = env != nullptr ? std::atoi(env) : 5000;
  auto appended = server_->call(
      {{"cmd", "append"}, {"user", "bulk"}, {"folder", "INBOX"}, {"generate", n}, {"seed", 77}});
  const auto messages = served("bulk");
  ASSERT_EQ(messages.size(), static_cast<std::size_t>(n));
  auto c = login("bulk", "bulk-pw", options(net::TlsMode::kImplicit));
  ASSERT_TRUE(c);
  const auto start = std::chrono::steady_clock::now();
  auto uidl = c->uidl();
  ASSERT_TRUE(uidl);
  const auto hashes = retr_all(*c, messages.size());
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_EQ(hashes.size(), messages.size());
  for (std::size_t i = 0; i < messages.size(); ++i) {
    ASSERT_EQ(hashes[i], messages[i].sha256) << "message " << i + 1;
  }
  std::cout << "[ pop3 ] UIDL + pipelined RETR of " << n << " messages (" << c->bytes_read() / 1024
            << " KiB) over TLS: " << seconds << " s, " << static_cast<int>(n / seconds)
            << " messages/s (append took " << appended.value("seconds", 0.0) << " s)\n";
  EXPECT_TRUE(c->quit());
}

TEST(Pop3DovecotWrongCert, HostNameMismatchRefused) {
  std::string skip;
  std::unique_ptr<DovecotServer> server;
  try {
    server = DovecotServer::launch({"alice:pw"}, {.wrong_cert = true, .apop = false}, skip);
  } catch (const std::exception& e) {
    FAIL() << e.what();
  }
  if (!server) {
    GTEST_SKIP() << skip;
  }
  for (const char* host : {"localhost", "127.0.0.1"}) {
    ConnectOptions o;
    o.connection.host = host;
    o.connection.port = server->port("pop3s");
    o.connection.ca_file = server->ca_file();
    auto c = Client::connect(o);
    ASSERT_FALSE(c);
    EXPECT_EQ(c.error().code, Code::kFailedPrecondition);
    EXPECT_NE(c.error().message.find("host name mismatch: certificate is not valid for '" +
                                     std::string(host) + "'"),
              std::string::npos)
        << c.error().message;
  }
  ConnectOptions o;
  o.connection.host = "127.0.0.1";
  o.connection.port = server->port("pop3");
  o.connection.tls = net::TlsMode::kNone;
  auto c = Client::connect(o);
  ASSERT_TRUE(c);
  EXPECT_FALSE((*c)->apop_available());  // --no-apop
}

}  // namespace
}  // namespace mailvault::ingest::pop3
