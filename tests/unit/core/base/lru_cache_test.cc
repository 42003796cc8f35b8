// ByteLruCache: byte-bounded, least recently used out first, a value too large for the bound is
// handed back but not kept, the first value stored for an id wins, second-request admission
// keeps only what is put twice (within the ids it remembers), and concurrent use is safe.
#include "core/base/lru_cache.h"

#include <cstddef>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace mailvault {
namespace {

using Cache = ByteLruCache<std::string>;
constexpr std::size_t kOver = Cache::kEntryOverhead;

std::shared_ptr<const std::string> text(std::size_t n, char c) {
  return std::make_shared<const std::string>(n, c);
}

TEST(ByteLruCacheTest, KeepsWhatFitsAndEvictsTheLeastRecentlyUsed) {
  Cache cache(3 * (100 + kOver));
  for (int id = 1; id <= 3; ++id)
    cache.put(MessageId{id}, text(100, static_cast<char>('a' + id)), 100);
  EXPECT_EQ(cache.size(), 3U);
  EXPECT_EQ(cache.bytes(), 3 * (100 + kOver));
  ASSERT_NE(cache.find(MessageId{1}), nullptr);  // 1 is now the most recently used
  cache.put(MessageId{4}, text(100, 'e'), 100);  // evicts 2, the least recently used
  EXPECT_EQ(cache.find(MessageId{2}), nullptr);
  ASSERT_NE(cache.find(MessageId{1}), nullptr);
  EXPECT_EQ(*cache.find(MessageId{1}), std::string(100, 'b'));
  EXPECT_NE(cache.find(MessageId{3}), nullptr);
  EXPECT_NE(cache.find(MessageId{4}), nullptr);
  EXPECT_EQ(cache.size(), 3U);

  // A larger value makes room for itself: as many of the oldest as needed go.
  cache.put(MessageId{5}, text(250, 'f'), 250);
  EXPECT_LE(cache.bytes(), cache.max_bytes());
  EXPECT_NE(cache.find(MessageId{5}), nullptr);
  EXPECT_EQ(cache.size(), 2U);
}

TEST(ByteLruCacheTest, AValueLargerThanTheBoundIsReturnedButNotKept) {
  Cache cache(1000);
  cache.put(MessageId{1}, text(10, 'a'), 10);
  auto big = cache.put(MessageId{2}, text(2000, 'b'), 2000);
  ASSERT_NE(big, nullptr);
  EXPECT_EQ(big->size(), 2000U);
  EXPECT_EQ(cache.find(MessageId{2}), nullptr);
  EXPECT_NE(cache.find(MessageId{1}), nullptr);  // nothing was evicted for it
}

TEST(ByteLruCacheTest, ZeroBytesKeepsNothing) {
  Cache cache(0);
  auto v = cache.put(MessageId{1}, text(1, 'a'), 1);
  EXPECT_EQ(*v, "a");
  EXPECT_EQ(cache.find(MessageId{1}), nullptr);
  EXPECT_EQ(cache.bytes(), 0U);
}

TEST(ByteLruCacheTest, TheFirstValueStoredForAnIdWins) {
  Cache cache(10000);
  auto first = cache.put(MessageId{7}, text(5, 'x'), 5);
  auto second = cache.put(MessageId{7}, text(5, 'y'), 5);
  EXPECT_EQ(second, first);
  EXPECT_EQ(*cache.find(MessageId{7}), "xxxxx");
  EXPECT_EQ(cache.bytes(), 5 + kOver);
}

TEST(ByteLruCacheTest, SecondRequestAdmissionKeepsOnlyValuesPutTwice) {
  Cache cache(10 * (100 + kOver), Cache::Admission::kSecondRequest);
  auto once = cache.put(MessageId{1}, text(100, 'a'), 100);
  EXPECT_EQ(*once, std::string(100, 'a'));       // handed back...
  EXPECT_EQ(cache.find(MessageId{1}), nullptr);  // ...not kept
  EXPECT_EQ(cache.bytes(), 0U);
  cache.put(MessageId{1}, text(100, 'a'), 100);
  EXPECT_NE(cache.find(MessageId{1}), nullptr);

  // A scan of ids read once pushes nothing out.
  for (int id = 100; id < 200; ++id)
    cache.put(MessageId{id}, text(100, 'b'), 100);
  EXPECT_EQ(cache.size(), 1U);
  EXPECT_NE(cache.find(MessageId{1}), nullptr);
}

TEST(ByteLruCacheTest, SecondRequestAdmissionForgetsTheOldestIds) {
  // A 64 KiB cache remembers at least 64 ids (max_bytes / 4 KiB, at least 64).
  Cache cache(std::size_t{64} << 10, Cache::Admission::kSecondRequest);
  cache.put(MessageId{1}, text(10, 'a'), 10);
  for (int id = 1000; id < 1064; ++id)  // 64 more: id 1 is the oldest and forgotten
    cache.put(MessageId{id}, text(10, 'b'), 10);
  cache.put(MessageId{1}, text(10, 'a'), 10);
  EXPECT_EQ(cache.find(MessageId{1}), nullptr);  // a first request again
  cache.put(MessageId{1063}, text(10, 'b'), 10);
  EXPECT_NE(cache.find(MessageId{1063}), nullptr);  // remembered: admitted
  cache.put(MessageId{1}, text(10, 'a'), 10);
  EXPECT_NE(cache.find(MessageId{1}), nullptr);
}

TEST(ByteLruCacheTest, ConcurrentUseKeepsTheBound) {
  Cache cache(50 * (64 + kOver));
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&cache, t] {
      for (int i = 0; i < 5000; ++i) {
        const MessageId id{(i * 7 + t) % 200};
        if (auto hit = cache.find(id)) {
          EXPECT_EQ(*hit, std::string(64, static_cast<char>('a' + to_int(id) % 26)));
        } else {
          cache.put(id, text(64, static_cast<char>('a' + to_int(id) % 26)), 64);
        }
      }
    });
  }
  for (auto& th : threads)
    th.join();
  EXPECT_LE(cache.bytes(), cache.max_bytes());
  EXPECT_EQ(cache.bytes(), cache.size() * (64 + kOver));
}

}  // namespace
}  // namespace mailvault
