// Internal to server-imap/protocol: the search-key grammar on a Cursor, shared by SEARCH, SORT
// and THREAD in command_parser.cc. Throws detail::SyntaxError.
#pragma once

#include "server-imap/protocol/cursor.h"
#include "server-imap/protocol/search_keys.h"

namespace mailvault::imapd::detail {

// [RETURN (...) SP] [CHARSET x SP] search-key *(SP search-key), up to the end of the command.
SearchProgram read_search_program(Cursor& c, bool uid);

// charset SP search-key *(SP search-key), as in SORT and THREAD (the charset is mandatory).
SearchProgram read_charset_and_keys(Cursor& c, bool uid);

}  // namespace mailvault::imapd::detail
