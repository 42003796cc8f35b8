// Connection over asio + OpenSSL. Every operation is an asio async operation driven by
// io_context::run_for on the calling thread: the op either completes within its timeout or the
// socket is closed, which completes the op with operation_aborted, and the connection is broken
// from then on. A protocol stream cut in the middle of an operation cannot be resumed anyway.
#include "ingest/net/connection.h"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <exception>
#include <optional>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include <asio.hpp>
#include <asio/ssl.hpp>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

namespace mailvault::ingest::net {
namespace {

using asio::ip::tcp;
using Clock = std::chrono::steady_clock;

// Reads ask the socket for this much at a time: one syscall (and one TLS record batch) brings
// in many POP3/IMAP lines.
constexpr std::size_t kReadChunk = std::size_t{64} * 1024;
// A buffer grown for one huge line is given back when it empties.
constexpr std::size_t kKeepBuffer = 4 * kReadChunk;

// OpenSSL objects we allocate ourselves (asio owns the SSL_CTX and the SSL).
template <auto Free>
struct OpenSslDeleter {
  template <typename T>
  void operator()(T* p) const noexcept {
    Free(p);
  }
};

using GeneralNamesPtr = std::unique_ptr<GENERAL_NAMES, OpenSslDeleter<GENERAL_NAMES_free>>;

std::string format_endpoint(const std::string& host, std::uint16_t port) {
  if (host.find(':') != std::string::npos) {
    return "[" + host + "]:" + std::to_string(port);
  }
  return host + ":" + std::to_string(port);
}

bool is_ip_literal(const std::string& host) {
  std::error_code ec;
  (void)asio::ip::make_address(host, ec);
  return !ec;
}

std::string asn1_string_text(const ASN1_STRING* s) {
  return {reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
          static_cast<std::size_t>(ASN1_STRING_length(s))};
}

// "DNS:a.example, IP:127.0.0.1" from the certificate's subjectAltName, for mismatch errors.
std::string subject_alt_names(X509* cert) {
  GeneralNamesPtr names(
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr)));
  if (!names) {
    return {};
  }
  std::string out;
  for (int i = 0; i < sk_GENERAL_NAME_num(names.get()); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(names.get(), i);
    std::string item;
    if (name->type == GEN_DNS) {
      item = "DNS:" + asn1_string_text(name->d.dNSName);
    } else if (name->type == GEN_IPADD) {
      const ASN1_OCTET_STRING* ip = name->d.iPAddress;
      std::error_code ec;
      if (ip->length == 4) {
        asio::ip::address_v4::bytes_type b{};
        std::memcpy(b.data(), ip->data, 4);
        item = "IP:" + asio::ip::address_v4(b).to_string();
      } else if (ip->length == 16) {
        asio::ip::address_v6::bytes_type b{};
        std::memcpy(b.data(), ip->data, 16);
        item = "IP:" + asio::ip::address_v6(b).to_string();
      }
    }
    if (!item.empty()) {
      out += out.empty() ? "" : ", ";
      out += item;
    }
  }
  return out;
}

// What the verify callback saw first: OpenSSL's verdict plus, for a name mismatch, the names
// the certificate does carry.
struct VerifyFailure {
  int error = X509_V_OK;
  int depth = 0;
  std::string cert_names;
};

class AsioConnection final : public Connection {
 public:
  explicit AsioConnection(const ConnectOptions& options)
      : options_(options),
        endpoint_(format_endpoint(options.host, options.port)),
        socket_(io_),
        owner_(std::this_thread::get_id()) {}

  AsioConnection(const AsioConnection&) = delete;
  AsioConnection& operator=(const AsioConnection&) = delete;
  AsioConnection(AsioConnection&&) = delete;
  AsioConnection& operator=(AsioConnection&&) = delete;

  ~AsioConnection() override {
    std::error_code ignored;
    socket_.close(ignored);
  }

  Status connect();
  Result<std::string> read_line(std::size_t max_bytes) override;
  Status read_lines(const LineSink& on_line, std::size_t max_bytes) override;
  Status read_exact(std::size_t n, std::string& out) override;
  Status write_all(std::string_view bytes) override;
  Result<bool> wait_readable(std::chrono::milliseconds timeout) override;
  Status start_tls() override;

  [[nodiscard]] bool tls_active() const override { return ssl_ != nullptr; }

