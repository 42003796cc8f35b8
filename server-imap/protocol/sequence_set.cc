#include "server-imap/protocol/sequence_set.h"

#include <algorithm>
#include <cassert>
#include <string>
#include <utility>
#include <vector>

namespace mailvault::imapd {

std::vector<SequenceSet::Range> SequenceSet::resolve_raw(std::uint32_t largest) const {
  assert(!saved_);
  std::vector<Range> out;
  if (largest == 0) {
    return out;  // an empty mailbox: nothing exists, `*` included
  }
  out.reserve(ranges_.size());
  for (Range r : ranges_) {
    if (r.first == kStar || r.last == kStar) {
      // "n:*" with n > largest is "largest:n" as written; clipped at largest below.
      const std::uint32_t other = r.first == kStar ? r.last : r.first;
      r = other == kStar ? Range{largest, largest}
                         : Range{std::min(other, largest), std::max(other, largest)};
    }
    if (r.first > largest) {
      continue;  // numbers beyond the mailbox are ignored, not an error
    }
    r.last = std::min(r.last, largest);
    out.push_back(r);
  }
  std::sort(out.begin(), out.end(),
            [](const Range& a, const Range& b) { return a.first < b.first; });
  std::vector<Range> merged;
  for (const Range& r : out) {
    // Adjacent ranges merge too: 1:3,4:5 is 1:5. Written without +1 to avoid overflow.
    if (!merged.empty() && r.first - 1 <= merged.back().last) {
      merged.back().last = std::max(merged.back().last, r.last);
    } else {
      merged.push_back(r);
    }
  }
  return merged;
}

std::vector<SeqRange> SequenceSet::resolve(SeqNum largest) const {
  assert(kind_ == Kind::kSeq);
  std::vector<SeqRange> out;
  for (const Range& r : resolve_raw(to_int(largest))) {
    out.push_back({SeqNum{r.first}, SeqNum{r.last}});
  }
  return out;
}

std::vector<UidRange> SequenceSet::resolve(Uid largest) const {
  assert(kind_ == Kind::kUid);
  std::vector<UidRange> out;
  for (const Range& r : resolve_raw(to_int(largest))) {
    out.push_back({Uid{r.first}, Uid{r.last}});
  }
  return out;
}

std::string SequenceSet::to_string() const {
  if (saved_) {
    return "$";
  }
  std::string out;
  auto number = [&](std::uint32_t n) {
    if (n == kStar) {
      out += '*';
    } else {
      out += std::to_string(n);
    }
  };
  for (const Range& r : ranges_) {
    if (!out.empty()) {
      out += ',';
    }
    number(r.first);
    if (r.last != r.first) {
      out += ':';
      number(r.last);
    }
  }
  return out;
}

std::string compress_sequence_set(std::vector<std::uint32_t> numbers) {
  std::sort(numbers.begin(), numbers.end());
  numbers.erase(std::unique(numbers.begin(), numbers.end()), numbers.end());
  std::string out;
  std::size_t i = 0;
  while (i < numbers.size()) {
    std::size_t j = i;
    while (j + 1 < numbers.size() && numbers[j + 1] == numbers[j] + 1) {
      ++j;
    }
    if (!out.empty()) {
      out += ',';
    }
    out += std::to_string(numbers[i]);
    if (j > i) {
      out += ':';
      out += std::to_string(numbers[j]);
    }
    i = j + 1;
  }
  return out;
}

}  // namespace mailvault::imapd
