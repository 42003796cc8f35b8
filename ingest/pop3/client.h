// POP3 client (RFC 1939, RFC 2449 CAPA, RFC 5034 AUTH PLAIN, RFC 2595 STLS) over
// net::Connection. The protocol parsing lives in protocol.h; this class is the session: one
// connection, one state machine (authorization -> transaction -> closed), blocking calls.
//
// Thread safety: none, one owner thread, except abort(), which any thread may call to make a
// blocked call return kCancelled (the worker's cancellation path).
//
// Failure modes, for every call: a connection failure is whatever net::Connection reports
// (kUnavailable, kDeadlineExceeded, kCancelled, kFailedPrecondition for TLS verification),
// prefixed with the POP3 command; a reply that is not POP3 is kInternal ("POP3 protocol error");
// a -ERR is mapped by error_from_reply (RFC 2449 codes first). After a connection or protocol
// error the session is over: later calls fail with kFailedPrecondition. A -ERR for one command
// (no such message, ...) leaves the session usable.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/result.h"
#include "ingest/net/connection.h"
#include "ingest/pop3/protocol.h"

namespace mailvault::ingest::pop3 {

enum class AuthMechanism {
  // AUTH PLAIN when CAPA lists SASL PLAIN, else USER/PASS. Without TLS and without
  // allow_plaintext_password: APOP when the greeting offers it, else kFailedPrecondition.
  kAuto,
  kUserPass,  // USER + PASS (RFC 1939 §7): the password in clear text on the stream
  kApop,      // APOP (RFC 1939 §7): MD5 digest, never the password; needs a greeting timestamp
  kPlain,     // AUTH PLAIN with initial response (RFC 5034 + RFC 4616)
};

struct ConnectOptions {
  // Host, port, TLS mode (kImplicit for pop3s 995, kStartTls for STLS on 110), verification.
  net::ConnectOptions connection;
  // Allows sending a password (USER/PASS, AUTH PLAIN) over a connection without TLS. Off by
  // default: only an account configured for plaintext on purpose (a loopback test server).
  bool allow_plaintext_password = false;
  std::size_t max_line_bytes = std::size_t{64} * 1024;  // status, CAPA, LIST and UIDL lines
  // One message (RETR); a larger one is kResourceExhausted and ends the session.
  std::size_t max_message_bytes = std::size_t{512} * 1024 * 1024;
  // RETR commands in flight in retr_many() when the server offers PIPELINING. Kept small so
  // that the commands never fill the socket buffers (no write/write deadlock).
  std::size_t pipeline_depth = 32;
};

class Client {
 public:
  // Opens the connection (net::Connection::open), reads the greeting (keeping an APOP
  // timestamp), asks CAPA, and for TlsMode::kStartTls issues STLS and asks CAPA again over TLS.
  // kFailedPrecondition when kStartTls is asked for and the server does not list STLS (nothing
  // else is sent then). A -ERR greeting is kUnavailable with the server's text.
  static Result<std::unique_ptr<Client>> connect(const ConnectOptions& options);

  // The same over a connection someone else opened (fake servers in tests, proxies). Takes
  // ownership of `connection`.
  static Result<std::unique_ptr<Client>> start(std::unique_ptr<net::Connection> connection,
                                               const ConnectOptions& options);

  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;
  Client(Client&&) = delete;
  Client& operator=(Client&&) = delete;
  ~Client();

  // Logs in; afterwards the session is in the transaction state and CAPA is asked again
  // (RFC 2449 allows it to change). Wrong credentials are kUnauthenticated with the server's
  // text ("-ERR [AUTH] Authentication failed."); [IN-USE] / [SYS/TEMP] / [LOGIN-DELAY] are
  // kUnavailable. Refuses (kFailedPrecondition, nothing sent) to send a password without TLS
  // unless ConnectOptions::allow_plaintext_password, and APOP without a greeting timestamp.
  // The password is never logged or put into an error message.
  Status authenticate(std::string_view user, std::string_view password,
                      AuthMechanism mechanism = AuthMechanism::kAuto);

