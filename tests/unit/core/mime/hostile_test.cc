// Hostile input: each limit promised in core/mime/parse.h, and input that is not mail at all.
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <iostream>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "core/mime/parse.h"
#include "tests/unit/core/mime/test_util.h"

namespace mailvault::mime {
namespace {

using testing::first_invalid_field;
using testing::has_problem_containing;

#if defined(__SANITIZE_ADDRESS__)
constexpr bool kSanitized = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr bool kSanitized = true;
#else
constexpr bool kSanitized = false;
#endif
#else
constexpr bool kSanitized = false;
#endif

// Sanitizers and debug builds are slower; the limits are about orders of magnitude.
std::chrono::milliseconds budget(int release_ms) {
  return std::chrono::milliseconds(kSanitized ? release_ms * 10 : release_ms * 3);
}

template <typename F>
std::chrono::milliseconds time_it(F&& f) {
  const auto start = std::chrono::steady_clock::now();
  f();
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                               start);
}

// Appends pieces one by one, without operator+ temporaries (multi-megabyte test input).
template <typename... Parts>
void append(std::string& out, const Parts&... parts) {
  (out.append(parts), ...);
}

long max_rss_kib() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss;
}

TEST(Hostile, TenThousandParts) {
  std::string raw = "Subject: many parts\nContent-Type: multipart/mixed; boundary=b\n\n";
  for (int i = 0; i < 10'000; ++i) {
    append(raw, "--b\nContent-Type: application/octet-stream; name=f", std::to_string(i),
           ".bin\n\nxx\n");
  }
  raw += "--b--\n";
  ParsedMessage m;
  const auto elapsed = time_it([&] { m = parse_message(raw); });
  EXPECT_LT(elapsed, budget(1000));
  EXPECT_EQ(m.attachments.size(), 10'000U);
  EXPECT_EQ(m.attachments.back().filename, "f9999.bin");
  EXPECT_TRUE(m.has_attachments);
}

TEST(Hostile, AttachmentListIsCapped) {
  std::string raw = "Subject: too many\nContent-Type: multipart/mixed; boundary=b\n\n";
  for (std::size_t i = 0; i < kMaxAttachments + 10; ++i) {
    raw += "--b\nContent-Type: image/gif\n\nx\n";
  }
  raw += "--b--\n";
  const ParsedMessage m = parse_message(raw);
  EXPECT_EQ(m.attachments.size(), kMaxAttachments);
  EXPECT_TRUE(has_problem_containing(m, "attachments; the list was truncated"));
}

TEST(Hostile, TenThousandTextParts) {
  std::string raw = "Subject: many texts\nContent-Type: multipart/mixed; boundary=b\n\n";
  for (int i = 0; i < 10'000; ++i) {
    append(raw, "--b\nContent-Type: text/plain\n\nline ", std::to_string(i), "\n");
  }
  raw += "--b--\n";
  ParsedMessage m;
  const auto elapsed = time_it([&] { m = parse_message(raw); });
  EXPECT_LT(elapsed, budget(1000));
  EXPECT_NE(m.body_text.find("line 9999"), std::string::npos);
}

TEST(Hostile, NestingTenThousandDeep) {
  constexpr int kDepth = 10'000;
  std::string raw = "Subject: deep\n";
  for (int i = 0; i < kDepth; ++i) {
    append(raw, "Content-Type: multipart/mixed; boundary=\"b", std::to_string(i), "\"\n\n--b",
           std::to_string(i), "\n");
  }
  raw += "Content-Type: text/plain\n\ninnermost\n";
  for (int i = kDepth - 1; i >= 0; --i) {
    append(raw, "--b", std::to_string(i), "--\n");
  }
  ParsedMessage m;
  const auto elapsed = time_it([&] { m = parse_message(raw); });
  EXPECT_LT(elapsed, budget(2000));
  EXPECT_EQ(m.subject, "deep");
  EXPECT_TRUE(has_problem_containing(m, "MIME nesting deeper than 100 levels") ||
              has_problem_containing(m, "nesting beyond"))
      << ::testing::PrintToString(m.problems);
  EXPECT_LE(m.problems.size(), kMaxProblems + 1);
  EXPECT_EQ(first_invalid_field(m), "");
}

TEST(Hostile, MessageRfc822NestingTenThousandDeep) {
  constexpr int kDepth = 10'000;
  std::string raw;
  for (int i = 0; i < kDepth; ++i) {
    append(raw, "Subject: level ", std::to_string(i), "\nContent-Type: message/rfc822\n\n");
  }
  raw += "Subject: bottom\n\ntext at the bottom\n";
  ParsedMessage m;
  const auto elapsed = time_it([&] { m = parse_message(raw); });
  EXPECT_LT(elapsed, budget(2000));
  EXPECT_EQ(m.subject, "level 0");
  EXPECT_TRUE(has_problem_containing(m, "nesting")) << ::testing::PrintToString(m.problems);
}

TEST(Hostile, OneMegabyteHeaderLine) {
  const std::string long_subject(1 << 20, 'x');
  std::string long_to;
  while (long_to.size() < (1 << 20)) {
    long_to += "=?UTF-8?B?SGVsbG8=?= <a@example.org>, ";
  }
  std::string raw;
  append(raw, "Subject: ", long_subject, "\nTo: ", long_to,
         "\nX-Garbage: ", std::string(1 << 20, '='), "?\n\nbody\n");
  ParsedMessage m;
  const auto elapsed = time_it([&] { m = parse_message(raw); });
  EXPECT_LT(elapsed, budget(3000));
  EXPECT_EQ(m.subject, long_subject);
  EXPECT_FALSE(m.to.empty());
  EXPECT_EQ(m.to.front().name, "Hello");
  EXPECT_EQ(m.body_text, "body");
}

TEST(Hostile, OneMegabyteThreadingHeaders) {
  std::string raw;
  append(raw, "References: ", std::string(1 << 20, '<'),
         ">\nIn-Reply-To: ", std::string(1 << 20, '<'), "\nMessage-ID: ", std::string(1 << 20, '>'),
         "\n\nbody\n");
  ParsedMessage m;
  const auto elapsed = time_it([&] { m = parse_message(raw); });
  EXPECT_LT(elapsed, budget(1000));
  EXPECT_EQ(m.body_text, "body");
  EXPECT_EQ(first_invalid_field(m), "");
}

TEST(Hostile, ManyNestedMultipartsInABigMessage) {
  // 200 nested multiparts around 20 MB of text: the end-boundary checks must not rescan it.
  std::string raw = "Subject: nested\n";
  for (int i = 0; i < 200; ++i) {
    append(raw, "Content-Type: multipart/mixed; boundary=\"b", std::to_string(i), "\"\n\n--b",
           std::to_string(i), "\n");
  }
  raw += "Content-Type: text/plain\n\n";
  raw.append(20U << 20, 'x');
  raw += "\n";
  ParsedMessage m;
  const auto elapsed = time_it([&] { m = parse_message(raw); });
  EXPECT_LT(elapsed, budget(3000));
  EXPECT_TRUE(has_problem_containing(m, "unterminated multipart boundary"));
  EXPECT_TRUE(has_problem_containing(m, "MIME nesting deeper than"));
}

// A 50 MB message: 25 MB of text and a 25 MB base64 attachment.
std::string fifty_megabyte_message(std::size_t* b64_lines) {
  std::string raw;
  raw.reserve((50U << 20) + 4096);  // no doubling while building: keeps the RSS baseline honest
  raw +=
      "Subject: big\nContent-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: "
      "text/plain\n\n";
  const std::string line = "All work and no play makes Jack a dull boy. 0123456789 abcdefghij\n";
  while (raw.size() < 25U << 20) {
    raw += line;
  }
  raw += "--b\nContent-Type: application/octet-stream\nContent-Transfer-Encoding: base64\n\n";
  const std::string b64_line = "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2\n";
  *b64_lines = 0;
  while (raw.size() < 50U << 20) {
    raw += b64_line;
    ++*b64_lines;
  }
  raw += "--b--\n";
  return raw;
}

TEST(Hostile, FiftyMegabyteMessage) {
  std::size_t b64_lines = 0;
  const std::string raw = fifty_megabyte_message(&b64_lines);
  ParsedMessage m;
  const auto elapsed = time_it([&] { m = parse_message(raw); });
  EXPECT_LT(elapsed, budget(5000));
  ASSERT_EQ(m.attachments.size(), 1U);
  EXPECT_EQ(m.attachments[0].size, b64_lines * 48);
  EXPECT_GT(m.body_text.size(), 24U << 20);
}

// Peak memory is measured in a child process: the test binary's own peak RSS is whatever the
// largest earlier test left behind.
TEST(Hostile, FiftyMegabyteMessageMemory) {
  if (kSanitized) {
    GTEST_SKIP() << "ASan's quarantine and shadow memory make RSS meaningless here";
  }
  std::array<int, 2> fds{};
  ASSERT_EQ(pipe(fds.data()), 0);
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    close(fds[0]);
    std::size_t b64_lines = 0;
    const std::string raw = fifty_megabyte_message(&b64_lines);
    const long before = max_rss_kib();
    const ParsedMessage m = parse_message(raw);
    const long growth = max_rss_kib() - before;
    const std::string report = std::to_string(growth) + " " + std::to_string(raw.size() / 1024) +
                               " " + std::to_string(m.body_text.size());
    static_cast<void>(write(fds[1], report.data(), report.size()));
    close(fds[1]);
    _exit(0);
  }
  close(fds[1]);
  std::string report(128, '\0');
  const ssize_t n = read(fds[0], report.data(), report.size());
  close(fds[0]);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  ASSERT_GT(n, 0);
  report.resize(static_cast<std::size_t>(n));
  long growth_kib = 0;
  long input_kib = 0;
  std::istringstream(report) >> growth_kib >> input_kib;
  std::cout << "[ memory   ] parsing a " << input_kib / 1024 << " MiB message raised peak RSS by "
            << growth_kib / 1024 << " MiB\n";
  EXPECT_GT(input_kib, 50 * 1024 - 1);
  EXPECT_LT(growth_kib, 3 * input_kib);  // "a few times the size", and the input itself is not
                                         // counted: it already existed
}

