#include "core/base/thread_pool.h"

#include <atomic>
#include <numeric>
#include <vector>

#include <gtest/gtest.h>

#include "core/base/result.h"

namespace mailvault {
namespace {

TEST(ThreadPool, ParallelForVisitsEveryIndexOnce) {
  ThreadPool pool(3);
  for (std::size_t n : {0u, 1u, 2u, 7u, 1000u}) {
    std::vector<std::atomic<int>> seen(n);
    pool.parallel_for(n, [&](std::size_t i) { seen[i].fetch_add(1); });
    for (std::size_t i = 0; i < n; ++i)
      EXPECT_EQ(seen[i].load(), 1) << "n=" << n << " i=" << i;
  }
}

TEST(ThreadPool, NestedParallelForDoesNotDeadlock) {
  ThreadPool pool(2);
  std::atomic<int> total{0};
  pool.parallel_for(8, [&](std::size_t) { pool.parallel_for(8, [&](std::size_t) { total++; }); });
  EXPECT_EQ(total.load(), 64);
}

TEST(ThreadPool, SubmitRunsEverythingBeforeDestruction) {
  std::atomic<int> ran{0};
  {
    ThreadPool pool(2, 4);
    for (int i = 0; i < 100; ++i)
      pool.submit([&] { ran++; });
  }
  EXPECT_EQ(ran.load(), 100);
}

TEST(Result, HoldsValueOrError) {
  Result<int> ok = 5;
  ASSERT_TRUE(ok.has_value());
  EXPECT_EQ(*ok, 5);
  Result<int> bad = make_error(Code::kNotFound, "nope");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, Code::kNotFound);
  EXPECT_EQ(bad.value_or(7), 7);
  Status st = make_error(Code::kInternal, "x");
  EXPECT_FALSE(st);
  EXPECT_STREQ(code_name(Code::kInvalidArgument), "INVALID_ARGUMENT");
  // Our codes are gRPC's codes.
  EXPECT_EQ(static_cast<int>(Code::kUnauthenticated), 16);
  EXPECT_EQ(static_cast<int>(Code::kDataLoss), 15);
}

}  // namespace
}  // namespace mailvault