  // STAT: number of messages and their total size (messages marked deleted excluded).
  Result<MaildropStat> stat();
  // LIST: every message number with its size, in the server's order.
  Result<std::vector<ListEntry>> list();
  // UIDL: every message number with its unique id. kUnimplemented when the server does not
  // support UIDL (not in CAPA, or -ERR without CAPA), so that the caller can fall back to
  // content hashes; the session stays usable then.
  Result<std::vector<UidlEntry>> uidl();

  // RETR: the message's exact bytes (CRLF line endings as on the wire, dot-unstuffed, without
  // the terminating "."). kNotFound on -ERR (no such message, or marked deleted).
  Result<std::string> retr(MessageNumber number);

  // Called once per message, in the order of `numbers`; a non-OK status stops retr_many (the
  // replies already in flight are read and dropped) and is returned. The callback owns the bytes.
  using MessageCallback = std::function<Status(MessageNumber, std::string bytes)>;

  // RETR of every message in `numbers`, with up to pipeline_depth commands in flight when the
  // server advertises PIPELINING (RFC 2449 §6.6), else one after the other. Same bytes as
  // retr(). The first -ERR stops it like a callback error (kNotFound naming the message).
  Status retr_many(std::span<const MessageNumber> numbers, const MessageCallback& on_message);

  // DELE: marks a message deleted; the server removes it only at quit(). kNotFound on -ERR.
  Status dele(MessageNumber number);

  // DELE of every message in `numbers`, pipelined like retr_many when the server offers
  // PIPELINING. Every reply is read; the first -ERR is returned (kNotFound naming the message)
  // after the others were sent and answered, so the session stays in step.
  Status dele_many(std::span<const MessageNumber> numbers);

  // QUIT: ends the session (the server commits deletions in its UPDATE state) and closes the
  // connection. kAborted when the server answers -ERR (deletions may not have happened).
  // Calling it in the authorization state is fine (nothing to commit).
  Status quit();

  // Closes the connection from any thread; a blocked call returns kCancelled.
  void abort() noexcept;

  [[nodiscard]] const std::string& greeting() const { return greeting_; }

  [[nodiscard]] const Capabilities& capabilities() const { return capabilities_; }

  [[nodiscard]] bool apop_available() const { return apop_timestamp_.has_value(); }

  [[nodiscard]] bool tls_active() const;

  [[nodiscard]] bool authenticated() const { return state_ == State::kTransaction; }

  // Bytes received so far (after TLS), for rates.
  [[nodiscard]] std::uint64_t bytes_read() const;

 private:
  enum class State { kAuthorization, kTransaction, kClosed };

  Client(std::unique_ptr<net::Connection> connection, ConnectOptions options);

  Status handshake();
  Status refresh_capabilities();
  Result<Reply> command(std::string_view line, std::string_view name);
  Result<Reply> read_reply(std::string_view name);
  Status read_multiline(std::string& out, std::size_t limit, std::string_view name);
  Result<std::vector<std::string>> read_lines(std::string_view name);
  Status require_transaction(std::string_view name) const;
  Status auth_user_pass(std::string_view user, std::string_view password);
  Status auth_apop(std::string_view user, std::string_view password);
  Status auth_plain(std::string_view user, std::string_view password);
  // Ends the session after a connection or protocol error and returns `error` prefixed.
  Error broken(std::string_view name, const Error& error);

  std::unique_ptr<net::Connection> connection_;
  ConnectOptions options_;
  std::string endpoint_;  // "host:port" for messages
  State state_ = State::kAuthorization;
  std::string greeting_;
  std::optional<std::string> apop_timestamp_;
  Capabilities capabilities_;
};

}  // namespace mailvault::ingest::pop3