TEST(Hostile, EmptyInput) {
  for (const std::string raw : {"", " ", "\r\n", "\n\n\n"}) {
    const ParsedMessage m = parse_message(raw);
    EXPECT_TRUE(m.body_text.empty());
    EXPECT_TRUE(m.headers.empty());
    EXPECT_EQ(m.problems, std::vector<std::string>{"empty message"});
  }
}

TEST(Hostile, NoBody) {
  for (const std::string raw : {"Subject: headers only", "Subject: headers only\n",
                                "Subject: headers only\n\n", "Subject: headers only\r\n\r\n"}) {
    const ParsedMessage m = parse_message(raw);
    EXPECT_EQ(m.subject, "headers only");
    EXPECT_TRUE(m.body_text.empty());
    EXPECT_FALSE(m.has_attachments);
  }
}

TEST(Hostile, NoHeaders) {
  const ParsedMessage m = parse_message("\njust a body\n");
  EXPECT_TRUE(m.headers.empty());
  EXPECT_EQ(m.body_text, "just a body");
}

TEST(Hostile, BinaryGarbageKeepsTheInput) {
  std::mt19937 rng(20240601);
  for (int round = 0; round < 200; ++round) {
    std::string raw(static_cast<std::size_t>(rng() % 5000) + 1, '\0');
    for (char& c : raw) {
      c = static_cast<char>(rng() & 0xFF);
    }
    const ParsedMessage m = parse_message(raw);
    EXPECT_EQ(first_invalid_field(m), "") << "round " << round;
  }
  const ParsedMessage m = parse_message(std::string("\x01\x02\xFF\xFE garbage\x00 here", 18));
  EXPECT_NE(m.body_text.find("garbage"), std::string::npos);
  EXPECT_TRUE(has_problem_containing(m, "no RFC 5322 header block"));
}

