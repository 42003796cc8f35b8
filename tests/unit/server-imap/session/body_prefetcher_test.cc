// BodyPrefetcher: bodies come back in order, the first error ends the reading, the queue stays
// within its byte bound, and destroying it early stops and joins the reader.
#include "server-imap/session/body_prefetcher.h"

#include <atomic>
#include <chrono>
#include <string>
#include <thread>

#include <gtest/gtest.h>

namespace mailvault::imapd {
namespace {

TEST(BodyPrefetcher, BodiesComeInOrder) {
  BodyPrefetcher p(
      500,
      [](std::size_t pos) -> Result<std::string> {
        return std::string(pos % 97, 'x') + std::to_string(pos);
      },
      1000);
  for (std::size_t pos = 0; pos < 500; ++pos) {
    auto body = p.take();
    ASSERT_TRUE(body.has_value());
    EXPECT_EQ(*body, std::string(pos % 97, 'x') + std::to_string(pos));
  }
}

TEST(BodyPrefetcher, TheFirstErrorEndsTheReading) {
  std::atomic<std::size_t> calls{0};
  {
    BodyPrefetcher p(
        100,
        [&](std::size_t pos) -> Result<std::string> {
          ++calls;
          if (pos == 3)
            return make_error(Code::kDataLoss, "blob damaged");
          return std::string("ok");
        },
        1 << 20);
    for (int i = 0; i < 3; ++i)
      EXPECT_TRUE(p.take().has_value());
    auto bad = p.take();
    ASSERT_FALSE(bad.has_value());
    EXPECT_EQ(bad.error().code, Code::kDataLoss);
  }
  EXPECT_EQ(calls.load(), 4U);  // nothing read after the error
}

TEST(BodyPrefetcher, StaysWithinItsByteBound) {
  std::atomic<std::size_t> read{0};
  BodyPrefetcher p(
      50,
      [&](std::size_t) -> Result<std::string> {
        ++read;
        return std::string(100, 'a');
      },
      250);  // at most 3 bodies queued: the reader waits while 250 bytes or more are
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_LE(read.load(), 3U);
  for (int i = 0; i < 50; ++i)
    ASSERT_TRUE(p.take().has_value());
  EXPECT_EQ(read.load(), 50U);
}

TEST(BodyPrefetcher, DestroyedEarlyStopsTheReader) {
  std::atomic<std::size_t> read{0};
  {
    BodyPrefetcher p(
        1000000,
        [&](std::size_t) -> Result<std::string> {
          ++read;
          return std::string(1000, 'b');
        },
        10000);
    EXPECT_TRUE(p.take().has_value());
  }  // joins here
  EXPECT_LT(read.load(), 1000000U);
}

}  // namespace
}  // namespace mailvault::imapd
