// SEARCH over a mailbox snapshot: ALL, sequence and UID sets, LARGER/SMALLER, BEFORE/ON/SINCE
// (INTERNALDATE), SENTBEFORE/SENTON/SENTSINCE (Date: header), OLDER/YOUNGER, flags and keywords
// from the snapshot; text keys through a caller-supplied predicate; NOT/OR/AND over them. Pure
// apart from what the predicate does.
//
// Each node evaluates to a bitmap over the snapshot (one byte per message), so AND/OR/NOT are
// linear and a set key is resolved once, not once per message.
//
// Dates compare the calendar day only (RFC 3501): INTERNALDATE as a UTC day, the Date: header
// as the day written in it, in the sender's zone (as Dovecot does; messages archived before
// migration 0005 have no zone recorded and use UTC). A message without a parsable Date: header
// matches no SENT* key.
//
// Text keys (FROM TO CC BCC SUBJECT HEADER BODY TEXT) are answered through a TextPredicate
// that the session supplies (it reads the archive's search-text sidecar, text_match.h): the
// exact RFC 3501 substring test, message by message. Each node is evaluated over a *domain*,
// the messages the rest of the tree still allows: inside an AND the keys without text run
// first and narrow the domain, an OR checks its second key only where the first failed, and a
// NOT passes its domain down. So a text key reads the text of as few messages as the tree
// permits, and the answer always equals that of an exact scan.
//
// Xapian narrowing is the predicate's business: the session asks the index once per BODY/TEXT
// needle for a superset of the messages whose body may contain it
// (indexer/substring_narrower.h) and reads the text only of those (TEXT still reads every
// message's header text).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

#include "core/base/result.h"
#include "server-imap/protocol/search_keys.h"
#include "server-imap/session/mailbox_view.h"
#include "server-imap/session/text_match.h"

namespace mailvault::imapd {

// True when the tree has a text key (FROM TO CC BCC SUBJECT HEADER BODY TEXT).
bool contains_text_keys(const SearchKey& key) noexcept;

// True when the tree uses the saved result `$`.
bool contains_saved_set(const SearchKey& key) noexcept;

// True when the tree needs more than the snapshot: text keys or `$`.
bool contains_unsupported_keys(const SearchKey& key) noexcept;

// The exact answer of one text key for one message, or an error (sidecar unreadable...) that
// aborts the search.
using TextPredicate = std::function<Result<bool>(const MessageEntry&, const TextKey&)>;

// The indexes (0-based, ascending) of the snapshot's messages that match. `now` (unix seconds)
// is for OLDER/YOUNGER. `text` answers text keys; it is called only for messages the rest of
// the tree has not already decided, at most once per text key and message, in snapshot order.
// Returns the predicate's first error. `$` matches the snapshot's saved result.
// Recursion depth is that of the tree, which the parser bounds (Limits::max_search_depth).
Result<std::vector<std::size_t>> evaluate_search(const SearchKey& key, const Snapshot& snapshot,
                                                 std::int64_t now, const TextPredicate& text);

// The same without text: text keys match nothing.
std::vector<std::size_t> evaluate_search(const SearchKey& key, const Snapshot& snapshot,
                                         std::int64_t now);

}  // namespace mailvault::imapd
