#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "core/blob/blob_store.h"
#include "core/crypto/digest.h"

namespace mailvault {
namespace {

namespace fs = std::filesystem;

class FsBlobStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("mv-blob-" + crypto::random_hex(6));
    auto s = open_fs_blob_store(root_);
    ASSERT_TRUE(s) << s.error().message;
    store_ = std::move(*s);
  }

  void TearDown() override {
    std::error_code ec;
    fs::remove_all(root_, ec);
  }

  fs::path root_;
  std::unique_ptr<BlobStore> store_;
};

TEST_F(FsBlobStoreTest, RoundTripsExactBytesIncludingNulAndHighBytes) {
  std::string data;
  for (int i = 0; i < 70000; ++i)
    data.push_back(static_cast<char>(i % 256));
  const auto key = crypto::to_hex(crypto::sha256(data));
  auto put = store_->put(key, data);
  ASSERT_TRUE(put) << put.error().message;
  EXPECT_TRUE(put->created);
  EXPECT_GT(put->stored_bytes, 0u);
  auto got = store_->get(key);
  ASSERT_TRUE(got);
  EXPECT_EQ(*got, data);
  EXPECT_TRUE(store_->exists(key));
}

TEST_F(FsBlobStoreTest, LayoutIsTwoLevelAndFilesAreReadOnly) {
  const std::string key = crypto::to_hex(crypto::sha256("x"));
  ASSERT_TRUE(store_->put(key, "x"));
  const fs::path p = root_ / key.substr(0, 2) / key.substr(2, 2) / key;
  ASSERT_TRUE(fs::exists(p));

  struct stat st {};

  ASSERT_EQ(::stat(p.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0222, 0u) << "blob must not be writable";
  // No temporary files left behind.
  for (const auto& e : fs::recursive_directory_iterator(root_)) {
    EXPECT_EQ(e.path().filename().string().find(".tmp."), std::string::npos) << e.path();
  }
}

TEST_F(FsBlobStoreTest, SecondPutIsANoOp) {
  const std::string key = crypto::to_hex(crypto::sha256("same"));
  ASSERT_TRUE(store_->put(key, "same")->created);
  auto again = store_->put(key, "same");
  ASSERT_TRUE(again);
  EXPECT_FALSE(again->created);
}

TEST_F(FsBlobStoreTest, DeferredWritesAreReadableAndSyncSucceeds) {
  std::vector<std::string> keys;
  for (int i = 0; i < 20; ++i) {
    const std::string data = "message " + std::to_string(i);
    keys.push_back(crypto::to_hex(crypto::sha256(data)));
    auto put = store_->put(keys.back(), data, BlobStore::Sync::kDeferred);
    ASSERT_TRUE(put) << put.error().message;
    EXPECT_TRUE(put->created);
  }
  ASSERT_TRUE(store_->sync());
  for (int i = 0; i < 20; ++i)
    EXPECT_EQ(*store_->get(keys[static_cast<std::size_t>(i)]), "message " + std::to_string(i));
}

TEST_F(FsBlobStoreTest, MissingAndCorruptAreDistinctErrors) {
  const std::string key = crypto::to_hex(crypto::sha256("gone"));
  auto missing = store_->get(key);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, Code::kNotFound);

  ASSERT_TRUE(store_->put(key, std::string(5000, 'a')));
  const fs::path p = root_ / key.substr(0, 2) / key.substr(2, 2) / key;
  fs::permissions(p, fs::perms::owner_write, fs::perm_options::add);
  std::ofstream(p, std::ios::binary | std::ios::trunc) << "garbage";
  auto corrupt = store_->get(key);
  ASSERT_FALSE(corrupt);
  EXPECT_EQ(corrupt.error().code, Code::kDataLoss);
}

TEST_F(FsBlobStoreTest, RejectsKeysThatCouldEscapeTheRoot) {
  for (const char* bad : {"../../etc/passwd", "", "ab", "/abs/olute", ".hidden", "UPPER"}) {
    auto r = store_->put(bad, "x");
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().code, Code::kInvalidArgument);
  }
}

TEST_F(FsBlobStoreTest, ConcurrentWritersOfTheSameKeyAgree) {
  const std::string data(100000, 'z');
  const std::string key = crypto::to_hex(crypto::sha256(data));
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&] { ASSERT_TRUE(store_->put(key, data)); });
  }
  for (auto& t : threads)
    t.join();
  EXPECT_EQ(*store_->get(key), data);
}

}  // namespace
}  // namespace mailvault
