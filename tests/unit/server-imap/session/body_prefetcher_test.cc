// BodyPrefetcher, with one reader thread and with several: bodies come back in order whatever
// order the readers finish in, the first error ends the reading, the queue stays within its
// byte bound, and destroying it early stops and joins the readers.
#include "server-imap/session/body_prefetcher.h"

#include <atomic>
#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <thread>
#include <utility>

#include <gtest/gtest.h>

namespace mailvault::imapd {
namespace {

BodyPrefetcher::Body body_of(std::string s) {
  return std::make_shared<const std::string>(std::move(s));
}

class BodyPrefetcherTest : public ::testing::TestWithParam<std::size_t> {
 protected:
  std::size_t readers() const { return GetParam(); }
};

TEST_P(BodyPrefetcherTest, BodiesComeInOrder) {
  BodyPrefetcher p(
      500,
      [](std::size_t pos) -> Result<BodyPrefetcher::Body> {
        // Uneven read times, so that several readers finish out of order.
        if (pos % 7 == 0)
          std::this_thread::sleep_for(std::chrono::microseconds(200));
        return body_of(std::string(pos % 97, 'x') + std::to_string(pos));
      },
      1000, readers());
  for (std::size_t pos = 0; pos < 500; ++pos) {
    auto body = p.take();
    ASSERT_TRUE(body.has_value());
    EXPECT_EQ(**body, std::string(pos % 97, 'x') + std::to_string(pos));
  }
}

TEST_P(BodyPrefetcherTest, TheFirstErrorEndsTheReading) {
  std::atomic<std::size_t> calls{0};
  {
    BodyPrefetcher p(
        1000,
        [&](std::size_t pos) -> Result<BodyPrefetcher::Body> {
          ++calls;
          if (pos == 3)
            return make_error(Code::kDataLoss, "blob damaged");
          return body_of(std::string(100000, 'o'));
        },
        1 << 20, readers());  // about 10 bodies ahead at most
    for (int i = 0; i < 3; ++i)
      EXPECT_TRUE(p.take().has_value());
    auto bad = p.take();
    ASSERT_FALSE(bad.has_value());
    EXPECT_EQ(bad.error().code, Code::kDataLoss);
    // Other readers may have claimed positions after 3 before the error came back (they read
    // ahead), but once it has, nothing more is read: the count stays put.
    const std::size_t after_error = calls.load();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    EXPECT_EQ(calls.load(), after_error);
    EXPECT_LT(after_error, 1000U);
  }
  if (readers() == 1) {
    EXPECT_EQ(calls.load(), 4U);  // one reader: nothing read after the error at all
  }
}

TEST_P(BodyPrefetcherTest, StaysWithinItsByteBound) {
  std::atomic<std::size_t> read{0};
  BodyPrefetcher p(
      50,
      [&](std::size_t) -> Result<BodyPrefetcher::Body> {
        ++read;
        return body_of(std::string(100, 'a'));
      },
      250, readers());  // no claim while 250 bytes or more wait: 3 bodies, +1 per other reader
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_LE(read.load(), 2U + readers());
  for (int i = 0; i < 50; ++i)
    ASSERT_TRUE(p.take().has_value());
  EXPECT_EQ(read.load(), 50U);
}

TEST_P(BodyPrefetcherTest, DestroyedEarlyStopsTheReaders) {
  std::atomic<std::size_t> read{0};
  {
    BodyPrefetcher p(
        1000000,
        [&](std::size_t) -> Result<BodyPrefetcher::Body> {
          ++read;
          return body_of(std::string(1000, 'b'));
        },
        10000, readers());
    EXPECT_TRUE(p.take().has_value());
  }  // joins here
  EXPECT_LT(read.load(), 1000000U);
}

INSTANTIATE_TEST_SUITE_P(Readers, BodyPrefetcherTest, ::testing::Values(1, 2, 4),
                         [](const auto& p) { return std::to_string(p.param) + "_readers"; });

}  // namespace
}  // namespace mailvault::imapd
