// ENVELOPE (RFC 3501 7.4.2) from a raw header block, the way Dovecot builds it: strings are
// the raw header values (not RFC 2047 decoded), unfolded; subject and display names have runs
// of blanks collapsed to one space and are trimmed; date, in-reply-to and message-id keep their
// blanks. The last Date/Subject/In-Reply-To/Message-ID field counts; several From (To, Cc, ...)
// fields are joined as one list. Sender and Reply-To default to From; absent fields are NIL.
// Pure: thread-safe, no exceptions except std::bad_alloc, any input accepted.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "server-imap/protocol/response_writer.h"

namespace mailvault::imapd {

// One element of an ENVELOPE address list: (name adl mailbox host). A group is a start marker
// (NIL NIL "group name" NIL), its members, and an end marker (NIL NIL NIL NIL). Missing parts
// of a broken address are filled in as Dovecot does ("MISSING_MAILBOX", "MISSING_DOMAIN",
// "SYNTAX_ERROR", "INVALID_ROUTE"), so that a client always sees an address.
struct EnvelopeAddress {
  std::optional<std::string> name;
  std::optional<std::string> adl;
  std::optional<std::string> mailbox;
  std::optional<std::string> host;
  friend bool operator==(const EnvelopeAddress&, const EnvelopeAddress&) = default;
};

// Parses one unfolded address header value. At most 10,000 addresses are kept.
std::vector<EnvelopeAddress> parse_envelope_addresses(std::string_view value);

// Runs of blanks (space, tab, CR, LF) become one space; leading and trailing ones go.
std::string collapse_blanks(std::string_view s);

// Writes "(date subject from sender reply-to to cc bcc in-reply-to message-id)".
void write_envelope(ResponseWriter& w, std::string_view header);

}  // namespace mailvault::imapd
