// Fuzz-style robustness test for parse_query: random bytes, truncations and mutations of valid
// queries. Every input must either parse (and render) or fail with kInvalidArgument and a
// message that names a column (or the length limit); nothing may crash, hang or leak.
#include <cstddef>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "core/search/query.h"
#include "core/search/query_parser.h"

namespace mailvault::search {
namespace {

const std::vector<std::string>& seeds() {
  static const std::vector<std::string> list = {
      "from:alice@example.com subject:\"status report\" -has:attachment",
      "date:2024-01-01..2024-03-31 (invoice OR receipt) larger:1M smaller:2G",
      "NOT a AND (b OR -c) \"phrase with \\\"quotes\\\"\" pre* 日本語のテスト",
      "subject:(a OR (b c)) folder:\"Sent Items\" account:work msgid:<x@y> list:l.example",
      "before:2024-03-01 after:2023 date:2024-02 to:bob cc:carol bcc:dave body:x",
      "attachment:pdf filename:report.pdf frm:x 10:30 Re: ((a)) -- - *",
  };
  return list;
}

void check(std::string_view input) {
  Result<Query> q = parse_query(input);
  if (q.has_value()) {
    const std::string rendered = to_string(*q);
    ASSERT_FALSE(rendered.empty());
    // Deterministic: the same text parses to the same tree.
    Result<Query> again = parse_query(input);
    ASSERT_TRUE(again.has_value());
    ASSERT_EQ(to_string(*again), rendered);
    return;
  }
  ASSERT_EQ(q.error().code, Code::kInvalidArgument) << q.error().message;
  const std::string& m = q.error().message;
  ASSERT_TRUE(m.rfind("column ", 0) == 0 || m.rfind("query is ", 0) == 0) << m;
}

TEST(QueryParserFuzz, TruncationsOfValidQueries) {
  for (const std::string& seed : seeds()) {
    ASSERT_TRUE(parse_query(seed).has_value()) << seed;
    for (std::size_t n = 0; n <= seed.size(); ++n) {
      check(std::string_view{seed}.substr(0, n));
      check(std::string_view{seed}.substr(n));
    }
  }
}

TEST(QueryParserFuzz, MutationsOfValidQueries) {
  std::mt19937 rng(20240601);
  static constexpr std::string_view kAlphabet = "()\"\\*-:. aZ0\xe6\x97\xa5\xff\x80\t";
  for (int iteration = 0; iteration < 20000; ++iteration) {
    std::string s = seeds()[rng() % seeds().size()];
    const int edits = 1 + static_cast<int>(rng() % 6);
    for (int e = 0; e < edits && !s.empty(); ++e) {
      const std::size_t at = rng() % s.size();
      switch (rng() % 4) {
        case 0:
          s.erase(at, 1 + rng() % 4);
          break;
        case 1:
          s.insert(at, 1, kAlphabet[rng() % kAlphabet.size()]);
          break;
        case 2:
          s[at] = kAlphabet[rng() % kAlphabet.size()];
          break;
        default:
          s.insert(at, s.substr(rng() % s.size(), rng() % 12));
          break;
      }
    }
    check(s);
  }
}

TEST(QueryParserFuzz, RandomBytes) {
  std::mt19937 rng(7);
  for (int iteration = 0; iteration < 20000; ++iteration) {
    std::string s(rng() % 64, '\0');
    for (char& c : s) {
      c = static_cast<char>(rng() & 0xff);
    }
    check(s);
  }
}

TEST(QueryParserFuzz, PathologicalShapes) {
  check(std::string(kMaxQueryBytes, '('));
  check(std::string(kMaxQueryBytes, ')'));
  check(std::string(kMaxQueryBytes, '"'));
  check(std::string(kMaxQueryBytes, '-'));
  check(std::string(kMaxQueryBytes, '*'));
  check(std::string(kMaxQueryBytes + 1, 'a'));
  std::string alternating;
  while (alternating.size() + 4 < kMaxQueryBytes) {
    alternating += "(a)";
  }
  check(alternating);
  std::string fields;
  while (fields.size() + 10 < kMaxQueryBytes) {
    fields += "from:(a ";
  }
  check(fields);
}

}  // namespace
}  // namespace mailvault::search
