#include "server-imap/session/server.h"

#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <list>
#include <mutex>
#include <thread>

#include <asio.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace mailvault::imapd {

namespace {

using Clock = std::chrono::steady_clock;

// Sessions notice shutdown within this time (their poll() calls are sliced by it).
constexpr std::chrono::milliseconds kPollSlice{250};

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

// Waits for `events` on fd for at most `limit`, in slices so that `stop` is noticed.
// Returns the revents, 0 on timeout, or -1 when stopping.
int wait_fd(int fd, short events, Clock::time_point deadline, const std::atomic<bool>& stop) {
  for (;;) {
    if (stop.load())
      return -1;
    const auto now = Clock::now();
    if (now >= deadline)
      return 0;
    const auto slice = std::min<Clock::duration>(deadline - now, kPollSlice);
    pollfd p{fd, events, 0};
    const int n = ::poll(
        &p, 1,
        static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(slice).count()) + 1);
    if (n > 0)
      return p.revents;
    if (n < 0 && errno != EINTR)
      return POLLERR;
  }
}

}  // namespace

bool is_loopback_listen(std::string_view listen) {
  auto hp = split_listen(listen);
  if (!hp)
    return false;
  asio::error_code ec;
  const auto addr = asio::ip::make_address(hp->host, ec);
  return !ec && addr.is_loopback();
}

struct Server::Impl {
  struct Connection {
    std::thread thread;
    std::atomic<bool> done{false};
  };

  Impl(const ServerOptions& o, SessionBackend& b)
      : options(o),
        backend(b),
        acceptor(io),
        plaintext_allowed(o.allow_plaintext_on_loopback.value_or(is_loopback_listen(o.listen))) {}

  ServerOptions options;
  SessionBackend& backend;
  asio::io_context io;
  asio::ip::tcp::acceptor acceptor;
  bool plaintext_allowed;
  std::string address;
  std::atomic<bool> stop{false};
  std::thread accept_thread;
  std::mutex mu;
  std::list<Connection> connections;  // guarded by mu
  std::atomic<std::size_t> active{0};

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
    const int fd = acceptor.native_handle();
    while (!stop.load()) {
      reap();
      const int ev = wait_fd(fd, POLLIN, Clock::now() + std::chrono::seconds{1}, stop);
      if (ev <= 0)
        continue;
      asio::error_code ec;
      asio::ip::tcp::socket socket(io);
      acceptor.accept(socket, ec);
      if (ec) {
        if (ec != asio::error::would_block && ec != asio::error::try_again)
          spdlog::warn("imap: accept failed: {}", ec.message());
        continue;
      }
      // Responses go out as several small writes (untagged lines, then the tagged one): without
      // TCP_NODELAY, Nagle's algorithm and the client's delayed ACK add ~40 ms to each command.
      socket.set_option(asio::ip::tcp::no_delay(true), ec);
      if (active.load() >= options.max_connections) {
        static constexpr std::string_view kBye = "* BYE too many connections, try later\r\n";
        (void)::send(socket.native_handle(), kBye.data(), kBye.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
        spdlog::warn("imap: connection refused: {} connections open", active.load());
        continue;  // the socket closes here
      }
      ++active;
      std::lock_guard lock(mu);
      auto& conn = connections.emplace_back();
      conn.thread = std::thread([this, s = std::move(socket), &conn]() mutable {
        serve(std::move(s));
        --active;
        conn.done = true;
      });
    }
  }

