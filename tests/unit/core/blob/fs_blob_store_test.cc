#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
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

TEST_F(FsBlobStoreTest, CompanionTravelsInTheSameFileAndGetReturnsTheDataOnly) {
  const std::string data = "From: a@example.org\r\n\r\nbody\r\n";
  const std::string text = "decoded search text \x01 with control bytes";
  const std::string key = crypto::to_hex(crypto::sha256(data));
  auto put = store_->put_with_companion(key, data, text, BlobStore::Sync::kDeferred);
  ASSERT_TRUE(put) << put.error().message;
  EXPECT_TRUE(put->created);
  ASSERT_TRUE(store_->sync());
  EXPECT_EQ(*store_->get(key), data);
  auto companion = store_->get_companion(key);
  ASSERT_TRUE(companion) << companion.error().message;
  EXPECT_EQ(*companion, text);
  // One file per blob: nothing but the blob itself under the key's directory.
  const fs::path dir = root_ / key.substr(0, 2) / key.substr(2, 2);
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir))
    names.push_back(e.path().filename().string());
  EXPECT_EQ(names, std::vector<std::string>{key});
}

TEST_F(FsBlobStoreTest, FileWithCompanionIsStillOneValidZstdStreamOfTheData) {
  // Readers that know nothing of companions (`zstd -d`, older mailvault) skip the skippable
  // frame and get the data.
  const std::string data(10000, 'q');
  const std::string key = crypto::to_hex(crypto::sha256(data));
  ASSERT_TRUE(store_->put_with_companion(key, data, "companion", BlobStore::Sync::kNow));
  const fs::path p = root_ / key.substr(0, 2) / key.substr(2, 2) / key;
  const fs::path out = root_ / "out";
  const std::string cmd = "zstd -q -d -c '" + p.string() + "' > '" + out.string() + "'";
  if (std::system("command -v zstd > /dev/null") != 0)
    GTEST_SKIP() << "no zstd command";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  std::ifstream in(out, std::ios::binary);
  std::string got((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(got, data);
}

TEST_F(FsBlobStoreTest, CompanionIsNotFoundForPlainBlobsAndMissingKeys) {
  const std::string key = crypto::to_hex(crypto::sha256("plain"));
  ASSERT_TRUE(store_->put(key, "plain"));
  auto none = store_->get_companion(key);
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().code, Code::kNotFound);
  auto missing = store_->get_companion(crypto::to_hex(crypto::sha256("absent")));
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, Code::kNotFound);
}

TEST_F(FsBlobStoreTest, PlainBlobIsRewrittenWithItsCompanion) {
  // A blob stored without a companion (an older version, or a crash before the rows) gains it.
  const std::string key = crypto::to_hex(crypto::sha256("older"));
  ASSERT_TRUE(store_->put(key, "older"));
  auto put = store_->put_with_companion(key, "older", "text", BlobStore::Sync::kNow);
  ASSERT_TRUE(put) << put.error().message;
  EXPECT_TRUE(put->created);
  EXPECT_EQ(*store_->get(key), "older");
  EXPECT_EQ(*store_->get_companion(key), "text");
  auto again = store_->put_with_companion(key, "older", "text", BlobStore::Sync::kNow);
  ASSERT_TRUE(again);
  EXPECT_FALSE(again->created);
}

TEST_F(FsBlobStoreTest, FileThatDoesNotHoldTheBytesIsReplacedNotTrusted) {
  // What a power loss before sync() can leave under a real key: a file without its data.
  const std::string data(3000, 'b');
  const std::string key = crypto::to_hex(crypto::sha256(data));
  const fs::path dir = root_ / key.substr(0, 2) / key.substr(2, 2);
  fs::create_directories(dir);
  std::ofstream(dir / key, std::ios::binary) << "";
  auto put = store_->put_with_companion(key, data, "t", BlobStore::Sync::kNow);
  ASSERT_TRUE(put) << put.error().message;
  EXPECT_TRUE(put->created);
  EXPECT_EQ(*store_->get(key), data);
  EXPECT_EQ(*store_->get_companion(key), "t");
}

TEST_F(FsBlobStoreTest, TruncatedCompanionIsDataLoss) {
  const std::string data(4000, 'c');
  const std::string key = crypto::to_hex(crypto::sha256(data));
  ASSERT_TRUE(store_->put_with_companion(key, data, std::string(4000, 'd'), BlobStore::Sync::kNow));
  const fs::path p = root_ / key.substr(0, 2) / key.substr(2, 2) / key;
  fs::permissions(p, fs::perms::owner_write, fs::perm_options::add);
  fs::resize_file(p, fs::file_size(p) - 3);
  auto got = store_->get(key);  // the data frame is intact
  ASSERT_TRUE(got) << got.error().message;
  EXPECT_EQ(*got, data);
  auto companion = store_->get_companion(key);
  ASSERT_FALSE(companion);
  EXPECT_EQ(companion.error().code, Code::kDataLoss);
}

TEST_F(FsBlobStoreTest, ConcurrentCompanionWritersOfTheSameKeyAgree) {
  const std::string data(50000, 'y');
  const std::string key = crypto::to_hex(crypto::sha256(data));
  std::vector<std::thread> threads;
  std::atomic<int> created{0};
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&] {
      auto put = store_->put_with_companion(key, data, "side", BlobStore::Sync::kDeferred);
      ASSERT_TRUE(put) << put.error().message;
      if (put->created)
        ++created;
    });
  }
  for (auto& t : threads)
    t.join();
  EXPECT_GE(created.load(), 1);
  EXPECT_EQ(*store_->get(key), data);
  EXPECT_EQ(*store_->get_companion(key), "side");
}

}  // namespace
}  // namespace mailvault
