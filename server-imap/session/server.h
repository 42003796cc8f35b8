// The IMAP listener: accepts TCP connections on one plain-text address and runs a Session on
// each.
//
// Threading (this slice): one acceptor thread (asio acceptor, polled so that shutdown needs no
// cross-thread socket close), and one thread per connection, bounded by max_connections — a
// connection over the limit gets "* BYE too many connections" and is closed at once. Each
// connection thread does blocking database and blob reads between socket I/O, which is what a
// thread per session makes simple; an executor-based design (asio strands for I/O, a bounded
// pool for backend work) replaces it when connection counts grow beyond a few hundred.
//
// Timeouts: a connection that sends nothing for idle_timeout gets "* BYE Autologout" and is
// closed; a client that does not read its responses for idle_timeout is dropped. Shutdown says
// "* BYE" to every session within about half a second and joins all threads.
//
// No TLS yet: LOGIN and AUTHENTICATE PLAIN are allowed only when allow_plaintext_on_loopback is
// true and the connection arrived on a loopback address; otherwise the capability list says
// LOGINDISABLED and both answer NO [PRIVACYREQUIRED].
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
#include "server-imap/protocol/limits.h"
#include "server-imap/session/session.h"

namespace mailvault::imapd {

struct ServerOptions {
  std::string listen = "127.0.0.1:1143";  // host:port or [v6]:port; port 0 picks a free one
  std::size_t max_connections = 200;
  std::chrono::milliseconds idle_timeout{std::chrono::minutes{30}};
  std::chrono::milliseconds failed_login_delay{2000};
  // nullopt: true exactly when `listen` is a loopback address (127.0.0.0/8 or ::1).
  std::optional<bool> allow_plaintext_on_loopback;
  bool store_ok = false;  // SessionOptions::store_ok
  Limits limits;
};

// true for 127.0.0.0/8, ::1 and "localhost"-free literal addresses only. Pure.
bool is_loopback_listen(std::string_view listen);

class Server {
 public:
  // Binds and starts accepting. kInvalidArgument for a malformed address, kUnavailable when it
  // cannot be bound. The backend must outlive the server.
  static Result<std::unique_ptr<Server>> start(const ServerOptions& options,
                                               SessionBackend& backend);

  // The bound address, "127.0.0.1:43121" (the actual port when 0 was asked for).
  [[nodiscard]] std::string address() const;

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
