// The connection stream without a client library: deadlines, the stop flag, and TLS handshakes
// that a peer stalls or answers with garbage, over a socketpair.
#include "server-imap/net/stream.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <string>
#include <thread>

#include <gtest/gtest.h>

namespace mailvault::imapd {
namespace {

using std::chrono::milliseconds;

class Pair {
 public:
  Pair() {
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, fds_.data()), 0);
    ::fcntl(fds_[0], F_SETFL, ::fcntl(fds_[0], F_GETFL) | O_NONBLOCK);
  }

  ~Pair() {
    ::close(fds_[0]);
    ::close(fds_[1]);
  }

  Pair(const Pair&) = delete;
  Pair& operator=(const Pair&) = delete;
  Pair(Pair&&) = delete;
  Pair& operator=(Pair&&) = delete;

  [[nodiscard]] int server() const { return fds_[0]; }

  [[nodiscard]] int peer() const { return fds_[1]; }

 private:
  std::array<int, 2> fds_{};
};

std::shared_ptr<const TlsContext> context() {
  auto pair = crypto::generate_self_signed();
  EXPECT_TRUE(pair);
  auto ctx = TlsContext::create(*pair, "test.pem");
  EXPECT_TRUE(ctx) << ctx.error().message;
  return *ctx;
}

TEST(Stream, PlainReadWriteAndDeadlines) {
  Pair p;
  std::atomic<bool> stop{false};
  Stream s(p.server(), stop);
  ASSERT_TRUE(s.write_all("* OK hi\r\n", Clock::now() + milliseconds{500}));
  std::array<char, 64> got{};
  ASSERT_EQ(::read(p.peer(), got.data(), got.size()), 9);
  ASSERT_EQ(::write(p.peer(), "a NOOP\r\n", 8), 8);
  std::array<char, 64> buf{};
  auto r = s.read(buf, Clock::now() + milliseconds{500});
  EXPECT_EQ(r.status, Stream::ReadStatus::kData);
  EXPECT_EQ(std::string(buf.data(), r.bytes), "a NOOP\r\n");
  const auto t0 = Clock::now();
  r = s.read(buf, t0 + milliseconds{100});
  EXPECT_EQ(r.status, Stream::ReadStatus::kTimeout);
  EXPECT_GE(Clock::now() - t0, milliseconds{100});
  stop = true;
  r = s.read(buf, Clock::now() + std::chrono::seconds{30});
  EXPECT_EQ(r.status, Stream::ReadStatus::kStopped);
  EXPECT_FALSE(s.tls_active());
}

TEST(Stream, PeerCloseIsClosed) {
  Pair p;
  std::atomic<bool> stop{false};
  Stream s(p.server(), stop);
  ::shutdown(p.peer(), SHUT_WR);
  std::array<char, 64> buf{};
  EXPECT_EQ(s.read(buf, Clock::now() + milliseconds{500}).status, Stream::ReadStatus::kClosed);
}

TEST(Stream, StalledHandshakeEndsAtTheDeadline) {
  Pair p;
  std::atomic<bool> stop{false};
  Stream s(p.server(), stop);
  const auto t0 = Clock::now();
  auto st = s.start_tls(*context(), t0 + milliseconds{200});
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, Code::kDeadlineExceeded);
  EXPECT_GE(Clock::now() - t0, milliseconds{200});
  EXPECT_FALSE(s.tls_active());
}

TEST(Stream, GarbageHandshakeFails) {
  Pair p;
  std::atomic<bool> stop{false};
  Stream s(p.server(), stop);
  const std::string garbage = "a LOGIN user password\r\n" + std::string(600, 'x');
  ASSERT_EQ(::write(p.peer(), garbage.data(), garbage.size()),
            static_cast<ssize_t>(garbage.size()));
  auto st = s.start_tls(*context(), Clock::now() + std::chrono::seconds{10});
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, Code::kUnavailable);
  EXPECT_NE(st.error().message.find("TLS handshake failed"), std::string::npos);
}

TEST(Stream, StopEndsAHandshake) {
  Pair p;
  std::atomic<bool> stop{false};
  Stream s(p.server(), stop);
  std::thread stopper([&] {
    std::this_thread::sleep_for(milliseconds{100});
    stop = true;
  });
  auto st = s.start_tls(*context(), Clock::now() + std::chrono::seconds{30});
  stopper.join();
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, Code::kCancelled);
}

TEST(TlsContext, RefusesAKeyOfAnotherCertificate) {
  auto a = crypto::generate_self_signed();
  auto b = crypto::generate_self_signed();
  ASSERT_TRUE(a && b);
  auto ctx = TlsContext::create({a->certificate, b->private_key}, "a.pem");
  ASSERT_FALSE(ctx);
  EXPECT_NE(ctx.error().message.find("a.pem"), std::string::npos);
}

}  // namespace
}  // namespace mailvault::imapd