TEST(Hostile, InvalidUtf8Everywhere) {
  const std::string raw =
      "From: \xFF\xFE <\xC0\xAF@ex\xE9.org>\nTo: =?UTF-8?B?/w==?= <a@b>\nSubject: \xED\xA0\x80 "
      "=?UTF-8?Q?=FF?=\nX-\xFF: \xC3\n"
      "Content-Type: multipart/mixed; boundary=\"\xFF\"\n\n--\xFF\nContent-Type: text/plain; "
      "charset=utf-8\n\n\xF5\x80 text \xC3\n--\xFF\nContent-Type: text/html; charset=utf-8\n"
      "Content-Disposition: attachment; filename=\"\xFF.html\"\n\n<p>\xFE</p>\n--\xFF--\n";
  const ParsedMessage m = parse_message(raw);
  EXPECT_EQ(first_invalid_field(m), "");
  EXPECT_NE(m.body_text.find("text"), std::string::npos);
}

TEST(Hostile, MutatedMessagesNeverBreakTheContract) {
  // Byte-level mutations of a realistic message: truncations, flips, insertions.
  const std::string base =
      "From: A <a@example.org>\nSubject: =?UTF-8?B?SGVsbG8=?=\nContent-Type: multipart/mixed; "
      "boundary=b\n\n--b\nContent-Type: text/plain; charset=koi8-r\n\n\xF0\xD2\n--b\n"
      "Content-Type: message/rfc822\n\nSubject: in\nContent-Type: text/html\n\n<p>x</p>\n"
      "--b\nContent-Type: application/pdf\nContent-Disposition: attachment; "
      "filename*=UTF-8''%E2%82%AC\nContent-Transfer-Encoding: base64\n\nJVBERi0=\n--b--\n";
  std::mt19937 rng(7);
  for (std::size_t cut = 0; cut <= base.size(); ++cut) {
    EXPECT_EQ(first_invalid_field(parse_message(base.substr(0, cut))), "") << cut;
  }
  for (int round = 0; round < 500; ++round) {
    std::string raw = base;
    const int edits = 1 + static_cast<int>(rng() % 8);
    for (int e = 0; e < edits; ++e) {
      const std::size_t at = rng() % raw.size();
      switch (rng() % 3) {
        case 0:
          raw[at] = static_cast<char>(rng() & 0xFF);
          break;
        case 1:
          raw.erase(at, 1 + rng() % 10);
          break;
        default:
          raw.insert(at, std::string(1 + rng() % 4, "\n-=?<>;\"\xFF"[rng() % 9]));
          break;
      }
      if (raw.empty()) {
        raw.push_back('x');  // (not `raw = "x"`: GCC 12 -O3 -Wrestrict false positive)
      }
    }
    EXPECT_EQ(first_invalid_field(parse_message(raw)), "") << "round " << round;
  }
}

