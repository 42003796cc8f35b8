#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "ingest/sync/sync.h"

namespace mailvault::ingest {
namespace {

using std::chrono::milliseconds;

accounts::Secret command(std::string cmd) {
  accounts::Secret s;
  s.token_command = std::move(cmd);
  return s;
}

TEST(AccessToken, FromCommandFirstLineTrimmed) {
  auto t = fetch_access_token(command("printf 'ya29.token-value  \\nsecond line\\n'"),
                              milliseconds{5000});
  ASSERT_TRUE(t) << t.error().message;
  EXPECT_EQ(*t, "ya29.token-value");
}

TEST(AccessToken, CommandFailureEmptyOutputAndTimeoutAreClearErrors) {
  auto failed = fetch_access_token(command("echo oops >&2; exit 3"), milliseconds{5000});
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().code, Code::kUnavailable);
  EXPECT_NE(failed.error().message.find("exit status 3"), std::string::npos);
  auto empty = fetch_access_token(command("true"), milliseconds{5000});
  ASSERT_FALSE(empty);
  EXPECT_NE(empty.error().message.find("printed nothing"), std::string::npos);
  const auto t0 = std::chrono::steady_clock::now();
  auto slow = fetch_access_token(command("sleep 30"), milliseconds{300});
  ASSERT_FALSE(slow);
  EXPECT_EQ(slow.error().code, Code::kDeadlineExceeded);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds{10});  // killed, not waited
}

TEST(AccessToken, CommandDoesNotReadOurStdin) {
  // stdin is /dev/null: `cat` ends at once instead of hanging on the server's stdin.
  auto t = fetch_access_token(command("cat; echo token"), milliseconds{5000});
  ASSERT_TRUE(t) << t.error().message;
  EXPECT_EQ(*t, "token");
}

TEST(AccessToken, FromFile) {
  auto path = std::filesystem::temp_directory_path() / ("mv-token-" + std::to_string(::getpid()));
  std::ofstream{path} << "file-token\r\n";
  accounts::Secret s;
  s.token_file = path.string();
  auto t = fetch_access_token(s, milliseconds{1000});
  ASSERT_TRUE(t) << t.error().message;
  EXPECT_EQ(*t, "file-token");
  std::filesystem::remove(path);
  auto missing = fetch_access_token(s, milliseconds{1000});
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message.find(path.string()), std::string::npos);
}

}  // namespace
}  // namespace mailvault::ingest
