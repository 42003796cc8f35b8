// The user query language (gRPC Search, CLI `search`): text in, search::Query out.
//
// ─── Language reference ──────────────────────────────────────────────────────────────────────
//
// A query is a list of conditions; a message matches when it satisfies all of them.
//
//   invoice                  a word anywhere: subject, addresses, body, attachment names/text.
//                            Words are stemmed in the index's language ("run" also finds
//                            "running", "runs"), and compared case-insensitively. UTF-8; CJK
//                            text is matched by characters in sequence ("日本語" finds
//                            "日本語のテスト"). A word the index splits (foo-bar, a.b) is
//                            matched as the phrase of its parts.
//   "quarterly report"       a phrase: these words, adjacent, in this order, inside one field
//                            (not stemmed; a one-word phrase is an exact, unstemmed match).
//                            The index keeps no word positions: candidates holding every word
//                            are checked against the message's decoded text, so phrases are
//                            exact everywhere, attachment text included.
//   invo*                    a word starting with "invo" ("*" only at the end of a word).
//   *                        every message (as is the empty query).
//
// Fields restrict a word, phrase or prefix to one part of the message. The value is a word, a
// "quoted phrase", a word*, or a parenthesised group whose bare words all take the field:
//
//   from:  From and Sender (names and addresses)   to:  cc:  bcc:
//   subject:  body:  attachment: (file names and text)  filename: (attachment file names)
//   msgid:  (Message-ID, exact; <angle brackets> optional)   list:  (List-Id, exact)
//   account:  folder:  (exact name of a source account or folder, case-insensitive)
//
//   from:alice@example.com   an address value is exact: that address, not its parts.
//   from:alice               a word in a name or address ("Alice Smith", alice@x.org).
//   subject:"status report"  subject:(invoice OR receipt)    folder:"Sent Items"
//
// Other conditions:
//
//   has:attachment
//   date:2024-01-01..2024-03-31   sent between these days, both inclusive; either side may
//                                 be empty (date:2024-01-01..  date:..2024-03-31).
//   date:2024  date:2024-03       the whole year / month; a range side may be one too
//                                 (date:2023..2024-06 = 2023-01-01 up to 2024-06-30).
//   date:2024-03-05               that day.
//   before:2024-03-01             sent strictly before that day.
//   after:2024-03-01              sent on or after that day.
//                                 Days are UTC. YYYY/MM/DD is accepted for YYYY-MM-DD.
//                                 before:/after: also take YYYY and YYYY-MM (the first day).
//   larger:1M  smaller:500K       size strictly larger / smaller than this; K, M, G are
//                                 1024-based, an optional B may follow (1MB), a bare number
//                                 is bytes. smaller:0 is an error (it could match nothing).
//
// Combining: conditions side by side are AND-ed; `AND`, `OR` and `NOT` (upper case; lower
// case they are plain words) and `-` right before a condition (-from:bob, -"a b", -(x y))
// negate or combine; parentheses group. Precedence: NOT and `-` bind tightest, then AND
// (explicit or implicit), then OR:  a b OR c  means  (a AND b) OR c.
//
// Field names are case-insensitive (From: = from:). A `name:value` word whose name is not a
// field above is a plain word, colon included (so "Re: hello", "10:30" and URLs can be pasted
// as they are); the colon separates words like any other punctuation. A lone `-` is ignored.
//
// Errors are Code::kInvalidArgument with the 1-based column (in characters) and the problem:
//   column 12: unbalanced ")"              column 1: unbalanced "("
//   column 6: invalid date "2024-13-01"    column 1: OR needs a condition before it
//   column 5: from: needs a value          column 9: "*" is only allowed at the end of a word
// Limits: at most 64 KiB of UTF-8 text and parentheses nested at most 100 deep.
//
// ─── Result shape ────────────────────────────────────────────────────────────────────────────
// The tree is normalised: nested ANDs and ORs are flattened, single-child ANDs/ORs collapse
// to the child, MatchAll is dropped from ANDs (an OR containing MatchAll is MatchAll), and
// double negations cancel. A bare word is one Text{kAll, word, kWords}; a quoted phrase is
// one Text{..., kPhrase}; date conditions are DateRange{kSent} of whole UTC days.
#pragma once

#include <cstddef>
#include <string_view>

#include "core/base/result.h"
#include "core/search/query.h"

namespace mailvault::search {

inline constexpr std::size_t kMaxQueryBytes = std::size_t{64} * 1024;
inline constexpr int kMaxQueryNesting = 100;

// Parses the user query language above. Pure and thread-safe; never throws except
// std::bad_alloc. Fails with Code::kInvalidArgument ("column N: ...") on any syntax error,
// invalid UTF-8, or when a limit is exceeded.
[[nodiscard]] Result<Query> parse_query(std::string_view text);

}  // namespace mailvault::search
