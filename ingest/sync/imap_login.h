// The IMAP credentials of an account: user, password or XOAUTH2 token source, the mechanism the
// account asks for, and the plaintext policy (a password goes over a connection without TLS only
// when the account itself is configured without TLS). Shared by the sync (imap_sync.cc) and the
// IDLE watchers (idle_watchers.h), so both log in the same way.
#pragma once

#include <chrono>

#include "core/accounts/account_store.h"
#include "ingest/imap/client.h"

namespace mailvault::ingest {

// `token_timeout` bounds the XOAUTH2 token command (fetch_access_token in sync.h). The secret is
// copied into the returned value.
imap::Credentials imap_credentials(const accounts::Account& account,
                                   std::chrono::milliseconds token_timeout);

}  // namespace mailvault::ingest
