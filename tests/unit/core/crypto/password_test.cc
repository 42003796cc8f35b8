#include "core/crypto/password.h"

#include <gtest/gtest.h>

namespace mailvault::crypto {
namespace {

constexpr PasswordCost kFast{1024, 1, 1};  // tests only: the format, not the cost

TEST(Password, HashesAreSaltedArgon2idAndVerify) {
  auto a = hash_password("correct horse", kFast);
  auto b = hash_password("correct horse", kFast);
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->rfind("$argon2id$v=19$m=1024,t=1,p=1$", 0), 0u) << *a;
  EXPECT_NE(*a, *b);
  EXPECT_EQ(a->find("correct horse"), std::string::npos);
  EXPECT_TRUE(verify_password("correct horse", *a));
  EXPECT_TRUE(verify_password("correct horse", *b));
  EXPECT_FALSE(verify_password("correct horsE", *a));
  EXPECT_FALSE(verify_password("", *a));
}

TEST(Password, DefaultCostIsInTheString) {
  auto h = hash_password("pw");
  ASSERT_TRUE(h);
  EXPECT_NE(h->find("m=19456,t=2,p=1"), std::string::npos);
  EXPECT_TRUE(verify_password("pw", *h));
}

TEST(Password, RefusesEmptyAndHugeAndMalformed) {
  EXPECT_EQ(hash_password("").error().code, Code::kInvalidArgument);
  EXPECT_FALSE(hash_password(std::string(5000, 'x')));
  EXPECT_FALSE(verify_password("pw", ""));
  EXPECT_FALSE(verify_password("pw", "$argon2id$garbage"));
  EXPECT_FALSE(verify_password("pw", "$2y$10$bcrypt-is-not-accepted"));
  auto h = hash_password("pw", kFast);
  auto broken = *h;
  broken.back() = broken.back() == 'A' ? 'B' : 'A';
  EXPECT_FALSE(verify_password("pw", broken));
}

}  // namespace
}  // namespace mailvault::crypto
