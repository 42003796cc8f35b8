// SORT and UID SORT ordering (RFC 5256, DISPLAYFROM/DISPLAYTO of RFC 5957) over messages of a
// snapshot whose keys are prepared (message_keys.h): no parsing during the sort, every
// comparison is over integers or prepared byte strings.
//
// Keys: ARRIVAL = INTERNALDATE; DATE = the Date: header, or INTERNALDATE when there is none or
// it cannot be parsed (RFC 5256); SIZE = RFC822.SIZE; SUBJECT = base subject; FROM, TO, CC =
// first addr-mailbox; DISPLAYFROM, DISPLAYTO = first display name or addr-spec. REVERSE applies
// to the key it precedes. Messages equal on every key keep sequence-number order (RFC 5256).
//
// Pure; thread-safe.
#pragma once

#include <cstddef>
#include <vector>

#include "server-imap/protocol/command.h"
#include "server-imap/session/mailbox_view.h"
#include "server-imap/session/message_keys.h"

namespace mailvault::imapd {

struct SortItem {
  std::size_t index = 0;                  // position in the snapshot: sequence number - 1
  const MessageEntry* message = nullptr;  // never null
  const MessageKeys* keys = nullptr;      // null only when no criterion needs keys
};

// True when a criterion needs MessageKeys (anything but ARRIVAL, DATE and SIZE).
bool needs_keys(const std::vector<SortCriterion>& criteria) noexcept;

// The sent date RFC 5256 sorts and threads by: Date:, else INTERNALDATE.
std::int64_t sent_date(const MessageEntry& m) noexcept;

// Orders `items` by the criteria, then by index.
void sort_items(std::vector<SortItem>& items, const std::vector<SortCriterion>& criteria);

}  // namespace mailvault::imapd
