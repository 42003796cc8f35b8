// What SORT (RFC 5256, RFC 5957) and THREAD (RFC 5256) need of one message, taken once from the
// archive's parsed data (the search-text sidecar, mime::ParsedMessage: decoded subject and
// addresses, Message-ID, References, In-Reply-To) and cached with the message's search text
// (text_match.h SearchableMessage), so that sorting and threading never parse MIME and every
// comparison is a plain byte comparison of prepared keys.
//
// Comparison strings (sort_fold()): the i;unicode-casemap key of the decoded UTF-8 that RFC 5256
// asks for (RFC 5051: titlecase, then full decomposition; core/mime/casemap.h), so "Élan" sorts
// with "elan" next to "Elba", and ASCII letters compare as upper case (`_` after `Z`).
//
// Base subject (base_subject()): RFC 5256 section 2.1 exactly, steps (1) to (6), on the decoded
// subject; it also says whether a reply/forward marker was removed (subj-refwd, "(fwd)",
// "[fwd: ...]"), which THREAD=REFERENCES step 5 needs.
//
// Addresses: FROM, TO, CC sort by the addr-mailbox (local part) of the first address of the
// field (RFC 5256; a group first: its name, as the group marker of an IMAP address list);
// DISPLAYFROM/DISPLAYTO by the decoded display name of the first address (blanks collapsed and
// trimmed), or its addr-spec when it has none (RFC 5957). An absent field sorts as "".
//
// Message-IDs: the References msg-ids (or the In-Reply-To one) and the Message-ID count only
// when they contain "@" (RFC 5322 msg-id; "<yes>" is seen in real References).
//
// Pure values and functions; thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/mime/parsed_message.h"

namespace mailvault::imapd {

struct BaseSubject {
  std::string text;    // the base subject, decoded, not folded
  bool reply = false;  // a reply/forward marker was removed
};

// RFC 5256 section 2.1 on a decoded (UTF-8) subject. Pure.
BaseSubject base_subject(std::string_view subject);

// The comparison form of a string (see above). Pure.
std::string sort_fold(std::string_view utf8);

struct MessageKeys {
  std::string subject;  // sort_fold(base subject)
  bool subject_reply = false;
  std::string from, to, cc;              // sort_fold(first addr-mailbox)
  std::string display_from, display_to;  // sort_fold(display name or addr-spec)
  std::string message_id;                // without angle brackets; "" when absent
  // The parent chain for THREAD=REFERENCES: the References msg-ids, or the first In-Reply-To
  // msg-id when there are none (RFC 5256 section 3).
  std::vector<std::string> references;

  [[nodiscard]] std::size_t bytes() const noexcept;
};

// Keys of one parsed message. Pure.
MessageKeys make_message_keys(const mime::ParsedMessage& message);

}  // namespace mailvault::imapd
