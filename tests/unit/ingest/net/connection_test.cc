#include "ingest/net/connection.h"

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "tests/unit/ingest/net/test_server.h"

namespace mailvault::ingest::net {
namespace {

using namespace std::chrono_literals;
using testing::ScriptedServer;
using testing::ServerSide;
using testing::test_pki;

ConnectOptions plain_options(std::uint16_t port) {
  ConnectOptions o;
  o.host = "127.0.0.1";
  o.port = port;
  o.tls = TlsMode::kNone;
  o.connect_timeout = 5s;
  o.io_timeout = 5s;
  return o;
}

ConnectOptions tls_options(std::uint16_t port, const std::string& host = "127.0.0.1") {
  ConnectOptions o = plain_options(port);
  o.host = host;
  o.tls = TlsMode::kImplicit;
  o.ca_file = test_pki().ca_file();
  return o;
}

std::unique_ptr<Connection> must_open(const ConnectOptions& o) {
  auto c = Connection::open(o);
  if (!c) {
    ADD_FAILURE() << "open failed: " << c.error().message;
    return nullptr;
  }
  return std::move(*c);
}

// A script serving TLS with one of the test certificates, then a line, then waiting.
auto tls_hello(const std::string& cert) {
  return [cert](ServerSide& s) {
    s.start_tls(test_pki().cert(cert), test_pki().key(cert));
    s.write("* hello over tls\r\n");
    s.wait_for_close();
  };
}

TEST(Connection, PlainLinesCrLfAndBareLf) {
  ScriptedServer server([](ServerSide& s) {
    s.write("+OK ready\r\nsecond\nthird\r\r\n\r\n");
    s.wait_for_close();
  });
  auto c = must_open(plain_options(server.port()));
  ASSERT_TRUE(c);
  EXPECT_FALSE(c->tls_active());
  EXPECT_EQ(*c->read_line(100), "+OK ready");
  EXPECT_EQ(*c->read_line(100), "second");
  EXPECT_EQ(*c->read_line(100), "third\r");  // only one CR belongs to the line ending
  EXPECT_EQ(*c->read_line(100), "");
  EXPECT_EQ(c->bytes_read(), 28U);
}

TEST(Connection, WriteAllAndEcho) {
  ScriptedServer server([](ServerSide& s) {
    const std::string line = s.read_line();
    s.write("echo " + line + "\r\n");
    s.wait_for_close();
  });
  auto c = must_open(plain_options(server.port()));
  ASSERT_TRUE(c);
  ASSERT_TRUE(c->write_all("CAPA\r\n"));
  EXPECT_EQ(*c->read_line(100), "echo CAPA");
}

TEST(Connection, ReadExactAcrossBufferBoundaries) {
  std::string big;
  for (std::size_t i = 0; i < 300'000; ++i) {
    big.push_back(static_cast<char>('a' + (i * 7) % 26));
  }
  ScriptedServer server([&big](ServerSide& s) {
    // Several writes so that the client sees many partial reads.
    s.write("* 1 FETCH {" + std::to_string(big.size()) + "}\r\n");
    for (std::size_t off = 0; off < big.size(); off += 10'007) {
      s.write(std::string_view(big).substr(off, 10'007));
    }
    s.write(")\r\nsmall\r\ntail\r\n");
    s.wait_for_close();
  });
  auto c = must_open(plain_options(server.port()));
  ASSERT_TRUE(c);
  EXPECT_EQ(*c->read_line(100), "* 1 FETCH {300000}");
  std::string out = "prefix:";
  // Small first (served from the buffer), then large (read straight into `out`).
  ASSERT_TRUE(c->read_exact(5, out));
  ASSERT_TRUE(c->read_exact(big.size() - 5, out));
  EXPECT_EQ(out, "prefix:" + big);
  std::string s;
  ASSERT_TRUE(c->read_exact(3, s));
  EXPECT_EQ(s, ")\r\n");
  ASSERT_TRUE(c->read_exact(0, s));
  EXPECT_EQ(*c->read_line(100), "small");
  EXPECT_EQ(*c->read_line(100), "tail");
  EXPECT_EQ(c->bytes_read(), 20 + big.size() + 3 + 7 + 6);
}

// read_lines gives the same lines as read_line, across many partial socket reads, stops where
// the sink says (what follows stays buffered for read_line), and copies nothing per line.
TEST(Connection, ReadLinesAcrossBufferBoundariesThenReadLine) {
  std::string body;
  std::vector<std::string> expected;
  for (int i = 0; i < 20'000; ++i) {
    std::string line =
        "line " + std::to_string(i) + std::string(static_cast<std::size_t>(i % 97), 'x');
    if (i % 1000 == 7) {
      line.clear();  // empty lines too
    }
    expected.push_back(i % 3 == 0 ? line + "\r" : line);  // "a\r\r\n" keeps one CR
    body += line + (i % 3 == 0 ? "\r\r\n" : (i % 5 == 0 ? "\n" : "\r\n"));
  }
  ScriptedServer server([&body](ServerSide& s) {
    for (std::size_t off = 0; off < body.size(); off += 4'099) {
      s.write(std::string_view(body).substr(off, 4'099));
    }
    s.write("END\r\n+OK next reply\r\n");
    s.wait_for_close();
  });
  auto c = must_open(plain_options(server.port()));
  ASSERT_TRUE(c);
  std::vector<std::string> got;
  auto st = c->read_lines(
      [&got](std::string_view line) {
        if (line == "END") {
          return true;
        }
        got.emplace_back(line);
        return false;
      },
      1000);
  ASSERT_TRUE(st) << st.error().message;
  EXPECT_EQ(got, expected);
  EXPECT_EQ(*c->read_line(100), "+OK next reply");
}

TEST(Connection, ReadLinesLongLineAndPeerClose) {
  ScriptedServer server([](ServerSide& s) {
    s.write("ok\r\n" + std::string(5000, 'x') + "\r\n");
    s.wait_for_close();
  });
  auto c = must_open(plain_options(server.port()));
  ASSERT_TRUE(c);
  int lines = 0;
  auto st = c->read_lines([&lines](std::string_view) { return ++lines == 100; }, 1000);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, Code::kResourceExhausted);
  EXPECT_EQ(lines, 1);

  ScriptedServer closing([](ServerSide& s) {
    s.write("one\r\ntwo\r\npartial");
    s.close();
  });
  auto d = must_open(plain_options(closing.port()));
  ASSERT_TRUE(d);
  std::vector<std::string> got;
  st = d->read_lines(
      [&got](std::string_view line) {
        got.emplace_back(line);
        return false;
      },
      100);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, Code::kUnavailable);
  EXPECT_NE(st.error().message.find("middle of a line"), std::string::npos) << st.error().message;
  EXPECT_EQ(got, (std::vector<std::string>{"one", "two"}));
}

TEST(Connection, LongLineIsResourceExhausted) {
  ScriptedServer server([](ServerSide& s) {
    s.write("short\r\n" + std::string(5000, 'x') + "\r\n");
    s.wait_for_close();
  });
  auto c = must_open(plain_options(server.port()));
  ASSERT_TRUE(c);
  EXPECT_EQ(*c->read_line(10), "short");
  auto r = c->read_line(1000);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Code::kResourceExhausted);
  EXPECT_NE(r.error().message.find("longer than 1000 bytes"), std::string::npos);
  // The stream is broken from then on.
  EXPECT_EQ(c->read_line(10000).error().code, Code::kResourceExhausted);
}

TEST(Connection, LineOfExactlyMaxBytesWithCrLf) {
  ScriptedServer server([](ServerSide& s) {
    s.write(std::string(10, 'y') + "\r\n" + std::string(11, 'z') + "\r\n");
    s.wait_for_close();
  });
  auto c = must_open(plain_options(server.port()));
  ASSERT_TRUE(c);
  EXPECT_EQ(*c->read_line(10), std::string(10, 'y'));
  EXPECT_EQ(c->read_line(10).error().code, Code::kResourceExhausted);
}

TEST(Connection, PeerCloseMidLineIsUnavailable) {
  ScriptedServer server([](ServerSide& s) {
    s.write("+OK complete\r\npartial line");
    s.close();
  });
  auto c = must_open(plain_options(server.port()));
  ASSERT_TRUE(c);
  EXPECT_EQ(*c->read_line(100), "+OK complete");
  auto r = c->read_line(100);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Code::kUnavailable);
  EXPECT_NE(r.error().message.find("closed by peer"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("middle of a line"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("127.0.0.1:" + std::to_string(server.port())),
            std::string::npos);
}

TEST(Connection, PeerCloseDuringReadExact) {
  ScriptedServer server([](ServerSide& s) {
    s.write("only ten b");
    s.close();
  });
  auto c = must_open(plain_options(server.port()));
  ASSERT_TRUE(c);
  std::string out;
  auto st = c->read_exact(100, out);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, Code::kUnavailable);
}

TEST(Connection, ReadTimeoutIsDeadlineExceeded) {
  ScriptedServer server([](ServerSide& s) { s.wait_for_close(); });
  auto o = plain_options(server.port());
  o.io_timeout = 200ms;
  auto c = must_open(o);
  ASSERT_TRUE(c);
  const auto start = std::chrono::steady_clock::now();
  auto r = c->read_line(100);
  const auto took = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Code::kDeadlineExceeded);
  EXPECT_NE(r.error().message.find("timed out after 200 ms"), std::string::npos)
      << r.error().message;
  EXPECT_GE(took, 190ms);
  EXPECT_LT(took, 3s);
}

TEST(Connection, TlsHandshakeTimeoutIsDeadlineExceeded) {
  ScriptedServer server([](ServerSide& s) { s.wait_for_close(); });  // never speaks TLS
  auto o = tls_options(server.port());
  o.connect_timeout = 300ms;
  auto c = Connection::open(o);
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().code, Code::kDeadlineExceeded);
  EXPECT_NE(c.error().message.find("TLS handshake"), std::string::npos) << c.error().message;
}

TEST(Connection, ConnectionRefusedIsUnavailable) {
  std::uint16_t port = 0;
  {
    asio::io_context io;
    asio::ip::tcp::acceptor a(io, asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    port = a.local_endpoint().port();
  }  // closed: nothing listens there now
  auto c = Connection::open(plain_options(port));
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().code, Code::kUnavailable);
  EXPECT_NE(c.error().message.find("127.0.0.1:" + std::to_string(port)), std::string::npos);
  EXPECT_NE(c.error().message.find("refused"), std::string::npos) << c.error().message;
}

TEST(Connection, UnresolvableHostIsUnavailable) {
  auto o = plain_options(110);
  o.host = "no-such-host.invalid";
  auto c = Connection::open(o);
  ASSERT_FALSE(c);
  EXPECT_TRUE(c.error().code == Code::kUnavailable || c.error().code == Code::kDeadlineExceeded)
      << c.error().message;
  EXPECT_NE(c.error().message.find("no-such-host.invalid"), std::string::npos);
}

TEST(Connection, MissingHostOrPortIsInvalidArgument) {
  auto o = plain_options(0);
  EXPECT_EQ(Connection::open(o).error().code, Code::kInvalidArgument);
  o.port = 1;
  o.host.clear();
  EXPECT_EQ(Connection::open(o).error().code, Code::kInvalidArgument);
}

TEST(Connection, ImplicitTlsVerifiedWithCaFile) {
  ScriptedServer server(tls_hello("good"));
  auto c = must_open(tls_options(server.port()));
  ASSERT_TRUE(c);
  EXPECT_TRUE(c->tls_active());
  EXPECT_EQ(*c->read_line(100), "* hello over tls");
  EXPECT_EQ(c->bytes_read(), 18U);  // after decryption
}

TEST(Connection, ImplicitTlsByDnsNameLocalhost) {
  ScriptedServer server(tls_hello("good"));
  auto c = must_open(tls_options(server.port(), "localhost"));
  ASSERT_TRUE(c);
  EXPECT_EQ(*c->read_line(100), "* hello over tls");
}

TEST(Connection, UntrustedCaFailsClearly) {
  ScriptedServer server(tls_hello("good"));
  auto o = tls_options(server.port());
  o.ca_file.clear();  // system CAs do not know our test CA
  auto c = Connection::open(o);
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().code, Code::kFailedPrecondition);
  const std::string& m = c.error().message;
  EXPECT_NE(m.find("TLS certificate verification failed for 127.0.0.1:" +
                   std::to_string(server.port()) + ": unable to get local issuer certificate"),
            std::string::npos)
      << m;
}