TEST(Hostile, ConcurrentParsing) {
  const std::vector<std::string> inputs = {
      "From: =?UTF-8?B?SGVsbG8=?= =?UTF-8?B?IHdvcmxk?= <a@example.org>\nSubject: one\n"
      "Content-Type: text/plain; charset=iso-2022-jp\n\n\x1B$B$3$s\x1B(B\n",
      "Subject: two\nContent-Type: multipart/alternative; boundary=b\n\n--b\nContent-Type: "
      "text/html; charset=gb2312\n\n<p>\xC4\xE3\xBA\xC3</p>\n--b--\n",
      "Subject: three\nDate: Tue, 1 Jul 2003 10:52:37 +0200\nContent-Type: multipart/mixed; "
      "boundary=c\n\n--c\nContent-Type: application/pdf\nContent-Disposition: attachment; "
      "filename*=UTF-8''r%C3%A9sum%C3%A9.pdf\nContent-Transfer-Encoding: base64\n\nJVBERi0=\n"
      "--c--\n",
      std::string("\x01\x02garbage\xFF", 10),
  };
  std::vector<ParsedMessage> expected;
  expected.reserve(inputs.size());
  for (const auto& raw : inputs) {
    expected.push_back(parse_message(raw));
  }
  std::vector<int> mismatches(4, 0);
  std::vector<std::thread> threads;
  threads.reserve(4);
  for (std::size_t t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 300; ++i) {
        const std::size_t k = (t + static_cast<std::size_t>(i)) % inputs.size();
        const ParsedMessage m = parse_message(inputs[k]);
        if (!testing::equal_except_html(m, expected[k]) || m.body_html != expected[k].body_html) {
          ++mismatches[t];
        }
      }
    });
  }
  for (auto& th : threads) {
    th.join();
  }
  for (const int n : mismatches) {
    EXPECT_EQ(n, 0);
  }
  EXPECT_EQ(expected[0].from.at(0).name, "Hello world");
  EXPECT_EQ(expected[1].body_text, "\xE4\xBD\xA0\xE5\xA5\xBD");
  EXPECT_EQ(expected[2].attachments.at(0).filename, "r\xC3\xA9sum\xC3\xA9.pdf");
}

}  // namespace
}  // namespace mailvault::mime
