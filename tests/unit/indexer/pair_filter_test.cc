#include "indexer/pair_filter.h"

#include <cstdint>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace mailvault::index {
namespace {

std::uint64_t pair(const std::string& a, const std::string& b) {
  return PairFilter::pair_hash(PairFilter::word_hash(a), PairFilter::word_hash(b));
}

TEST(PairFilter, HoldsEveryPairAddedAndOrderMatters) {
  std::vector<std::uint64_t> pairs;
  std::vector<std::uint64_t> added;
  for (int i = 0; i < 1000; ++i) {
    pairs.push_back(pair("w" + std::to_string(i), "w" + std::to_string(i + 1)));
  }
  added = pairs;
  pairs.push_back(added.front());  // duplicates are fine
  const std::string filter = PairFilter::encode(pairs);
  EXPECT_EQ(filter.size(), (1000 * PairFilter::kBitsPerPair + 7) / 8);
  for (const std::uint64_t p : added) {
    EXPECT_TRUE(PairFilter::may_contain(filter, p));
  }
  EXPECT_NE(pair("socket", "timeout"), pair("timeout", "socket"));

  // Pairs never added: about 0.7% false positives at 12 bits and 4 probes per pair.
  int positives = 0;
  for (int i = 0; i < 10000; ++i) {
    positives += PairFilter::may_contain(filter, pair("x" + std::to_string(i), "y")) ? 1 : 0;
  }
  EXPECT_LT(positives, 200);
}

TEST(PairFilter, EmptyValueIsUnknownAndNoPairsRejectsAll) {
  EXPECT_TRUE(PairFilter::may_contain("", pair("a", "b")));
  std::vector<std::uint64_t> none;
  const std::string filter = PairFilter::encode(none);
  EXPECT_EQ(filter.size(), 1U);
  EXPECT_FALSE(PairFilter::may_contain(filter, pair("a", "b")));
}

TEST(PairFilter, CjkAndLaterScriptsAreExcluded) {
  EXPECT_FALSE(PairFilter::excluded("socket"));
  EXPECT_FALSE(PairFilter::excluded("grüße"));
  EXPECT_FALSE(PairFilter::excluded("κείμενα"));
  EXPECT_FALSE(PairFilter::excluded("\u2014"));  // em dash, below U+2E80
  EXPECT_TRUE(PairFilter::excluded("日"));
  EXPECT_TRUE(PairFilter::excluded("日本"));
  EXPECT_TRUE(PairFilter::excluded("한국어"));
  EXPECT_TRUE(PairFilter::excluded("ａ"));          // full-width
  EXPECT_TRUE(PairFilter::excluded("\U0001F600"));  // four-byte sequence
}

// The stored format is part of the schema: these values must never change silently.
TEST(PairFilter, HashesAreStable) {
  EXPECT_EQ(PairFilter::word_hash(""), 14695981039346656037ULL);
  std::vector<std::uint64_t> one{pair("of", "the")};
  const std::string filter = PairFilter::encode(one);
  ASSERT_EQ(filter.size(), 2U);
  int bits = 0;
  for (const char c : filter) {
    bits += __builtin_popcount(static_cast<unsigned char>(c));
  }
  EXPECT_GE(bits, 1);
  EXPECT_LE(bits, 4);
}

}  // namespace
}  // namespace mailvault::index