TEST(Connection, SelfSignedFailsClearly) {
  ScriptedServer server(tls_hello("self"));
  auto c = Connection::open(tls_options(server.port()));
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().code, Code::kFailedPrecondition);
  EXPECT_NE(c.error().message.find("self-signed certificate"), std::string::npos)
      << c.error().message;
}

TEST(Connection, HostNameMismatchRefused) {
  ScriptedServer server(tls_hello("wrong"));
  auto c = Connection::open(tls_options(server.port(), "localhost"));
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().code, Code::kFailedPrecondition);
  EXPECT_NE(c.error().message.find(
                "host name mismatch: certificate is not valid for 'localhost' (it names "
                "DNS:wrong.example)"),
            std::string::npos)
      << c.error().message;
}

TEST(Connection, IpAddressMismatchRefused) {
  ScriptedServer server(tls_hello("wrong"));
  auto c = Connection::open(tls_options(server.port(), "127.0.0.1"));
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().code, Code::kFailedPrecondition);
  EXPECT_NE(c.error().message.find("certificate is not valid for '127.0.0.1'"), std::string::npos)
      << c.error().message;
}

TEST(Connection, VerificationOffAcceptsAnyCertificate) {
  ScriptedServer server(tls_hello("wrong"));
  auto o = tls_options(server.port());
  o.verify_peer = false;
  o.ca_file.clear();
  auto c = must_open(o);
  ASSERT_TRUE(c);
  EXPECT_EQ(*c->read_line(100), "* hello over tls");
}

