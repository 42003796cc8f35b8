// What SORT (RFC 5256, RFC 5957) and THREAD (RFC 5256) need of one message, taken once from the
// archive's parsed data (the search-text sidecar, mime::ParsedMessage: decoded subject and
// addresses, Message-ID, References, In-Reply-To) and cached with the message's search text
// (text_match.h SearchableMessage), so that sorting and threading never parse MIME and every
// comparison is a plain byte comparison of prepared keys.
//
// Comparison strings (sort_fold()): the decoded UTF-8 folded with fold() (text_match.h), then
// ASCII letters upper-cased. RFC 5256 asks for i;unicode-casemap, which compares titlecased
// strings; upper-casing ASCII gives the same order wherever ASCII letters meet ASCII punctuation
// (`_` sorts after `Z`, as in Dovecot). Non-ASCII letters compare by their lower-cased UTF-8 bytes
// (no decomposition): case-insensitive, but not the full i;unicode-casemap order.
//
// Base subject (base_subject()): RFC 5256 section 2.1 exactly, steps (1) to (6), on the decoded
// subject; it also says whether a reply/forward marker was removed (subj-refwd, "(fwd)",
// "[fwd: ...]"), which THREAD=REFERENCES step 5 needs.
//
// Addresses: FROM, TO, CC sort by the addr-mailbox (local part) of the first address of the
// field (RFC 5256); DISPLAYFROM/DISPLAYTO by the decoded display name of the first address, or
// its addr-spec when it has none (RFC 5957). An absent field or address sorts as "".
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
