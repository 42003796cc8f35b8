#include "ingest/sync/imap_login.h"

#include "ingest/sync/sync.h"

namespace mailvault::ingest {
namespace {

imap::AuthMechanism mechanism(std::string_view auth) {
  if (auth == "login")
    return imap::AuthMechanism::kLogin;
  if (auth == "plain")
    return imap::AuthMechanism::kPlain;
  if (auth == "xoauth2")
    return imap::AuthMechanism::kXOAuth2;
  return imap::AuthMechanism::kAuto;
}

}  // namespace

imap::Credentials imap_credentials(const accounts::Account& account,
                                   std::chrono::milliseconds token_timeout) {
  const auto& spec = account.spec;
  imap::Credentials creds;
  creds.user = spec.username;
  creds.password = spec.secret.password;
  creds.mechanism = mechanism(spec.auth);
  creds.allow_plaintext_password = spec.tls == accounts::Tls::kNone;
  if (spec.auth == "xoauth2") {
    creds.access_token = [secret = spec.secret, token_timeout] {
      return fetch_access_token(secret, token_timeout);
    };
  }
  return creds;
}

}  // namespace mailvault::ingest