  [[nodiscard]] std::uint64_t bytes_read() const override {
    return bytes_read_.load(std::memory_order_relaxed);
  }

  void close() noexcept override;

 private:
  using SslStream = asio::ssl::stream<tcp::socket&>;

  // Runs `initiate(handler)` (which starts one async op) until the handler ran or `timeout`
  // passed; on timeout the socket is closed and `timed_out` set.
  template <typename Initiate>
  std::error_code run(Initiate&& initiate, std::chrono::milliseconds timeout,
                      std::size_t* transferred, bool& timed_out);

  // Entry check of every operation: closed, broken, and who the owner thread is now.
  Status usable();
  Status fail(Error error);
  Error io_error(const std::error_code& ec, bool timed_out, const char* what) const;

  Status handshake(std::chrono::milliseconds timeout);
  Error handshake_error(const std::error_code& ec) const;

  Result<std::size_t> read_some(char* data, std::size_t size, const char* what);
  // Whether TLS holds a record the socket will not announce again: asio's engine may already
  // have taken several records off the socket into OpenSSL's input BIO, where SSL_pending()
  // does not see them. SSL_peek() processes one without consuming its data and never touches
  // the socket (asio feeds the BIO). An error or close_notify also counts: the read reports it.
  bool tls_has_record();
  // Reads at least one byte into the buffer.
  Status fill(const char* what);
  void close_now() noexcept;

  ConnectOptions options_;
  std::string endpoint_;  // "host:port" for messages
  // Destruction order matters: the stream refers to the socket, which refers to io_.
  asio::io_context io_;
  tcp::socket socket_;
  std::unique_ptr<asio::ssl::context> ssl_ctx_;
  std::unique_ptr<SslStream> ssl_;
  VerifyFailure verify_failure_;

  std::vector<char> buf_;
  std::size_t begin_ = 0;  // unread bytes are buf_[begin_, end_)
  std::size_t end_ = 0;

  std::atomic<std::uint64_t> bytes_read_{0};
  std::atomic<bool> closed_{false};
  std::atomic<std::thread::id> owner_;
  std::optional<Error> broken_;  // the error that made the stream unusable
};

template <typename Initiate>
std::error_code AsioConnection::run(Initiate&& initiate, std::chrono::milliseconds timeout,
                                    std::size_t* transferred, bool& timed_out) {
  std::optional<std::error_code> result;
  std::size_t n = 0;
  initiate([&result, &n](const std::error_code& ec, std::size_t bytes) {
    result = ec;
    n = bytes;
  });
  io_.restart();
  io_.run_for(timeout);
  timed_out = false;
  if (!result) {
    timed_out = true;
    close_now();
    io_.restart();
    io_.run();  // the op completes with operation_aborted now that the socket is closed
  }
  if (transferred != nullptr) {
    *transferred = n;
  }
  return result.value_or(asio::error::operation_aborted);
}

Status AsioConnection::usable() {
  owner_.store(std::this_thread::get_id(), std::memory_order_relaxed);
  if (closed_.load()) {
    io_.restart();
    io_.poll();  // a close() posted from another thread
    return make_error(Code::kCancelled, "connection to " + endpoint_ + " was closed");
  }
  if (broken_) {
    return make_error(broken_->code,
                      "connection to " + endpoint_ + " is unusable after: " + broken_->message);
  }
  return ok_status();
}

Status AsioConnection::fail(Error error) {
  if (!broken_) {
    broken_ = error;
  }
  close_now();
  return error;
}

Error AsioConnection::io_error(const std::error_code& ec, bool timed_out, const char* what) const {
  const auto ms = std::to_string(options_.io_timeout.count());
  if (timed_out) {
    return make_error(Code::kDeadlineExceeded,
                      std::string(what) + " " + endpoint_ + " timed out after " + ms + " ms");
  }
  if (closed_.load()) {
    return make_error(Code::kCancelled,
                      std::string(what) + " " + endpoint_ + " aborted: the connection was closed");
  }
  if (ec == asio::error::eof || ec == asio::ssl::error::stream_truncated) {
    return make_error(Code::kUnavailable,
                      std::string(what) + " " + endpoint_ + " failed: connection closed by peer");
  }
  return make_error(Code::kUnavailable,
                    std::string(what) + " " + endpoint_ + " failed: " + ec.message());
}

