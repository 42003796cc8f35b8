// IMAP client for pulling mail into the archive (RFC 3501, with IDLE, LITERAL+/-, SASL-IR,
// SPECIAL-USE, LIST-EXTENDED, ID, ESEARCH where the server offers them).
//
// Read-only by construction: mailboxes are opened with EXAMINE, bodies fetched with BODY.PEEK[],
// so nothing on the server changes (no \Seen, no \Recent cleared).
//
// Blocking, on the caller's thread, over one net::Connection; every operation is bounded by the
// connection's timeouts. Responses are parsed by ResponseAssembler (response_parser.h) as lines
// and literals arrive; a literal (a message body) is read once into a std::string and moved
// through to FetchedMessage::body.
//
// Errors (Status / Result):
//  * kUnavailable: the connection dropped, the server said BYE, or the server answered NO to a
//    command that should not fail (with [UNAVAILABLE], [SERVERBUG], ...). The message names the
//    command and, where there is one, the mailbox and UID range.
//  * kDeadlineExceeded / kCancelled: from the connection (timeouts, close() from another thread).
//  * kUnauthenticated: the server refused the credentials (its text is in the message).
//  * kFailedPrecondition: a TLS/plaintext policy refusal (STARTTLS not offered, a password on a
//    plaintext connection without allow_plaintext_password, LOGINDISABLED), or the client is in
//    the wrong state (fetch before examine).
//  * kNotFound / kPermissionDenied: EXAMINE refused ([NONEXISTENT] / [NOPERM] or plain NO).
//  * kInvalidArgument / kResourceExhausted: the server sent something unparsable or over a limit
//    (ClientOptions); kInternal: the server broke the protocol in a way the parser accepts
//    (wrong tag, FETCH data out of UID order, BAD to a well-formed command).
// After kUnavailable, kDeadlineExceeded, kCancelled, a parse error or kInternal the connection
// is closed and every later call fails with kUnavailable naming the first error; logout() then
// returns OK. Other errors leave the client usable.
//
// Logging: spdlog at debug level (commands with secrets replaced by "***", response summaries,
// never message bodies, passwords or tokens); [ALERT] texts at warn.
//
// Thread safety: not thread-safe; one owner thread. The connection's close() may still be
// called from another thread to abort (through the net layer, not this class).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/result.h"
#include "ingest/imap/command.h"
#include "ingest/imap/response.h"
#include "ingest/imap/response_parser.h"
#include "ingest/net/connection.h"

namespace mailvault::ingest::imap {

struct Capabilities {
  std::set<std::string> items;  // as the server sent them

  // Case-insensitive ("idle" finds "IDLE"; "AUTH=PLAIN" finds "auth=plain").
  [[nodiscard]] bool has(std::string_view cap) const;
};

enum class AuthMechanism { kAuto, kLogin, kPlain, kXOAuth2 };

struct Credentials {
  std::string user;
  std::string password;  // LOGIN / PLAIN
  // XOAUTH2: called for a fresh token, once per authenticate() and once more after the server
  // refused the first token.
  std::function<Result<std::string>()> access_token;
  // kAuto: XOAUTH2 if access_token is set, else PLAIN if AUTH=PLAIN is advertised, else LOGIN.
  AuthMechanism mechanism = AuthMechanism::kAuto;
  // Refuse to send a password or token over a connection without TLS unless true.
  bool allow_plaintext_password = false;
};

struct ClientOptions {
  std::size_t max_line = 64 * 1024;      // longest response line accepted
  std::size_t max_literal = 256u << 20;  // largest literal (message) accepted
  std::string id_name = "mailvault";     // sent with ID when the server advertises it
  std::string id_version;                // empty: not sent
};

struct Mailbox {
  std::string name;       // decoded UTF-8 (modified UTF-7 decoded), with the server's delimiter;
                          // an INBOX in any case is "INBOX"
  std::string wire_name;  // as the server sent it (what EXAMINE sends back)
  char delimiter = '\0';  // '\0' = NIL
  std::vector<std::string> attributes;  // \Noselect, \HasChildren, \Sent, \Junk, \All, ...

  // False for \Noselect and \NonExistent (compared case-insensitively).
  [[nodiscard]] bool selectable() const;
};

struct MailboxState {
  std::uint32_t uidvalidity = 0;
  std::uint32_t uidnext = 0;  // 0 if the server did not send [UIDNEXT] (RFC 3501 requires it)
  std::uint32_t exists = 0;
};

struct FetchedMessage {
  std::uint32_t uid = 0;
  std::string body;                     // exact bytes of BODY[] (from BODY.PEEK[])
  std::string internal_date;            // as sent, e.g. "17-Jul-1996 02:44:25 -0700"
  std::int64_t internal_date_unix = 0;  // seconds since epoch (UTC), 0 if unparsable
  std::vector<std::string> flags;
  std::uint64_t rfc822_size = 0;  // RFC822.SIZE as sent, or body.size() if it was not sent
};

class Client {
 public:
  // Connects (net::Connection::open), reads the greeting (PREAUTH: already authenticated; BYE:
  // kUnavailable with its text), gets the capabilities (from the greeting's [CAPABILITY] code or
  // a CAPABILITY command), does STARTTLS when net.tls == kStartTls (kFailedPrecondition if the
  // server does not advertise it, or greets with PREAUTH) and re-reads the capabilities after
  // it, and sends ID when advertised.
  static Result<std::unique_ptr<Client>> connect(const net::ConnectOptions& net,
                                                 ClientOptions options = {});

