#include "server-imap/session/server.h"

#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <list>
#include <mutex>
#include <thread>
#include <vector>

#include <asio.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace mailvault::imapd {

namespace {

struct HostPort {
  std::string host;
  std::string port;
};

std::optional<HostPort> split_listen(std::string_view listen) {
  if (!listen.empty() && listen.front() == '[') {
    const auto close = listen.find(']');
    if (close == std::string_view::npos || close + 1 >= listen.size() || listen[close + 1] != ':')
      return std::nullopt;
    return HostPort{std::string{listen.substr(1, close - 1)},
                    std::string{listen.substr(close + 2)}};
  }
  const auto colon = listen.rfind(':');
  if (colon == std::string_view::npos)
    return std::nullopt;
  return HostPort{std::string{listen.substr(0, colon)}, std::string{listen.substr(colon + 1)}};
}

std::string format_endpoint(const asio::ip::tcp::endpoint& ep) {
  const auto addr = ep.address();
  return addr.is_v6() ? fmt::format("[{}]:{}", addr.to_string(), ep.port())
                      : fmt::format("{}:{}", addr.to_string(), ep.port());
}

Result<asio::ip::tcp::endpoint> parse_endpoint(const std::string& listen) {
  auto hp = split_listen(listen);
  if (!hp)
    return make_error(Code::kInvalidArgument,
                      fmt::format("IMAP listen address '{}' is not host:port", listen));
  asio::error_code ec;
  const auto addr = asio::ip::make_address(hp->host, ec);
  if (ec)
    return make_error(Code::kInvalidArgument,
                      fmt::format("IMAP listen address '{}': {}", listen, ec.message()));
  unsigned long port = 0;
  try {
    std::size_t used = 0;
    port = std::stoul(hp->port, &used);
    if (used != hp->port.size() || port > 65535)
      throw std::out_of_range("port");
  } catch (const std::exception&) {
    return make_error(Code::kInvalidArgument,
                      fmt::format("IMAP listen address '{}': bad port", listen));
  }
  return asio::ip::tcp::endpoint(addr, static_cast<unsigned short>(port));
}

}  // namespace

std::optional<PlaintextAuth> parse_plaintext_auth(std::string_view text) {
  if (text == "auto")
    return PlaintextAuth::kAuto;
  if (text == "loopback")
    return PlaintextAuth::kLoopback;
  if (text == "never")
    return PlaintextAuth::kNever;
  return std::nullopt;
}

bool is_loopback_listen(std::string_view listen) {
  auto hp = split_listen(listen);
  if (!hp)
    return false;
  asio::error_code ec;
  const auto addr = asio::ip::make_address(hp->host, ec);
  return !ec && addr.is_loopback();
}

namespace {

LoginLimits login_limits(const ServerOptions& o) {
  LoginLimits l = o.login;
  l.base_delay = o.failed_login_delay;
  return l;
}

bool plaintext_rule(const ServerOptions& o) {
  switch (o.plaintext_auth) {
    case PlaintextAuth::kAuto:
      return is_loopback_listen(o.listen);
    case PlaintextAuth::kLoopback:
      return true;
    case PlaintextAuth::kNever:
      break;
  }
  return false;
}

}  // namespace

struct Server::Impl {
  struct Connection {
    std::thread thread;
    std::atomic<bool> done{false};
  };

  struct Listener {
    explicit Listener(asio::io_context& io, bool tls) : acceptor(io), implicit_tls(tls) {}

    asio::ip::tcp::acceptor acceptor;
    bool implicit_tls;
    std::string address;
  };

  Impl(const ServerOptions& o, SessionBackend& b)
      : options(o), backend(b), guard(login_limits(o)), plaintext_allowed(plaintext_rule(o)) {}

  ServerOptions options;
  SessionBackend& backend;
  LoginGuard guard;
  asio::io_context io;
  std::vector<std::unique_ptr<Listener>> listeners;  // [0] plain, [1] imaps if any
  bool plaintext_allowed;
  std::atomic<bool> stop{false};
  std::thread accept_thread;
  std::mutex mu;
  std::list<Connection> connections;  // guarded by mu
  std::atomic<std::size_t> active{0};

