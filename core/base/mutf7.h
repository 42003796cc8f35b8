// Modified UTF-7 for IMAP mailbox names (RFC 3501 §5.1.3): how IMAP4rev1 peers that have not
// enabled UTF8=ACCEPT send non-ASCII names. Used by the IMAP client (ingest/imap) and the IMAP
// server (server-imap). Pure; thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "core/base/result.h"

namespace mailvault {

// UTF-8 → modified UTF-7. Printable US-ASCII other than "&" is copied; "&" becomes "&-"; any
// other run of characters becomes "&" + modified BASE64 (',' for '/', no padding) of UTF-16BE
// + "-". A byte that is not part of valid UTF-8 is encoded as U+FFFD, so the output is always
// valid modified UTF-7 (callers that must refuse invalid UTF-8 check is_valid_utf8 first).
std::string mutf7_encode(std::string_view utf8);

struct Mutf7Rules {
  // "&AOQ-&AOQ-" (two encoded runs side by side, which RFC 3501 forbids: they must be one run).
  // The server refuses it; the client accepts what a sloppy server sends.
  bool allow_adjacent_runs = false;
};

// Modified UTF-7 → UTF-8. kInvalidArgument, naming the problem and the name, for anything RFC
// 3501 forbids: bytes outside printable US-ASCII, an unterminated "&" run, a bad base64
// character, an empty run other than "&-", base64 that encodes printable US-ASCII or NUL,
// leftover bits that are not a whole UTF-16 unit or are not zero, unpaired surrogates, and
// (unless allowed) adjacent runs.
Result<std::string> mutf7_decode(std::string_view mutf7, Mutf7Rules rules = {});

}  // namespace mailvault
