// Strong types for IMAP message numbers and the sequence sets that name them.
//
// A UID can never be passed where a sequence number is meant: both are enum classes, and a
// SequenceSet knows which of the two it holds. `*` ("the largest number in use") and `$` (the
// SEARCHRES saved result, RFC 5182) stay symbolic until the session resolves them against the
// selected mailbox.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace mailvault::imapd {

enum class Uid : std::uint32_t {};
enum class SeqNum : std::uint32_t {};

constexpr std::uint32_t to_int(Uid uid) noexcept {
  return static_cast<std::uint32_t>(uid);
}

constexpr std::uint32_t to_int(SeqNum seq) noexcept {
  return static_cast<std::uint32_t>(seq);
}

// Inclusive range of numbers, first <= last.
template <typename N>
struct NumberRange {
  N first;
  N last;
  friend bool operator==(const NumberRange&, const NumberRange&) = default;
};

using UidRange = NumberRange<Uid>;
using SeqRange = NumberRange<SeqNum>;

class SequenceSet {
 public:
  // In a range as written, kStar stands for `*`. Real numbers are never 0 (nz-number).
  static constexpr std::uint32_t kStar = 0;

  struct Range {
    std::uint32_t first = 0;  // as written: "5:2" is stored {2, 5}; "*:4" is {4, kStar}
    std::uint32_t last = 0;
    friend bool operator==(const Range&, const Range&) = default;
  };

  enum class Kind : std::uint8_t { kSeq, kUid };

  SequenceSet() = default;

  SequenceSet(Kind kind, std::vector<Range> ranges) : kind_(kind), ranges_(std::move(ranges)) {}

  // `$`: the saved search result; numbers come from the session, of the set's kind.
  static SequenceSet saved(Kind kind) {
    SequenceSet s(kind, {});
    s.saved_ = true;
    return s;
  }

  [[nodiscard]] Kind kind() const noexcept { return kind_; }

  [[nodiscard]] bool is_uid() const noexcept { return kind_ == Kind::kUid; }

  [[nodiscard]] bool is_saved() const noexcept { return saved_; }

  // Ranges as written (each with first <= last, `*` kept as kStar), in the client's order.
  [[nodiscard]] const std::vector<Range>& ranges() const noexcept { return ranges_; }

  // Sorted, disjoint, merged ranges with `*` replaced by `largest` (the highest sequence number,
  // or the highest UID in the mailbox). Per RFC 3501, n:* includes `largest` even when n is
  // larger (so `UID 900:*` names the last message). Numbers above `largest` are dropped, so
  // with largest == 0 (an empty mailbox) the result is empty. Precondition: !is_saved() and
  // the kind matches.
  [[nodiscard]] std::vector<SeqRange> resolve(SeqNum largest) const;
  [[nodiscard]] std::vector<UidRange> resolve(Uid largest) const;

  // The set as the client could have written it ("1:3,7,9:*", or "$").
  [[nodiscard]] std::string to_string() const;

  friend bool operator==(const SequenceSet&, const SequenceSet&) = default;

 private:
  [[nodiscard]] std::vector<Range> resolve_raw(std::uint32_t largest) const;

  Kind kind_ = Kind::kSeq;
  bool saved_ = false;
  std::vector<Range> ranges_;
};

// "1:3,7" from numbers in any order (duplicates allowed), as IMAP responses write sets
// (ESEARCH ALL, COPYUID). Empty input gives "".
std::string compress_sequence_set(std::vector<std::uint32_t> numbers);

}  // namespace mailvault::imapd
