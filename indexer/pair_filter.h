// A per-document Bloom filter of adjacent word pairs: the phrase check's cheap first test
// (indexer/phrase_check.h). The index keeps no word positions (schema.h), so a phrase is found
// as all of its words and then verified on the message text; a document whose filter lacks one
// of the phrase's adjacent pairs cannot contain the phrase and is rejected without loading its
// text. False positives only cost a text check; there are no false negatives for pairs that were
// added. Pure, no Xapian: the bytes are stored in value slot Slot::kPhrasePairs.
//
// Stored format (part of the index schema; changing it bumps kSchemaVersion): the filter's bit
// array, bit i in byte i / 8 at (1 << (i % 8)); its size in bits is 8 * bytes. kProbes bits per
// pair, by double hashing of pair_hash(). An empty value means "unknown" (always maybe).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace mailvault::index {

class PairFilter {
 public:
  static constexpr unsigned kBitsPerPair = 12;  // with kProbes = 4: ~0.7% false positives
  static constexpr unsigned kProbes = 4;

  // 64-bit FNV-1a of a word (as the TermGenerator writes it: lower-cased, no prefix).
  static std::uint64_t word_hash(std::string_view word);
  // The hash of "first, then second" (order matters).
  static std::uint64_t pair_hash(std::uint64_t first, std::uint64_t second);

  // Words left out of pairs: those with a character at or above U+2E80 (CJK and everything
  // after it), which the TermGenerator also indexes as n-grams between the words, so that the
  // order of its terms is not the order of the words there. A phrase with such a word is not
  // filtered.
  static bool excluded(std::string_view word);

  // The filter bytes for a set of pair hashes (duplicates allowed; `pairs` is sorted and
  // deduplicated in place). Never empty: no pairs give one zero byte, which rejects every pair.
  static std::string encode(std::vector<std::uint64_t>& pairs);

  // Whether `filter` (as encode() made it) may hold `pair`. True for an empty filter.
  static bool may_contain(std::string_view filter, std::uint64_t pair);
};

}  // namespace mailvault::index