  // Writes all of `bytes` or gives up (peer gone, not reading for idle_timeout, shutdown).
  bool write_all(int fd, std::string_view bytes) {
    const auto deadline = Clock::now() + options.idle_timeout;
    while (!bytes.empty()) {
      const auto n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n > 0) {
        bytes.remove_prefix(static_cast<std::size_t>(n));
        continue;
      }
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        const int ev = wait_fd(fd, POLLOUT, deadline, stop);
        if (ev <= 0 || (ev & (POLLERR | POLLHUP)) != 0)
          return false;
        continue;
      }
      return false;
    }
    return true;
  }

  void serve(asio::ip::tcp::socket socket) {
    asio::error_code ec;
    socket.non_blocking(true, ec);
    const int fd = socket.native_handle();
    const auto local = socket.local_endpoint(ec);
    const bool loopback = !ec && local.address().is_loopback();
    SessionOptions so;
    so.allow_plaintext = plaintext_allowed && loopback;
    so.failed_login_delay = options.failed_login_delay;
    so.store_ok = options.store_ok;
    so.limits = options.limits;
    Session session(backend, so,
                    [this, fd](std::string_view bytes) { return write_all(fd, bytes); });
    session.start();
    std::array<char, 64 * 1024> buf{};
    for (;;) {
      const int ev = wait_fd(fd, POLLIN, Clock::now() + options.idle_timeout, stop);
      if (ev < 0) {
        session.on_shutdown();
        break;
      }
      if (ev == 0) {
        session.on_idle_timeout();
        break;
      }
      const auto n = ::recv(fd, buf.data(), buf.size(), 0);
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        continue;
      if (n <= 0)
        break;  // peer closed or reset
      if (!session.on_input(std::string_view(buf.data(), static_cast<std::size_t>(n))))
        break;
    }
    socket.shutdown(asio::ip::tcp::socket::shutdown_both, ec);
    socket.close(ec);
  }
};

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Server::~Server() {
  shutdown();
}

Result<std::unique_ptr<Server>> Server::start(const ServerOptions& options,
                                              SessionBackend& backend) {
  auto hp = split_listen(options.listen);
  if (!hp)
    return make_error(Code::kInvalidArgument,
                      fmt::format("IMAP listen address '{}' is not host:port", options.listen));
  asio::error_code ec;
  const auto addr = asio::ip::make_address(hp->host, ec);
  if (ec)
    return make_error(Code::kInvalidArgument,
                      fmt::format("IMAP listen address '{}': {}", options.listen, ec.message()));
  unsigned long port = 0;
  try {
    std::size_t used = 0;
    port = std::stoul(hp->port, &used);
    if (used != hp->port.size() || port > 65535)
      throw std::out_of_range("port");
  } catch (const std::exception&) {
    return make_error(Code::kInvalidArgument,
                      fmt::format("IMAP listen address '{}': bad port", options.listen));
  }
  auto impl = std::make_unique<Impl>(options, backend);
  const asio::ip::tcp::endpoint ep(addr, static_cast<unsigned short>(port));
  impl->acceptor.open(ep.protocol(), ec);
  if (!ec)
    impl->acceptor.set_option(asio::ip::tcp::acceptor::reuse_address(true), ec);
  if (!ec)
    impl->acceptor.bind(ep, ec);
  if (!ec)
    impl->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (!ec)
    impl->acceptor.non_blocking(true, ec);
  if (ec)
    return make_error(Code::kUnavailable, fmt::format("cannot listen on {} for IMAP: {}",
                                                      options.listen, ec.message()));
  impl->address = format_endpoint(impl->acceptor.local_endpoint());
  auto* raw = impl.get();
  impl->accept_thread = std::thread([raw] { raw->accept_loop(); });
  spdlog::info("imap: listening on {} (max {} connections, plaintext login {})", impl->address,
               options.max_connections, impl->plaintext_allowed ? "on loopback" : "disabled");
  return std::unique_ptr<Server>(new Server(std::move(impl)));
}

std::string Server::address() const {
  return impl_->address;
}

void Server::shutdown() {
  if (!impl_ || impl_->stop.exchange(true))
    return;
  if (impl_->accept_thread.joinable())
    impl_->accept_thread.join();
  asio::error_code ec;
  impl_->acceptor.close(ec);
  std::lock_guard lock(impl_->mu);
  for (auto& c : impl_->connections) {
    if (c.thread.joinable())
      c.thread.join();
  }
  impl_->connections.clear();
}

}  // namespace mailvault::imapd