  Status bind(const std::string& listen, bool implicit_tls) {
    auto ep = parse_endpoint(listen);
    if (!ep)
      return ep.error();
    auto l = std::make_unique<Listener>(io, implicit_tls);
    asio::error_code ec;
    l->acceptor.open(ep->protocol(), ec);
    if (!ec)
      l->acceptor.set_option(asio::ip::tcp::acceptor::reuse_address(true), ec);
    if (!ec)
      l->acceptor.bind(*ep, ec);
    if (!ec)
      l->acceptor.listen(asio::socket_base::max_listen_connections, ec);
    if (!ec)
      l->acceptor.non_blocking(true, ec);
    if (ec) {
      return make_error(Code::kUnavailable,
                        fmt::format("cannot listen on {} for IMAP{}: {}", listen,
                                    implicit_tls ? "S" : "", ec.message()));
    }
    l->address = format_endpoint(l->acceptor.local_endpoint());
    listeners.push_back(std::move(l));
    return {};
  }

  void reap() {
    std::lock_guard lock(mu);
    for (auto it = connections.begin(); it != connections.end();) {
      if (it->done.load()) {
        it->thread.join();
        it = connections.erase(it);
      } else {
        ++it;
      }
    }
  }

  void accept_loop() {
    std::vector<pollfd> fds;
    for (const auto& l : listeners)
      fds.push_back(pollfd{l->acceptor.native_handle(), POLLIN, 0});
    while (!stop.load()) {
      reap();
      for (auto& p : fds)
        p.revents = 0;
      const int n = ::poll(fds.data(), fds.size(), static_cast<int>(kPollSlice.count()));
      if (n <= 0)
        continue;
      for (std::size_t i = 0; i < fds.size(); ++i) {
        if ((fds[i].revents & POLLIN) != 0)
          accept_one(*listeners[i]);
      }
    }
  }