TEST(Connection, MissingCaFileIsFailedPrecondition) {
  ScriptedServer server(tls_hello("good"));
  auto o = tls_options(server.port());
  o.ca_file = "/nonexistent/ca.pem";
  auto c = Connection::open(o);
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().code, Code::kFailedPrecondition);
  EXPECT_NE(c.error().message.find("/nonexistent/ca.pem"), std::string::npos);
}

TEST(Connection, TlsToPlaintextServerFails) {
  ScriptedServer server([](ServerSide& s) {
    s.write("+OK this is not TLS at all, just a greeting line\r\n");
    s.wait_for_close();
  });
  auto c = Connection::open(tls_options(server.port()));
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().code, Code::kUnavailable);
  EXPECT_NE(c.error().message.find("TLS handshake with 127.0.0.1:"), std::string::npos)
      << c.error().message;
}

TEST(Connection, StartTlsUpgradeDiscardsPlaintextLeftovers) {
  ScriptedServer server([](ServerSide& s) {
    s.write("+OK plain greeting\r\n");
    EXPECT_EQ(s.read_line(), "STLS");
    // Bytes after the go-ahead, in the same segment: a client must not take them as TLS data.
    s.write("+OK begin TLS\r\n+OK injected\r\n");
    s.start_tls(test_pki().cert("good"), test_pki().key("good"));
    EXPECT_EQ(s.read_line(), "CAPA");
    s.write("+OK secure\r\n");
    s.wait_for_close();
  });
  auto o = tls_options(server.port());
  o.tls = TlsMode::kStartTls;
  auto c = must_open(o);
  ASSERT_TRUE(c);
  EXPECT_FALSE(c->tls_active());
  EXPECT_EQ(*c->read_line(100), "+OK plain greeting");
  ASSERT_TRUE(c->write_all("STLS\r\n"));
  EXPECT_EQ(*c->read_line(100), "+OK begin TLS");
  auto st = c->start_tls();
  ASSERT_TRUE(st) << st.error().message;
  EXPECT_TRUE(c->tls_active());
  ASSERT_TRUE(c->write_all("CAPA\r\n"));
  EXPECT_EQ(*c->read_line(100), "+OK secure");
  EXPECT_EQ(c->start_tls().error().code, Code::kFailedPrecondition);
  c.reset();
  EXPECT_EQ(server.join(), "");
}