void AsioConnection::close_now() noexcept {
  std::error_code ignored;
  socket_.shutdown(tcp::socket::shutdown_both, ignored);
  socket_.close(ignored);
}

void AsioConnection::close() noexcept {
  closed_.store(true);
  if (owner_.load(std::memory_order_relaxed) == std::this_thread::get_id()) {
    close_now();
    return;
  }
  try {
    // Runs inside the owner's run_for (or at its next operation): asio sockets are not safe
    // to close concurrently with an operation on them.
    asio::post(io_, [this] { close_now(); });
  } catch (
      ...) {  // NOLINT(bugprone-empty-catch): allocation failure; closed_ still stops the owner
  }
}

Status AsioConnection::connect() {
  if (options_.host.empty() || options_.port == 0) {
    return make_error(Code::kInvalidArgument,
                      "connect: host and port are required (got '" + endpoint_ + "')");
  }
  const auto deadline = Clock::now() + options_.connect_timeout;
  auto remaining = [deadline] {
    return std::max(std::chrono::milliseconds(1),
                    std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()));
  };

  tcp::resolver resolver(io_);
  tcp::resolver::results_type endpoints;
  bool timed_out = false;
  const auto flags =
      is_ip_literal(options_.host) ? tcp::resolver::numeric_host : tcp::resolver::flags{};
  auto ec = run(
      [&](auto done) {
        resolver.async_resolve(
            options_.host, std::to_string(options_.port), flags | tcp::resolver::numeric_service,
            [&endpoints, done](const std::error_code& e, tcp::resolver::results_type r) {
              endpoints = std::move(r);
              done(e, 0);
            });
      },
      remaining(), nullptr, timed_out);
  if (timed_out) {
    resolver.cancel();
    return fail(make_error(Code::kDeadlineExceeded,
                           "resolving " + options_.host + " timed out after " +
                               std::to_string(options_.connect_timeout.count()) + " ms"));
  }
  if (ec) {
    return fail(make_error(Code::kUnavailable, "cannot resolve host '" + options_.host + "' (for " +
                                                   endpoint_ + "): " + ec.message()));
  }

  ec = run(
      [&](auto done) {
        asio::async_connect(socket_, endpoints,
                            [done](const std::error_code& e, const tcp::endpoint&) { done(e, 0); });
      },
      remaining(), nullptr, timed_out);
  if (timed_out) {
    return fail(make_error(Code::kDeadlineExceeded,
                           "connecting to " + endpoint_ + " timed out after " +
                               std::to_string(options_.connect_timeout.count()) + " ms"));
  }
  if (ec) {
    return fail(make_error(Code::kUnavailable, "cannot connect to " + endpoint_ + ": " +
                                                   (closed_.load() ? "cancelled" : ec.message())));
  }
  std::error_code ignored;
  socket_.set_option(tcp::no_delay(true), ignored);  // small commands, pipelined or not

  if (options_.tls == TlsMode::kImplicit) {
    return handshake(remaining());
  }
  return ok_status();
}