  // The same over a connection that is already open (tests, proxies). `tls` says whether to do
  // STARTTLS (kStartTls) after the greeting; `context` names the server in messages.
  static Result<std::unique_ptr<Client>> connect(std::unique_ptr<net::Connection> connection,
                                                 net::TlsMode tls, std::string context,
                                                 ClientOptions options = {});

  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // The latest capabilities (after STARTTLS and authentication they are re-read).
  [[nodiscard]] const Capabilities& capabilities() const { return capabilities_; }

  // Authenticates (no-op after PREAUTH). A refused login is kUnauthenticated with the server's
  // text (and, for XOAUTH2, the server's decoded JSON error). kFailedPrecondition when the
  // chosen mechanism is not offered or the plaintext policy forbids it; kInvalidArgument for
  // credentials that cannot be sent (NUL bytes, no token function for XOAUTH2).
  Status authenticate(const Credentials& credentials);

  // LIST "" "*" (with RETURN (SPECIAL-USE) when SPECIAL-USE and LIST-EXTENDED are advertised),
  // filtered by glob patterns over the decoded names (glob_match() in text.h): an empty include
  // list means every mailbox; exclude wins. Non-selectable mailboxes are returned too (see
  // Mailbox::selectable()). Order as the server sent them.
  Result<std::vector<Mailbox>> list(const std::vector<std::string>& include = {},
                                    const std::vector<std::string>& exclude = {});

  // EXAMINE (never SELECT). The mailbox stays examined for uids_from()/fetch()/idle().
  Result<MailboxState> examine(const Mailbox& mailbox);

  // UIDs >= first_uid in the examined mailbox, ascending, without duplicates.
  // Sent as "UID FETCH first:* (UID)": every server supports it, each answer is a short line
  // (a "* SEARCH" answer for a large mailbox is one line of megabytes, over max_line), and the
  // one message that "first:*" yields when first is above the highest UID is dropped here.
  Result<std::vector<std::uint32_t>> uids_from(std::uint32_t first_uid);

  // UID FETCH <set> (UID BODY.PEEK[] INTERNALDATE FLAGS RFC822.SIZE) for `uids` (sorted and
  // de-duplicated here), `batch` UIDs per command, up to `pipeline_depth` commands in flight
  // (the next command is sent before the previous one's responses are read). on_message is
  // called once per message, in ascending UID order, as each message arrives; UIDs the server
  // no longer has are skipped silently. A server that sends a body out of UID order is kInternal.
  // If on_message returns an error, no further command is sent and the error is returned: for
  // kCancelled the connection is dropped at once; for any other error the commands in flight
  // are drained (their messages discarded) so the client stays usable for the next mailbox.
  // batch and pipeline_depth of 0 are taken as 1.
  Status fetch(std::span<const std::uint32_t> uids,
               const std::function<Status(FetchedMessage&&)>& on_message, std::size_t batch = 200,
               std::size_t pipeline_depth = 2);

  // IDLE (RFC 2177) on the examined mailbox until the server announces new mail (an EXISTS
  // above the count known so far; EXPUNGEs lower that count, so an EXPUNGE followed by an
  // EXISTS for a new message counts) or `max_wait` passes; then DONE ends the command and the
  // client stays usable (fetch, or the next idle()). true if new mail was announced.
  // The caller re-issues IDLE before 29 minutes: RFC 2177 lets servers log out clients idle
  // for 30. A server that ends IDLE by itself with OK returns early (true or false as above).
  // kUnimplemented if the server has no IDLE (the caller polls); kCancelled when the connection
  // is closed from another thread, which is how a waiting idle() is stopped; kUnavailable and
  // the rest as for any command.
  Result<bool> idle(std::chrono::milliseconds max_wait);

  // LOGOUT; a server that already closed (or a connection broken earlier) is fine.
  Status logout();

  // Bytes read from the connection so far (for rates).
  [[nodiscard]] std::uint64_t bytes_read() const;

 private:
  Client(std::unique_ptr<net::Connection> connection, std::string context, ClientOptions options);

  Status start(net::TlsMode tls);
  Status refresh_capabilities();
  Status send_id();
  Result<StatusResponse> auth_sasl(std::string_view mechanism, const std::string& initial_response,
                                   std::string& server_error);
  Status finish_auth(Result<StatusResponse> result, std::string_view mechanism,
                     const std::string& server_error);

  // One response, lines and literals read from the connection. Untagged responses are also
  // applied to the client state (capabilities, EXISTS, BYE, alerts).
  Result<Response> read_response();
  // Sends a command; for synchronizing literals waits for "+" (untagged responses meanwhile go
  // to on_untagged).
  Status send(const Command& command, const std::function<Status(Response&)>& on_untagged = {});
  // Sends a command and reads until its tagged response; untagged responses go to on_untagged.
  Result<StatusResponse> run(const Command& command,
                             const std::function<Status(Response&)>& on_untagged = {});
  // A command builder with a fresh tag and the literal mode the server allows.
  CommandBuilder command(std::string_view name);

  void apply_untagged(const Response& response);
  // Marks the client broken (closes the connection) and returns the error with context.
  Error fail(Error error);
  Status usable() const;
  // A NO/BAD tagged response as an Error.
  Error refused(std::string_view what, const StatusResponse& status, Code no_code) const;
  [[nodiscard]] std::string where() const;

  std::unique_ptr<net::Connection> connection_;
  std::string context_;  // "imap host:port" for messages
  ClientOptions options_;
  ResponseAssembler assembler_;
  TagGenerator tags_;
  Capabilities capabilities_;
  bool authenticated_ = false;
  std::optional<std::string> bye_;  // text of an untagged BYE
  std::optional<Error> broken_;
  // The examined mailbox.
  std::optional<std::string> mailbox_;
  std::uint32_t exists_ = 0;
  std::string activity_;  // what the client is doing, for error messages
  bool new_exists_ = false;
};

}  // namespace mailvault::ingest::imap