TEST(Connection, StartTlsVerifiesHostName) {
  ScriptedServer server([](ServerSide& s) {
    s.write("+OK\r\n");
    s.start_tls(test_pki().cert("wrong"), test_pki().key("wrong"));
  });
  auto o = tls_options(server.port(), "localhost");
  o.tls = TlsMode::kStartTls;
  auto c = must_open(o);
  ASSERT_TRUE(c);
  EXPECT_EQ(*c->read_line(100), "+OK");
  auto st = c->start_tls();
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, Code::kFailedPrecondition);
  EXPECT_NE(st.error().message.find("host name mismatch"), std::string::npos);
}

TEST(Connection, TlsPeerCloseMidLine) {
  ScriptedServer server([](ServerSide& s) {
    s.start_tls(test_pki().cert("good"), test_pki().key("good"));
    s.write("+OK\r\nhalf a li");
    s.close();  // no close_notify
  });
  auto c = must_open(tls_options(server.port()));
  ASSERT_TRUE(c);
  EXPECT_EQ(*c->read_line(100), "+OK");
  auto r = c->read_line(100);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Code::kUnavailable);
  EXPECT_NE(r.error().message.find("closed by peer"), std::string::npos) << r.error().message;
}

TEST(Connection, TlsBulkReadAcrossRecords) {
  std::string big(1'000'000, 'm');
  for (std::size_t i = 0; i < big.size(); i += 77) {
    big[i] = '\n';
  }
  ScriptedServer server([&big](ServerSide& s) {
    s.start_tls(test_pki().cert("good"), test_pki().key("good"));
    s.write(big);
    s.write("\r\n.\r\n");
    s.wait_for_close();
  });
  auto c = must_open(tls_options(server.port()));
  ASSERT_TRUE(c);
  std::string joined;
  while (true) {
    auto line = c->read_line(1000);
    ASSERT_TRUE(line) << line.error().message;
    if (*line == ".") {
      break;
    }
    joined += *line;
    joined += '\n';
  }
  EXPECT_EQ(joined, big + "\n");  // the final "\r\n" closed the last line
  EXPECT_EQ(c->bytes_read(), big.size() + 5);
}

TEST(Connection, CloseFromAnotherThreadUnblocksRead) {
  ScriptedServer server([](ServerSide& s) { s.wait_for_close(); });
  auto c = must_open(plain_options(server.port()));
  ASSERT_TRUE(c);
  std::thread closer([&c] {
    std::this_thread::sleep_for(150ms);
    c->close();
  });
  const auto start = std::chrono::steady_clock::now();
  auto r = c->read_line(100);
  closer.join();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Code::kCancelled) << r.error().message;
  EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
  EXPECT_EQ(c->write_all("x").error().code, Code::kCancelled);
  c->close();  // idempotent
}

TEST(Connection, CloseBeforeOperationCancelsIt) {
  ScriptedServer server([](ServerSide& s) {
    s.write("+OK\r\n");
    s.wait_for_close();
  });
  auto c = must_open(plain_options(server.port()));
  ASSERT_TRUE(c);
  std::thread([&c] { c->close(); }).join();
  EXPECT_EQ(c->read_line(100).error().code, Code::kCancelled);
}

}  // namespace
}  // namespace mailvault::ingest::net