Status AsioConnection::handshake(std::chrono::milliseconds timeout) {
  ssl_ctx_ = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_client);
  SSL_CTX* ctx = ssl_ctx_->native_handle();
  if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1) {
    return fail(make_error(Code::kInternal,
                           "TLS setup for " + endpoint_ + ": cannot require TLS 1.2 or later"));
  }
  ssl_ctx_->set_options(asio::ssl::context::default_workarounds |
                        asio::ssl::context::no_compression);
  std::error_code ec;
  if (options_.verify_peer) {
    ssl_ctx_->set_verify_mode(asio::ssl::verify_peer, ec);
    if (options_.ca_file.empty()) {
      ssl_ctx_->set_default_verify_paths(ec);
    } else {
      ssl_ctx_->load_verify_file(options_.ca_file, ec);
    }
    if (ec) {
      return fail(make_error(Code::kFailedPrecondition,
                             "TLS setup for " + endpoint_ + ": cannot load CA certificates from " +
                                 (options_.ca_file.empty() ? std::string("the system store")
                                                           : "'" + options_.ca_file + "'") +
                                 ": " + ec.message()));
    }
  } else {
    ssl_ctx_->set_verify_mode(asio::ssl::verify_none, ec);
  }

  ssl_ = std::make_unique<SslStream>(socket_, *ssl_ctx_);
  SSL* ssl = ssl_->native_handle();
  const bool ip = is_ip_literal(options_.host);
  // SSL_set_tlsext_host_name is a macro with a C cast; this is what it expands to.
  if (!ip && SSL_ctrl(ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
                      options_.host.data()) != 1) {
    return fail(make_error(Code::kInvalidArgument,
                           "TLS setup for " + endpoint_ + ": cannot send SNI for this host name"));
  }
  if (options_.verify_peer) {
    X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
    X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    const int set = ip ? X509_VERIFY_PARAM_set1_ip_asc(param, options_.host.c_str())
                       : SSL_set1_host(ssl, options_.host.c_str());
    if (set != 1) {
      return fail(make_error(
          Code::kInvalidArgument,
          "TLS setup for " + endpoint_ + ": cannot verify against host '" + options_.host + "'"));
    }
    verify_failure_ = {};
    ssl_->set_verify_callback([this](bool preverified, asio::ssl::verify_context& vctx) {
      if (!preverified && verify_failure_.error == X509_V_OK) {
        X509_STORE_CTX* store = vctx.native_handle();
        verify_failure_.error = X509_STORE_CTX_get_error(store);
        verify_failure_.depth = X509_STORE_CTX_get_error_depth(store);
        if (X509* cert = X509_STORE_CTX_get_current_cert(store); cert != nullptr) {
          verify_failure_.cert_names = subject_alt_names(cert);
        }
      }
      return preverified;
    });
  }

  ERR_clear_error();
  bool timed_out = false;
  ec = run(
      [&](auto done) {
        ssl_->async_handshake(asio::ssl::stream_base::client,
                              [done](const std::error_code& e) { done(e, 0); });
      },
      timeout, nullptr, timed_out);
  if (timed_out) {
    return fail(make_error(Code::kDeadlineExceeded, "TLS handshake with " + endpoint_ +
                                                        " timed out after " +
                                                        std::to_string(timeout.count()) + " ms"));
  }
  if (ec) {
    return fail(handshake_error(ec));
  }
  return ok_status();
}

Error AsioConnection::handshake_error(const std::error_code& ec) const {
  if (closed_.load()) {
    return make_error(Code::kCancelled,
                      "TLS handshake with " + endpoint_ + " aborted: the connection was closed");
  }
  const long verify = SSL_get_verify_result(ssl_->native_handle());  // NOLINT(google-runtime-int)
  int error = verify_failure_.error != X509_V_OK ? verify_failure_.error : static_cast<int>(verify);
  if (options_.verify_peer && error != X509_V_OK) {
    std::string reason;
    if (error == X509_V_ERR_HOSTNAME_MISMATCH || error == X509_V_ERR_IP_ADDRESS_MISMATCH) {
      reason = "host name mismatch: certificate is not valid for '" + options_.host + "'";
      if (!verify_failure_.cert_names.empty()) {
        reason += " (it names " + verify_failure_.cert_names + ")";
      }
    } else {
      reason = X509_verify_cert_error_string(error);
      if (!options_.ca_file.empty()) {
        reason += " (trusted CAs from '" + options_.ca_file + "')";
      } else {
        reason += " (trusted CAs: the system store)";
      }
    }
    return make_error(Code::kFailedPrecondition,
                      "TLS certificate verification failed for " + endpoint_ + ": " + reason);
  }
  if (ec == asio::error::eof || ec == asio::ssl::error::stream_truncated) {
    return make_error(Code::kUnavailable,
                      "TLS handshake with " + endpoint_ + " failed: connection closed by peer");
  }
  return make_error(Code::kUnavailable,
                    "TLS handshake with " + endpoint_ + " failed: " + ec.message());
}

Status AsioConnection::start_tls() {
  if (auto st = usable(); !st) {
    return st;
  }
  if (ssl_) {
    return make_error(Code::kFailedPrecondition,
                      "start_tls on " + endpoint_ + ": TLS is already active");
  }
  // Anything the server sent after its go-ahead came in plaintext and could have been injected
  // by a man in the middle: drop it.
  begin_ = end_ = 0;
  return handshake(options_.io_timeout);
}

