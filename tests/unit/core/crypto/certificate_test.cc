// TLS credentials: generation of the self-signed default, its reuse, and the checks on
// configured files (every error names the file at fault).
#include "core/crypto/certificate.h"

#include <sys/stat.h>
#include <unistd.h>

#include <ctime>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace mailvault::crypto {
namespace {

namespace fs = std::filesystem;

class TempDir {
 public:
  TempDir() {
    std::random_device rd;
    path_ = fs::temp_directory_path() / ("mv-cert-test-" + std::to_string(rd()));
    fs::create_directories(path_);
  }

  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }

  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  TempDir(TempDir&&) = delete;
  TempDir& operator=(TempDir&&) = delete;

  [[nodiscard]] const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

void write(const fs::path& p, const std::string& text) {
  std::ofstream(p, std::ios::binary) << text;
}

std::string read(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

TEST(Certificate, SelfSignedNamesLoopbackAndLastsTenYears) {
  auto pair = generate_self_signed();
  ASSERT_TRUE(pair) << pair.error().message;
  EXPECT_NE(pair->certificate.find("-----BEGIN CERTIFICATE-----"), std::string::npos);
  EXPECT_NE(pair->private_key.find("-----BEGIN PRIVATE KEY-----"), std::string::npos);
  EXPECT_TRUE(check_key_pair(*pair, "cert", "key"));
  auto info = inspect_certificate(pair->certificate);
  ASSERT_TRUE(info) << info.error().message;
  EXPECT_EQ(info->subject, "CN=localhost");
  EXPECT_EQ(info->dns_names, std::vector<std::string>{"localhost"});
  EXPECT_EQ(info->ip_addresses, (std::vector<std::string>{"127.0.0.1", "::1"}));
  EXPECT_EQ(info->key_type, "EC P-256");
  EXPECT_TRUE(info->self_signed);
  const auto now = static_cast<std::int64_t>(std::time(nullptr));
  EXPECT_LE(info->not_before, now);
  EXPECT_GT(info->not_before, now - 2 * 3600);
  const auto years = static_cast<double>(info->not_after - now) / (365.25 * 86400);
  EXPECT_GT(years, 9.9);
  EXPECT_LT(years, 10.1);
}

TEST(Certificate, EveryGenerationIsANewKey) {
  auto a = generate_self_signed();
  auto b = generate_self_signed();
  ASSERT_TRUE(a && b);
  EXPECT_NE(a->private_key, b->private_key);
  EXPECT_FALSE(check_key_pair({a->certificate, b->private_key}, "a.pem", "b.key"));
}

TEST(Certificate, SelfSignedIsCreatedOnceWithAPrivateKeyFile) {
  TempDir tmp;
  const auto dir = tmp.path() / "tls";
  auto first = load_or_create_self_signed(dir);
  ASSERT_TRUE(first) << first.error().message;

  struct stat st {};

  ASSERT_EQ(::stat((dir / kSelfSignedKeyFile).c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(::stat(dir.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0077, 0u);
  EXPECT_EQ(read(dir / kSelfSignedCertFile), first->certificate);
  auto second = load_or_create_self_signed(dir);
  ASSERT_TRUE(second) << second.error().message;
  EXPECT_EQ(second->certificate, first->certificate);
  EXPECT_EQ(second->private_key, first->private_key);
}

TEST(Certificate, ConcurrentStartsAgreeOnOnePair) {
  TempDir tmp;
  const auto dir = tmp.path() / "tls";
  std::vector<Result<KeyPairPem>> results(6, make_error(Code::kUnknown, "not run"));
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < results.size(); ++i)
    threads.emplace_back([&, i] { results[i] = load_or_create_self_signed(dir); });
  for (auto& t : threads)
    t.join();
  for (const auto& r : results) {
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->certificate, results[0]->certificate);
    EXPECT_EQ(r->private_key, results[0]->private_key);
  }
  EXPECT_EQ(read(dir / kSelfSignedCertFile), results[0]->certificate);
  EXPECT_EQ(read(dir / kSelfSignedKeyFile), results[0]->private_key);
}

TEST(Certificate, HalfAPairIsAnErrorNamingTheMissingFile) {
  TempDir tmp;
  ASSERT_TRUE(load_or_create_self_signed(tmp.path()));
  fs::remove(tmp.path() / kSelfSignedCertFile);
  auto r = load_or_create_self_signed(tmp.path());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Code::kNotFound);
  EXPECT_NE(r.error().message.find(kSelfSignedCertFile), std::string::npos) << r.error().message;
  EXPECT_FALSE(fs::exists(tmp.path() / kSelfSignedCertFile));  // not silently replaced
}

TEST(Certificate, ConfiguredFilesAreChecked) {
  TempDir tmp;
  auto a = generate_self_signed();
  auto b = generate_self_signed();
  ASSERT_TRUE(a && b);
  const auto cert = tmp.path() / "server.crt";
  const auto key = tmp.path() / "server.key";
  const auto other_key = tmp.path() / "other.key";
  const auto garbage = tmp.path() / "garbage.pem";
  write(cert, a->certificate);
  write(key, a->private_key);
  write(other_key, b->private_key);
  write(garbage, "not a certificate\n");

  auto ok = load_key_pair(cert, key);
  ASSERT_TRUE(ok) << ok.error().message;
  EXPECT_EQ(ok->certificate, a->certificate);

  auto mismatch = load_key_pair(cert, other_key);
  ASSERT_FALSE(mismatch);
  EXPECT_EQ(mismatch.error().code, Code::kInvalidArgument);
  EXPECT_NE(mismatch.error().message.find("other.key"), std::string::npos);
  EXPECT_NE(mismatch.error().message.find("server.crt"), std::string::npos);

  auto bad_cert = load_key_pair(garbage, key);
  ASSERT_FALSE(bad_cert);
  EXPECT_NE(bad_cert.error().message.find("garbage.pem"), std::string::npos);
  auto bad_key = load_key_pair(cert, garbage);
  ASSERT_FALSE(bad_key);
  EXPECT_NE(bad_key.error().message.find("garbage.pem: no PEM private key"), std::string::npos)
      << bad_key.error().message;

  auto missing = load_key_pair(tmp.path() / "nope.crt", key);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, Code::kNotFound);
  EXPECT_NE(missing.error().message.find("nope.crt"), std::string::npos);

  if (::geteuid() != 0) {  // root reads any file
    ::chmod(key.c_str(), 0);
    auto unreadable = load_key_pair(cert, key);
    ASSERT_FALSE(unreadable);
    EXPECT_NE(unreadable.error().message.find("server.key"), std::string::npos);
  }
}

TEST(Certificate, ChainFilesAreAccepted) {
  auto a = generate_self_signed();
  auto b = generate_self_signed();
  ASSERT_TRUE(a && b);
  // Leaf first, then (here: an unrelated) intermediate: only the leaf must match the key.
  EXPECT_TRUE(check_key_pair({a->certificate + b->certificate, a->private_key}, "c", "k"));
}

}  // namespace
}  // namespace mailvault::crypto
