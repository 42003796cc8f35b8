#include "core/crypto/aead.h"

#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

namespace mailvault::crypto {
namespace {

TEST(Aead, RoundTripsAndUsesAFreshNonceEachTime) {
  auto key = MasterKey::generate();
  auto a = seal(key, "hunter2", "account:alice");
  auto b = seal(key, "hunter2", "account:alice");
  EXPECT_NE(a, b);
  EXPECT_EQ(a.size(), 1 + 12 + 7 + 16);
  EXPECT_EQ(a.find("hunter2"), std::string::npos);
  auto opened = open(key, a, "account:alice");
  ASSERT_TRUE(opened) << opened.error().message;
  EXPECT_EQ(*opened, "hunter2");
  EXPECT_EQ(*open(key, seal(key, "", "x"), "x"), "");
}

TEST(Aead, RefusesWrongKeyWrongContextAndAnyFlippedBit) {
  auto key = MasterKey::generate();
  auto sealed = seal(key, "secret password", "account:alice");
  EXPECT_EQ(open(MasterKey::generate(), sealed, "account:alice").error().code,
            Code::kPermissionDenied);
  EXPECT_FALSE(open(key, sealed, "account:bob"));
  for (std::size_t i = 0; i < sealed.size(); ++i) {
    auto bad = sealed;
    bad[i] = static_cast<char>(bad[i] ^ 0x01);
    EXPECT_FALSE(open(key, bad, "account:alice")) << "flipped byte " << i;
  }
  EXPECT_FALSE(open(key, sealed.substr(0, 20), "account:alice"));
  EXPECT_FALSE(open(key, "", "account:alice"));
}

TEST(MasterKeyTest, HexRoundTripAndClearErrors) {
  auto key = MasterKey::generate();
  auto back = MasterKey::from_hex(key.to_hex());
  ASSERT_TRUE(back);
  EXPECT_EQ(back->bytes(), key.bytes());
  auto bad = MasterKey::from_hex("abc");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("64 hex digits"), std::string::npos);
}

TEST(MasterKeyTest, KeyFileIsCreatedPrivateAndReloaded) {
  auto dir = std::filesystem::temp_directory_path() / ("mv-key-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  auto path = dir / "master.key";
  std::filesystem::remove(path);
  EXPECT_EQ(MasterKey::load("", path, false).error().code, Code::kFailedPrecondition);
  auto created = MasterKey::load("", path, true);
  ASSERT_TRUE(created) << created.error().message;

  struct stat st {};

  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto again = MasterKey::load("", path, true);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->bytes(), created->bytes());
  // An explicit key wins over the file.
  auto other = MasterKey::generate();
  EXPECT_EQ(MasterKey::load(other.to_hex(), path, true)->bytes(), other.bytes());
  // A group-readable key file is refused with the fix in the message.
  ::chmod(path.c_str(), 0640);
  auto refused = MasterKey::load("", path, true);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("chmod 600"), std::string::npos);
  // A corrupt file names itself.
  ::chmod(path.c_str(), 0600);
  std::ofstream{path} << "not a key\n";
  auto corrupt = MasterKey::load("", path, true);
  ASSERT_FALSE(corrupt);
  EXPECT_NE(corrupt.error().message.find(path.string()), std::string::npos);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace mailvault::crypto