Result<std::size_t> AsioConnection::read_some(char* data, std::size_t size, const char* what) {
  bool timed_out = false;
  std::size_t n = 0;
  std::error_code ec;
  if (ssl_) {
    ec = run([&](auto done) { ssl_->async_read_some(asio::buffer(data, size), done); },
             options_.io_timeout, &n, timed_out);
  } else {
    ec = run([&](auto done) { socket_.async_read_some(asio::buffer(data, size), done); },
             options_.io_timeout, &n, timed_out);
  }
  bytes_read_.fetch_add(n, std::memory_order_relaxed);
  if (ec && n == 0) {
    auto st = fail(io_error(ec, timed_out, what));
    return st.error();
  }
  return n;
}

Status AsioConnection::fill(const char* what) {
  if (begin_ == end_) {
    begin_ = end_ = 0;
    if (buf_.size() > kKeepBuffer) {
      buf_.resize(kReadChunk);
      buf_.shrink_to_fit();
    }
  }
  if (buf_.size() - end_ < kReadChunk) {
    if (begin_ > 0) {
      std::memmove(buf_.data(), buf_.data() + begin_, end_ - begin_);
      end_ -= begin_;
      begin_ = 0;
    }
    if (buf_.size() - end_ < kReadChunk) {
      buf_.resize(end_ + kReadChunk);
    }
  }
  auto n = read_some(buf_.data() + end_, buf_.size() - end_, what);
  if (!n) {
    return n.error();
  }
  end_ += *n;
  return ok_status();
}

Result<std::string> AsioConnection::read_line(std::size_t max_bytes) {
  if (auto st = usable(); !st) {
    return st.error();
  }
  std::size_t scanned = 0;  // bytes after begin_ known to hold no LF
  while (true) {
    const char* start = buf_.data() + begin_;
    const std::size_t avail = end_ - begin_;
    const void* lf =
        avail > scanned ? std::memchr(start + scanned, '\n', avail - scanned) : nullptr;
    if (lf != nullptr) {
      const auto len = static_cast<std::size_t>(static_cast<const char*>(lf) - start);
      std::size_t content = len;
      if (content > 0 && start[content - 1] == '\r') {
        --content;
      }
      if (content > max_bytes) {
        return fail(make_error(Code::kResourceExhausted, "line from " + endpoint_ +
                                                             " is longer than " +
                                                             std::to_string(max_bytes) + " bytes"))
            .error();
      }
      std::string line(start, content);
      begin_ += len + 1;
      return line;
    }
    scanned = avail;
    // One byte of slack: a CR that may precede the LF still to come. (No max_bytes + 1: it
    // overflows for SIZE_MAX.)
    if (avail > max_bytes && avail - max_bytes > 1) {
      return fail(make_error(Code::kResourceExhausted, "line from " + endpoint_ +
                                                           " is longer than " +
                                                           std::to_string(max_bytes) + " bytes"))
          .error();
    }
    if (auto st = fill("reading a line from"); !st) {
      if (avail > 0 && st.error().code == Code::kUnavailable) {
        return make_error(Code::kUnavailable, st.error().message + " in the middle of a line (" +
                                                  std::to_string(avail) +
                                                  " bytes without a line ending)");
      }
      return st.error();
    }
  }
}

Status AsioConnection::read_lines(const LineSink& on_line, std::size_t max_bytes) {
  if (auto st = usable(); !st) {
    return st;
  }
  std::size_t scanned = 0;  // bytes after begin_ known to hold no LF
  while (true) {
    const char* start = buf_.data() + begin_;
    const std::size_t avail = end_ - begin_;
    const void* lf =
        avail > scanned ? std::memchr(start + scanned, '\n', avail - scanned) : nullptr;
    if (lf != nullptr) {
      const auto len = static_cast<std::size_t>(static_cast<const char*>(lf) - start);
      std::size_t content = len;
      if (content > 0 && start[content - 1] == '\r') {
        --content;
      }
      if (content > max_bytes) {
        return fail(make_error(
            Code::kResourceExhausted,
            "line from " + endpoint_ + " is longer than " + std::to_string(max_bytes) + " bytes"));
      }
      begin_ += len + 1;
      scanned = 0;
      // The view stays valid during the call: nothing touches buf_ until it returns.
      if (on_line(std::string_view(start, content))) {
        return ok_status();
      }
      continue;
    }
    scanned = avail;
    if (avail > max_bytes && avail - max_bytes > 1) {
      return fail(make_error(
          Code::kResourceExhausted,
          "line from " + endpoint_ + " is longer than " + std::to_string(max_bytes) + " bytes"));
    }
    if (auto st = fill("reading a line from"); !st) {
      if (avail > 0 && st.error().code == Code::kUnavailable) {
        return make_error(Code::kUnavailable, st.error().message + " in the middle of a line (" +
                                                  std::to_string(avail) +
                                                  " bytes without a line ending)");
      }
      return st;
    }
  }
}

