// Test helpers for the net layer: a throwaway PKI made with the `openssl` command, and a
// one-connection scripted TCP/TLS server on 127.0.0.1 running in a thread.
#pragma once

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>

#include <asio.hpp>
#include <asio/ssl.hpp>

namespace mailvault::ingest::net::testing {

// A fresh directory under /tmp, removed with everything in it at destruction.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "mv-net-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) {
      throw std::runtime_error("mkdtemp failed");
    }
    path_ = tmpl;
  }

  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  TempDir(TempDir&&) = delete;
  TempDir& operator=(TempDir&&) = delete;

  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }

  [[nodiscard]] const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

inline void run_shell(const std::string& command) {
  if (std::system(command.c_str()) != 0) {  // NOLINT(cert-env33-c): test fixture only
    throw std::runtime_error("command failed: " + command);
  }
}

// A test CA and server certificates signed by it (EC P-256, valid for 2 days).
class TestPki {
 public:
  TestPki() {
    const std::string d = dir_.path().string();
    run_shell("cd '" + d +
              "' && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
              "-keyout ca.key -out ca.pem -days 2 -subj '/CN=mailvault test CA' "
              "-addext basicConstraints=critical,CA:TRUE "
              "-addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null");
    make_server_cert("good", "IP:127.0.0.1,DNS:localhost");
    make_server_cert("wrong", "DNS:wrong.example");
    // Self-signed leaf, not from the CA.
    run_shell("cd '" + d +
              "' && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
              "-keyout self.key -out self.pem -days 2 -subj '/CN=localhost' "
              "-addext subjectAltName=IP:127.0.0.1,DNS:localhost 2>/dev/null");
  }

  [[nodiscard]] std::string ca_file() const { return (dir_.path() / "ca.pem").string(); }

  // "good" (127.0.0.1 + localhost), "wrong" (wrong.example), "self" (self-signed, 127.0.0.1).
  [[nodiscard]] std::string cert(const std::string& name) const {
    return (dir_.path() / (name + ".pem")).string();
  }

  [[nodiscard]] std::string key(const std::string& name) const {
    return (dir_.path() / (name + ".key")).string();
  }

  [[nodiscard]] const std::filesystem::path& dir() const { return dir_.path(); }

 private:
  void make_server_cert(const std::string& name, const std::string& san) {
    const std::string d = dir_.path().string();
    {
      std::ofstream ext(dir_.path() / (name + ".ext"));
      ext << "subjectAltName=" << san << "\nbasicConstraints=CA:FALSE\n"
          << "keyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n";
    }
    run_shell("cd '" + d + "' && openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 " +
              "-nodes -keyout " + name + ".key -out " + name + ".csr -subj '/CN=" + name +
              "' 2>/dev/null && openssl x509 -req -in " + name +
              ".csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -out " + name +
              ".pem -extfile " + name + ".ext 2>/dev/null");
  }

  TempDir dir_;
};

// Made once per test binary: key generation is the slow part.
inline const TestPki& test_pki() {
  static const TestPki pki;
  return pki;
}

// The server side of one accepted connection (synchronous asio; errors are exceptions).
class ServerSide {
 public:
  explicit ServerSide(asio::ip::tcp::socket& socket) : socket_(socket) {}

  void write(std::string_view bytes) {
    if (tls_) {
      asio::write(*tls_, asio::buffer(bytes.data(), bytes.size()));
    } else {
      asio::write(socket_, asio::buffer(bytes.data(), bytes.size()));
    }
  }

  // One line without CRLF.
  std::string read_line() {
    std::string line;
    char c = 0;
    while (true) {
      if (tls_) {
        asio::read(*tls_, asio::buffer(&c, 1));
      } else {
        asio::read(socket_, asio::buffer(&c, 1));
      }
      if (c == '\n') {
        break;
      }
      line += c;
    }
    if (!line.empty() && line.back() == '\r') {
      line.pop_back();
    }
    return line;
  }

  // Plaintext only: whether the client sent anything more within `timeout` (nothing is read).
  bool readable_within(std::chrono::milliseconds timeout) {
    pollfd p{};
    p.fd = socket_.native_handle();
    p.events = POLLIN;
    return ::poll(&p, 1, static_cast<int>(timeout.count())) > 0;
  }

  // Server handshake with the given certificate chain and key.
  void start_tls(const std::string& cert, const std::string& key) {
    ctx_ = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_server);
    ctx_->use_certificate_chain_file(cert);
    ctx_->use_private_key_file(key, asio::ssl::context::pem);
    tls_ = std::make_unique<asio::ssl::stream<asio::ip::tcp::socket&>>(socket_, *ctx_);
    tls_->handshake(asio::ssl::stream_base::server);
  }

  // Waits until the client closes (or sends anything), so that the test controls the end.
  void wait_for_close() {
    char c = 0;
    std::error_code ec;
    if (tls_) {
      tls_->read_some(asio::buffer(&c, 1), ec);
    } else {
      socket_.read_some(asio::buffer(&c, 1), ec);
    }
  }

  void close() {
    std::error_code ignored;
    socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
    socket_.close(ignored);
  }

 private:
  asio::ip::tcp::socket& socket_;
  std::unique_ptr<asio::ssl::context> ctx_;
  std::unique_ptr<asio::ssl::stream<asio::ip::tcp::socket&>> tls_;
};

// Listens on 127.0.0.1:<free port>, accepts one connection and runs `script` on it in a thread.
// Exceptions in the script (the client hung up, a handshake the client refused) are recorded,
// not rethrown. The destructor unblocks and joins the thread.
class ScriptedServer {
 public:
  explicit ScriptedServer(std::function<void(ServerSide&)> script)
      : acceptor_(io_, asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)),
        socket_(io_) {
    port_ = acceptor_.local_endpoint().port();
    thread_ = std::thread([this, script = std::move(script)] {
      try {
        acceptor_.accept(socket_);
        fd_.store(socket_.native_handle());
        if (stopping_.load()) {
          return;
        }
        ServerSide side(socket_);
        script(side);
      } catch (const std::exception& e) {
        error_ = e.what();
      }
    });
  }

  ScriptedServer(const ScriptedServer&) = delete;
  ScriptedServer& operator=(const ScriptedServer&) = delete;
  ScriptedServer(ScriptedServer&&) = delete;
  ScriptedServer& operator=(ScriptedServer&&) = delete;

  ~ScriptedServer() {
    stopping_.store(true);
    if (const int fd = fd_.load(); fd >= 0) {
      ::shutdown(fd, SHUT_RDWR);  // unblocks a script stuck in a read
    } else {
      // Unblock accept() with a connection of our own.
      try {
        asio::io_context io;
        asio::ip::tcp::socket s(io);
        s.connect(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), port_));
        if (thread_.joinable()) {
          thread_.join();
        }
        return;
      } catch (...) {  // NOLINT(bugprone-empty-catch)
      }
    }
    if (thread_.joinable()) {
      thread_.join();
    }
  }

  [[nodiscard]] std::uint16_t port() const { return port_; }

  // Waits for the script to finish; its exception text, or "".
  std::string join() {
    if (thread_.joinable()) {
      thread_.join();
    }
    return error_;
  }

 private:
  asio::io_context io_;
  asio::ip::tcp::acceptor acceptor_;
  asio::ip::tcp::socket socket_;
  std::uint16_t port_ = 0;
  std::atomic<int> fd_{-1};
  std::atomic<bool> stopping_{false};
  std::string error_;
  std::thread thread_;
};

}  // namespace mailvault::ingest::net::testing
