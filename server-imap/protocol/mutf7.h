// Modified UTF-7 for mailbox names (RFC 3501 §5.1.3): how IMAP4rev1 clients that have not
// enabled UTF8=ACCEPT see and send non-ASCII mailbox names.
//
// NOTE: ingest/imap/ has its own copy for the IMAP client; server-imap may not depend on
// ingest. Both should move to core once they have settled.
#pragma once

#include <string>
#include <string_view>

#include "core/base/result.h"

namespace mailvault::imapd {

// UTF-8 → modified UTF-7. Printable ASCII other than "&" is copied; "&" becomes "&-"; any other
// run of characters becomes "&" + modified BASE64 of UTF-16BE + "-". Invalid UTF-8 bytes are
// encoded as U+FFFD, so the output is always valid modified UTF-7. Pure.
std::string mutf7_encode(std::string_view utf8);

// Modified UTF-7 → UTF-8. Fails with kInvalidArgument for anything RFC 3501 forbids: 8-bit or
// control bytes, an unterminated "&" run, "&" + base64 that encodes printable ASCII or is
// empty other than "&-", non-zero padding bits, unpaired surrogates, adjacent encoded runs
// ("&AOQ-&AOQ-" must be one run). Pure.
Result<std::string> mutf7_decode(std::string_view mutf7);

}  // namespace mailvault::imapd