Status AsioConnection::read_exact(std::size_t n, std::string& out) {
  if (auto st = usable(); !st) {
    return st;
  }
  const std::size_t buffered = std::min(n, end_ - begin_);
  out.append(buf_.data() + begin_, buffered);
  begin_ += buffered;
  std::size_t remaining = n - buffered;
  if (remaining >= kReadChunk) {
    // Large literal: read straight into the caller's string, no second copy.
    std::size_t done = out.size();
    out.resize(done + remaining);
    while (remaining > 0) {
      auto got = read_some(out.data() + done, remaining, "reading from");
      if (!got) {
        out.resize(done);
        return got.error();
      }
      done += *got;
      remaining -= *got;
    }
    return ok_status();
  }
  while (remaining > 0) {
    if (auto st = fill("reading from"); !st) {
      return st;
    }
    const std::size_t take = std::min(remaining, end_ - begin_);
    out.append(buf_.data() + begin_, take);
    begin_ += take;
    remaining -= take;
  }
  return ok_status();
}

Status AsioConnection::write_all(std::string_view bytes) {
  if (auto st = usable(); !st) {
    return st;
  }
  bool timed_out = false;
  std::error_code ec;
  const auto buffer = asio::buffer(bytes.data(), bytes.size());
  // One timeout for the whole write: commands are small, and a literal the server does not
  // take within io_timeout means a dead peer as surely as a silent read does.
  if (ssl_) {
    ec = run([&](auto done) { asio::async_write(*ssl_, buffer, done); }, options_.io_timeout,
             nullptr, timed_out);
  } else {
    ec = run([&](auto done) { asio::async_write(socket_, buffer, done); }, options_.io_timeout,
             nullptr, timed_out);
  }
  if (ec) {
    return fail(io_error(ec, timed_out, "writing to"));
  }
  return ok_status();
}

bool AsioConnection::tls_has_record() {
  SSL* ssl = ssl_->native_handle();
  if (SSL_pending(ssl) > 0) {
    return true;
  }
  char byte = 0;
  ERR_clear_error();
  const int n = SSL_peek(ssl, &byte, 1);
  const int error = n > 0 ? SSL_ERROR_NONE : SSL_get_error(ssl, n);
  ERR_clear_error();
  return error != SSL_ERROR_WANT_READ;
}

Result<bool> AsioConnection::wait_readable(std::chrono::milliseconds timeout) {
  if (auto st = usable(); !st) {
    return st.error();
  }
  if (begin_ < end_ || (ssl_ && tls_has_record())) {
    return true;
  }
  // Not run(): its timeout closes the socket, and here running out of time is an answer.
  std::optional<std::error_code> result;
  socket_.async_wait(tcp::socket::wait_read, [&result](const std::error_code& ec) { result = ec; });
  io_.restart();
  io_.run_for(timeout);
  const bool timed_out = !result;
  if (timed_out) {
    std::error_code ignored;
    socket_.cancel(ignored);
    io_.restart();
    io_.run();  // the wait completes with operation_aborted; the socket stays open
  }
  if (closed_.load()) {
    return make_error(Code::kCancelled, "connection to " + endpoint_ + " was closed");
  }
  if (timed_out) {
    return false;
  }
  if (*result) {
    return fail(io_error(*result, false, "waiting for data from")).error();
  }
  return true;
}

}  // namespace

Status Connection::read_lines(const LineSink& on_line, std::size_t max_bytes) {
  while (true) {
    auto line = read_line(max_bytes);
    if (!line) {
      return line.error();
    }
    if (on_line(*line)) {
      return ok_status();
    }
  }
}

Result<std::unique_ptr<Connection>> Connection::open(const ConnectOptions& options) {
  try {
    auto connection = std::make_unique<AsioConnection>(options);
    if (auto st = connection->connect(); !st) {
      return st.error();
    }
    return std::unique_ptr<Connection>(std::move(connection));
  } catch (const std::exception& e) {
    return make_error(Code::kInternal, "connect to " + format_endpoint(options.host, options.port) +
                                           ": " + e.what());
  }
}

}  // namespace mailvault::ingest::net
