// SEARCH over a mailbox snapshot for the keys that need no message text: ALL, sequence and UID
// sets, LARGER/SMALLER, BEFORE/ON/SINCE (INTERNALDATE), SENTBEFORE/SENTON/SENTSINCE (Date:
// header), OLDER/YOUNGER, flags and keywords, and NOT/OR/AND over them. Pure.
//
// Each node evaluates to a bitmap over the snapshot (one byte per message), so AND/OR/NOT are
// linear and a set key is resolved once, not once per message.
//
// Dates compare the calendar day only (RFC 3501): INTERNALDATE and the Date: header are both
// taken as UTC days, because messages.date_header keeps the instant but not the sender's zone.
// Dovecot compares the Date: header in its own zone, so a message sent near midnight can
// differ; the Dovecot-oracle test (next step) will show whether the zone must be stored. A
// message without a parsable Date: header matches no SENT* key.
//
// Text keys (FROM TO CC BCC SUBJECT HEADER BODY TEXT) are not evaluated here: contains_text_keys()
// lets the session refuse them for now. Next step (design): the session compiles the text keys
// of the tree into a core Query, asks the Searcher (indexer/) for the messages whose index terms
// can match — `definite` when the key is a whole word or word prefix the index proves,
// `maybe` otherwise — restricted to the snapshot's message ids; each maybe-candidate is then
// checked against the case-folded decoded search text (Archive::search_text, the sidecar) with a
// plain substring test, so the result equals an exact scan. The non-text part of the tree is
// evaluated first with this bitmap code and narrows the candidates before any sidecar is read.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "server-imap/protocol/search_keys.h"
#include "server-imap/session/mailbox_view.h"

namespace mailvault::imapd {

// True when the tree has a key this evaluator cannot answer (text keys, `$`).
bool contains_unsupported_keys(const SearchKey& key) noexcept;

// The indexes (0-based, ascending) of the snapshot's messages that match. `now` (unix seconds)
// is for OLDER/YOUNGER. Precondition: !contains_unsupported_keys(key) (such keys match nothing).
// Recursion depth is that of the tree, which the parser bounds (Limits::max_search_depth).
std::vector<std::size_t> evaluate_search(const SearchKey& key, const Snapshot& snapshot,
                                         std::int64_t now);

}  // namespace mailvault::imapd
