// Fuzz-style robustness test of the protocol layer that runs in every unit-test build (the
// libFuzzer target tests/fuzz/imap_command_fuzz.cc needs clang): the seed corpus, truncated and
// mutated, goes through CommandReader (at once and in small chunks: same events) and
// parse_command; nothing may crash, hang or leak, and errors must be well-formed.
#include <cstddef>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <gtest/gtest.h>

#include "server-imap/protocol/command_parser.h"
#include "server-imap/protocol/command_reader.h"

namespace mailvault::imapd {
namespace {

std::vector<std::string> seeds() {
  std::vector<std::string> out;
  const std::filesystem::path dir =
      std::filesystem::path(MAILVAULT_TEST_DATA).parent_path() / "fuzz/corpus/imap_command";
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    std::ifstream in(entry.path(), std::ios::binary);
    out.emplace_back(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  return out;
}

std::vector<std::string> run(std::string_view input, const Limits& limits, std::size_t chunk) {
  CommandReader reader(limits);
  std::vector<std::string> events;
  for (std::size_t i = 0; i < input.size(); i += chunk) {
    reader.feed(input.substr(i, chunk));
    for (ReaderEvent e = reader.next(); e.status != ReadStatus::kNeedMore; e = reader.next()) {
      events.push_back(std::to_string(static_cast<int>(e.status)) + e.command + e.tag);
      if (e.status != ReadStatus::kCommand) {
        continue;
      }
      const ParseResult r = parse_command(e.command, limits);
      if (const auto* err = std::get_if<CommandError>(&r)) {
        EXPECT_FALSE(err->message.empty());
        EXPECT_LE(err->offset, e.command.size());
        EXPECT_EQ(err->message.find_first_of("\r\n"), std::string::npos);
      } else {
        EXPECT_NE(std::get<Command>(r).spec, nullptr);
      }
    }
  }
  return events;
}

void check(std::string_view input) {
  Limits small;
  small.max_line_bytes = 60;
  small.max_literal_bytes = 20;
  small.max_nonsync_literal_bytes = 10;
  small.max_command_bytes = 120;
  small.max_nesting = 4;
  small.max_search_depth = 6;
  small.max_arguments = 12;
  for (const Limits& limits : {Limits{}, small}) {
    const std::vector<std::string> whole = run(input, limits, input.size() + 1);
    ASSERT_EQ(whole, run(input, limits, 1));
    ASSERT_EQ(whole, run(input, limits, 5));
  }
}

TEST(ImapdProtocolFuzz, SeedCorpusParses) {
  const std::vector<std::string> all = seeds();
  ASSERT_GE(all.size(), 40U);
  for (const std::string& seed : all) {
    check(seed);
  }
}

TEST(ImapdProtocolFuzz, TruncationsAndMutations) {
  const std::vector<std::string> all = seeds();
  std::mt19937 rng(20261122);
  static constexpr char kChars[] = "(){}[]<>\"\\*$:,.+~ \r\n\0aZ09\xff\x80";
  constexpr std::string_view kAlphabet(kChars, sizeof(kChars) - 1);  // with the NUL
  for (const std::string& seed : all) {
    for (std::size_t n = 0; n <= seed.size(); n += 3) {
      check(std::string_view(seed).substr(0, n));
    }
  }
  for (int iteration = 0; iteration < 3000; ++iteration) {
    std::string s = all[rng() % all.size()];
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
          s.insert(at, all[rng() % all.size()]);
          break;
      }
    }
    check(s);
  }
}

}  // namespace
}  // namespace mailvault::imapd
