#include "indexer/pair_filter.h"

#include <algorithm>

namespace mailvault::index {
namespace {

// splitmix64's finaliser: spreads every input bit over the output.
std::uint64_t mix(std::uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

// Bit positions by double hashing (Kirsch and Mitzenmacher): h1 + i * h2 mod bits.
template <typename F>
bool each_probe(std::uint64_t pair, std::uint64_t bits, F&& f) {
  const std::uint64_t h1 = pair & 0xffffffffULL;
  const std::uint64_t h2 = (pair >> 32) | 1U;
  for (unsigned i = 0; i < PairFilter::kProbes; ++i) {
    if (!f((h1 + i * h2) % bits)) {
      return false;
    }
  }
  return true;
}

}  // namespace

std::uint64_t PairFilter::word_hash(std::string_view word) {
  std::uint64_t h = 14695981039346656037ULL;
  for (const char c : word) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ULL;
  }
  return h;
}

bool PairFilter::excluded(std::string_view word) {
  for (std::size_t i = 0; i < word.size(); ++i) {
    const auto b = static_cast<unsigned char>(word[i]);
    if (b < 0xE2) {
      continue;  // ASCII, continuation bytes and lead bytes below U+2000
    }
    if (b >= 0xF0) {
      return true;  // U+10000 and above
    }
    // A three-byte sequence: U+2000..U+FFFF.
    if (i + 2 >= word.size()) {
      return false;  // truncated: the TermGenerator never makes such a word
    }
    const unsigned cp = ((b & 0x0FU) << 12) |
                        ((static_cast<unsigned char>(word[i + 1]) & 0x3FU) << 6) |
                        (static_cast<unsigned char>(word[i + 2]) & 0x3FU);
    if (cp >= 0x2E80) {
      return true;
    }
  }
  return false;
}

std::uint64_t PairFilter::pair_hash(std::uint64_t first, std::uint64_t second) {
  return mix(mix(first) + 0x9e3779b97f4a7c15ULL * (second | 1U) + second);
}

std::string PairFilter::encode(std::vector<std::uint64_t>& pairs) {
  std::sort(pairs.begin(), pairs.end());
  pairs.erase(std::unique(pairs.begin(), pairs.end()), pairs.end());
  const std::size_t bytes = std::max<std::size_t>(1, (pairs.size() * kBitsPerPair + 7) / 8);
  std::string filter(bytes, '\0');
  const std::uint64_t bits = std::uint64_t{bytes} * 8;
  for (const std::uint64_t pair : pairs) {
    each_probe(pair, bits, [&](std::uint64_t bit) {
      filter[bit / 8] =
          static_cast<char>(static_cast<unsigned char>(filter[bit / 8]) | (1U << (bit % 8)));
      return true;
    });
  }
  return filter;
}

bool PairFilter::may_contain(std::string_view filter, std::uint64_t pair) {
  if (filter.empty()) {
    return true;
  }
  const std::uint64_t bits = std::uint64_t{filter.size()} * 8;
  return each_probe(pair, bits, [&](std::uint64_t bit) {
    return (static_cast<unsigned char>(filter[bit / 8]) & (1U << (bit % 8))) != 0;
  });
}

}  // namespace mailvault::index
