// THREAD=ORDEREDSUBJECT and THREAD=REFERENCES (RFC 5256 section 3) over prepared message keys
// (message_keys.h), and the THREAD response's thread list. Pure; thread-safe.
//
// REFERENCES, step by step as the RFC numbers them:
//   1. Containers by Message-ID. A message without one, or with one an earlier message already
//      has, gets a container of its own (the RFC's "unique Message ID"). The References chain
//      (or the first In-Reply-To msg-id when there are no References) links each reference to
//      the next unless the child already has a parent or the link would make a loop; then the
//      message becomes a child of its last reference (no reference: a root), replacing any
//      parent a truncated chain had guessed, unless that would make a loop.
//   2-3. The roots are the containers without a parent.
//   4. Dummies (referenced, never seen) are pruned: without children they go; with children
//      they are replaced by their children, except at the root where a dummy stays unless it
//      has one child only.
//   5. Roots with the same (non-empty) base subject are gathered: the table prefers a dummy,
//      then a message whose subject is not a reply/forward; merges follow the RFC's cases
//      (dummy+dummy: children appended; dummy+message: message under the dummy; original+reply:
//      reply under the original; otherwise both under a new dummy). The subject of a dummy is
//      that of its first child.
//   6. Siblings, at every level, are ordered by sent date, ties by mailbox order; a dummy
//      sorts by its first child (after that child's siblings are ordered).
//
// ORDEREDSUBJECT: messages ordered by base subject, then sent date (ties: mailbox order);
// each run of one subject is a thread whose first message is the parent of all the others;
// threads are ordered by the sent date of their first message.
//
// Depth: after step 1 a chain deeper than 1,000 levels (which only crafted mail has) is cut into
// separate threads every 1,000 levels, which bounds the recursion of the later steps.
//
// Cost: O(n log n) plus the References lengths times the depth (the loop check walks parent
// chains).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "server-imap/session/message_keys.h"

namespace mailvault::imapd {

// One message to thread; the input order is mailbox order.
struct ThreadMessage {
  std::uint32_t number = 0;           // what the response shows: sequence number or UID (> 0)
  std::int64_t date = 0;              // sent date (sort.h sent_date)
  const MessageKeys* keys = nullptr;  // never null
};

struct ThreadNode {
  std::uint32_t number = 0;  // 0: a dummy (only at the root, with two children or more)
  std::vector<ThreadNode> children;
  friend bool operator==(const ThreadNode&, const ThreadNode&) = default;
};

std::vector<ThreadNode> thread_references(const std::vector<ThreadMessage>& messages);

std::vector<ThreadNode> thread_ordered_subject(const std::vector<ThreadMessage>& messages);

// The thread list of a THREAD response: "(1 2)(3 (4)(5))((6)(7))"; "" for no threads. A
// message with one child is followed by it; several children are each parenthesised.
std::string format_threads(const std::vector<ThreadNode>& threads);

}  // namespace mailvault::imapd
