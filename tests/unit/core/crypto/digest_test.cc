#include "core/crypto/digest.h"

#include <set>

#include <gtest/gtest.h>

namespace mailvault::crypto {
namespace {

TEST(Sha256, KnownVectors) {
  EXPECT_EQ(to_hex(sha256("")), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(to_hex(sha256("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Sha256, IncrementalEqualsOneShot) {
  std::string data(100000, 'x');
  for (std::size_t i = 0; i < data.size(); ++i)
    data[i] = static_cast<char>(i * 31);
  Sha256Builder b;
  for (std::size_t i = 0; i < data.size(); i += 777)
    b.update(std::string_view(data).substr(i, 777));
  EXPECT_EQ(to_hex(b.finish()), to_hex(sha256(data)));
}

TEST(Hex, RoundTripAndRejects) {
  const auto d = sha256("hello");
  Sha256 back{};
  ASSERT_TRUE(from_hex(to_hex(d), back));
  EXPECT_EQ(back, d);
  EXPECT_FALSE(from_hex("abc", back));
  EXPECT_FALSE(from_hex(std::string(64, 'g'), back));
}

TEST(RandomHex, LengthAndUniqueness) {
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    auto t = random_hex(16);
    EXPECT_EQ(t.size(), 32u);
    seen.insert(t);
  }
  EXPECT_EQ(seen.size(), 100u);
  EXPECT_TRUE(constant_time_equal("abc", "abc"));
  EXPECT_FALSE(constant_time_equal("abc", "abd"));
  EXPECT_FALSE(constant_time_equal("abc", "ab"));
}

}  // namespace
}  // namespace mailvault::crypto
