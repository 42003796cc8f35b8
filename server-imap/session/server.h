// The IMAP listener: accepts TCP connections on a plain-text address (STARTTLS) and optionally
// on an implicit-TLS address (imaps), and runs a Session on each.
//
// Threading: one acceptor thread (asio acceptors, polled so that shutdown needs no cross-thread
// socket close), and one thread per connection, bounded by max_connections over both ports — a
// connection over the limit gets "* BYE too many connections" and is closed at once. Each
// connection thread does blocking database and blob reads between socket I/O, which is what a
// thread per session makes simple; an executor-based design (asio strands for I/O, a bounded
// pool for backend work) replaces it when connection counts grow beyond a few hundred.
//
// TLS (net/stream.h): with a TlsContext, the plain port offers STARTTLS and the imaps port (if
// `tls_listen` is set) starts with the handshake. A handshake must complete within
// tls_handshake_timeout (or idle_timeout if shorter); one that fails or stalls closes that
// connection only (its thread does the handshake). Without a TlsContext there is no STARTTLS and no
// imaps port.
//
// Plaintext logins: `plaintext_auth` decides whether LOGIN/AUTHENTICATE are allowed before TLS:
// kAuto on loopback connections when `listen` is a loopback address, kLoopback on any loopback
// connection, kNever never (the capability list then says LOGINDISABLED and both answer NO
// [PRIVACYREQUIRED] until STARTTLS). After TLS they are always allowed.
//
// Limits: a LoginGuard (login_guard.h) shared by all connections: logged-in connections per
// user (NO [LIMIT] beyond), and per client address a growing delay before login answers after
// repeated failures; a delay is waited out by that connection's thread only.
//
// Timeouts: a connection that sends nothing for idle_timeout gets "* BYE Autologout" and is
// closed (also while in IDLE, so IDLE lasts at most idle_timeout, 30 minutes by default, more
// than the 29 minutes RFC 2177 asks clients to re-IDLE after); a client that does not read its
// responses for idle_timeout is dropped. While a session idles, the server calls
// Session::on_idle_poll() every idle_poll_interval, which reports newly archived messages.
// Shutdown says "* BYE" to every session within about half a second and joins all threads.
//
// Thread safety: start/address/shutdown may be called from any thread; shutdown is idempotent
// and is also run by the destructor.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>

#include "core/base/result.h"
#include "server-imap/net/stream.h"
#include "server-imap/protocol/limits.h"
#include "server-imap/session/login_guard.h"
#include "server-imap/session/session.h"

namespace mailvault::imapd {

enum class PlaintextAuth : std::uint8_t { kAuto, kLoopback, kNever };

// "auto", "loopback", "never"; nullopt for anything else. Pure.
std::optional<PlaintextAuth> parse_plaintext_auth(std::string_view text);

struct ServerOptions {
  std::string listen = "127.0.0.1:1143";  // host:port or [v6]:port; port 0 picks a free one
  std::string tls_listen;                 // implicit TLS (imaps); empty: none. Needs `tls`.
  std::shared_ptr<const TlsContext> tls;  // nullptr: no STARTTLS, no imaps
  std::size_t max_connections = 200;
  std::chrono::milliseconds idle_timeout{std::chrono::minutes{30}};
  std::chrono::milliseconds idle_poll_interval{2000};
  std::chrono::milliseconds tls_handshake_timeout{30'000};
  std::chrono::milliseconds failed_login_delay{2000};
  PlaintextAuth plaintext_auth = PlaintextAuth::kAuto;
  LoginLimits login;              // login.base_delay is set from failed_login_delay
  bool store_ok = false;          // SessionOptions::store_ok
  std::size_t fetch_threads = 2;  // SessionOptions::fetch_threads
  Limits limits;
};

// true for 127.0.0.0/8, ::1 and "localhost"-free literal addresses only. Pure.
bool is_loopback_listen(std::string_view listen);

class Server {
 public:
  // Binds and starts accepting. kInvalidArgument for a malformed address (or tls_listen without
  // tls), kUnavailable when it cannot be bound. The backend must outlive the server.
  static Result<std::unique_ptr<Server>> start(const ServerOptions& options,
                                               SessionBackend& backend);

  // The bound address, "127.0.0.1:43121" (the actual port when 0 was asked for).
  [[nodiscard]] std::string address() const;

  // The bound imaps address, "" without one.
  [[nodiscard]] std::string tls_address() const;

  // Stops accepting, says BYE to every session and waits for their threads.
  void shutdown();

  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;
  Server(Server&&) = delete;
  Server& operator=(Server&&) = delete;

  struct Impl;

 private:
  explicit Server(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace mailvault::imapd