  void accept_one(Listener& l) {
    asio::error_code ec;
    asio::ip::tcp::socket socket(io);
    l.acceptor.accept(socket, ec);
    if (ec) {
      if (ec != asio::error::would_block && ec != asio::error::try_again)
        spdlog::warn("imap: accept failed: {}", ec.message());
      return;
    }
    // Responses go out as several small writes (untagged lines, then the tagged one): without
    // TCP_NODELAY, Nagle's algorithm and the client's delayed ACK add ~40 ms to each command.
    socket.set_option(asio::ip::tcp::no_delay(true), ec);
    if (active.load() >= options.max_connections) {
      // In the clear even on the imaps port: a TLS client sees a failed handshake, which is
      // what "no service" looks like there.
      static constexpr std::string_view kBye = "* BYE too many connections, try later\r\n";
      (void)::send(socket.native_handle(), kBye.data(), kBye.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
      spdlog::warn("imap: connection refused: {} connections open", active.load());
      return;  // the socket closes here
    }
    ++active;
    std::lock_guard lock(mu);
    auto& conn = connections.emplace_back();
    conn.thread = std::thread([this, s = std::move(socket), &conn, tls = l.implicit_tls]() mutable {
      // OpenSSL writes to the socket with plain write(): a peer that is gone must give EPIPE,
      // not a SIGPIPE that kills the process. Blocked in this thread only, it stays pending
      // here and is never delivered.
      sigset_t pipe;
      sigemptyset(&pipe);
      sigaddset(&pipe, SIGPIPE);
      pthread_sigmask(SIG_BLOCK, &pipe, nullptr);
      serve(std::move(s), tls);
      --active;
      conn.done = true;
    });
  }

  // Sleeps for d unless the server stops first (then false).
  bool pause(std::chrono::milliseconds d) const {
    const auto until = Clock::now() + d;
    while (!stop.load()) {
      const auto now = Clock::now();
      if (now >= until)
        return true;
      std::this_thread::sleep_for(std::min<Clock::duration>(until - now, kPollSlice));
    }
    return false;
  }

  SessionOptions session_options(const asio::ip::tcp::socket& socket, bool tls_now) {
    asio::error_code ec;
    const auto local = socket.local_endpoint(ec);
    const bool loopback = !ec && local.address().is_loopback();
    const auto peer = socket.remote_endpoint(ec);
    SessionOptions so;
    so.allow_plaintext = plaintext_allowed && loopback;
    so.tls_available = options.tls != nullptr;
    so.tls_active = tls_now;
    so.failed_login_delay = options.failed_login_delay;
    so.guard = &guard;
    so.client_address = ec ? std::string{"unknown"} : peer.address().to_string();
    so.pause = [this](std::chrono::milliseconds d) {
      return pause(d);
    };
    so.limits = options.limits;
    so.store_ok = options.store_ok;
    so.fetch_threads = options.fetch_threads;
    return so;
  }

  // The TLS handshake of a new imaps connection or after STARTTLS; false: drop the connection.
  bool handshake(Stream& stream, const std::string& peer) {
    const auto limit = std::min(options.tls_handshake_timeout, options.idle_timeout);
    const auto st = stream.start_tls(*options.tls, Clock::now() + limit);
    if (!st) {
      spdlog::debug("imap: TLS with {} failed: {}", peer, st.error().message);
      return false;
    }
    spdlog::debug("imap: TLS with {}: {}", peer, stream.tls_description());
    return true;
  }

  void serve(asio::ip::tcp::socket socket, bool implicit_tls) {
    asio::error_code ec;
    socket.non_blocking(true, ec);
    Stream stream(socket.native_handle(), stop);
    SessionOptions so = session_options(socket, implicit_tls);
    const std::string peer = so.client_address;
    if (!implicit_tls || handshake(stream, peer))
      run_session(stream, std::move(so));
    stream.close_tls();
    socket.shutdown(asio::ip::tcp::socket::shutdown_both, ec);
    socket.close(ec);
  }

  void run_session(Stream& stream, SessionOptions so) {
    const std::string peer = so.client_address;
    Session session(backend, std::move(so), [this, &stream](std::string_view bytes) {
      return stream.write_all(bytes, Clock::now() + options.idle_timeout);
    });
    session.start();
    std::array<char, 64 * 1024> buf{};
    auto last_input = Clock::now();
    auto next_poll = Clock::time_point::max();
    for (;;) {
      if (session.tls_requested()) {
        if (!handshake(stream, peer))
          return;
        session.on_tls_started();
        last_input = Clock::now();
      }
      const auto idle_deadline = last_input + options.idle_timeout;
      if (!session.idling())
        next_poll = Clock::time_point::max();
      else if (next_poll == Clock::time_point::max())
        next_poll = Clock::now() + options.idle_poll_interval;
      const auto r = stream.read(buf, std::min(idle_deadline, next_poll));
      switch (r.status) {
        case Stream::ReadStatus::kStopped:
          session.on_shutdown();
          return;
        case Stream::ReadStatus::kClosed:
          return;  // peer closed or reset, or a broken TLS stream
        case Stream::ReadStatus::kTimeout:
          if (Clock::now() >= idle_deadline) {
            session.on_idle_timeout();
            return;
          }
          if (Clock::now() >= next_poll) {
            session.on_idle_poll();
            next_poll = Clock::now() + options.idle_poll_interval;
          }
          continue;
        case Stream::ReadStatus::kData:
          break;
      }
      last_input = Clock::now();
      if (!session.on_input(std::string_view(buf.data(), r.bytes)))
        return;
    }
  }
};

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Server::~Server() {
  shutdown();
}

Result<std::unique_ptr<Server>> Server::start(const ServerOptions& options,
                                              SessionBackend& backend) {
  if (!options.tls_listen.empty() && !options.tls) {
    return make_error(
        Code::kInvalidArgument,
        fmt::format("IMAPS listen address {} given without a TLS certificate", options.tls_listen));
  }
  auto impl = std::make_unique<Impl>(options, backend);
  if (auto st = impl->bind(options.listen, false); !st)
    return st.error();
  if (!options.tls_listen.empty()) {
    if (auto st = impl->bind(options.tls_listen, true); !st)
      return st.error();
  }
  auto* raw = impl.get();
  impl->accept_thread = std::thread([raw] { raw->accept_loop(); });
  spdlog::info(
      "imap: listening on {}{}{} (max {} connections, {} per user; plaintext login {})",
      impl->listeners[0]->address, options.tls ? " with STARTTLS" : "",
      impl->listeners.size() > 1 ? fmt::format(", imaps on {}", impl->listeners[1]->address) : "",
      options.max_connections, options.login.max_connections_per_user,
      impl->plaintext_allowed ? "on loopback" : "disabled");
  return std::unique_ptr<Server>(new Server(std::move(impl)));
}

std::string Server::address() const {
  return impl_->listeners[0]->address;
}

std::string Server::tls_address() const {
  return impl_->listeners.size() > 1 ? impl_->listeners[1]->address : std::string{};
}

void Server::shutdown() {
  if (!impl_ || impl_->stop.exchange(true))
    return;
  if (impl_->accept_thread.joinable())
    impl_->accept_thread.join();
  asio::error_code ec;
  for (auto& l : impl_->listeners)
    l->acceptor.close(ec);
  std::lock_guard lock(impl_->mu);
  for (auto& c : impl_->connections) {
    if (c.thread.joinable())
      c.thread.join();
  }
  impl_->connections.clear();
}

}  // namespace mailvault::imapd
