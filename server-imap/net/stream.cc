#include "server-imap/net/stream.h"

#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>

#include <fmt/format.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

namespace mailvault::imapd {

namespace {

std::string openssl_reason() {
  const unsigned long code = ERR_get_error();  // NOLINT(google-runtime-int): OpenSSL's type
  ERR_clear_error();
  if (code == 0)
    return "connection closed during the handshake";
  const char* reason = ERR_reason_error_string(code);
  return reason != nullptr ? reason : fmt::format("OpenSSL error {:#x}", code);
}

struct BioFree {
  void operator()(BIO* b) const noexcept { BIO_free_all(b); }
};

struct X509Free {
  void operator()(X509* x) const noexcept { X509_free(x); }
};

struct KeyFree {
  void operator()(EVP_PKEY* k) const noexcept { EVP_PKEY_free(k); }
};

struct CtxFree {
  void operator()(SSL_CTX* c) const noexcept { SSL_CTX_free(c); }
};

using BioPtr = std::unique_ptr<BIO, BioFree>;

BioPtr memory_bio(std::string_view pem) {
  return BioPtr{BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()))};
}

// Loads the leaf, the rest of the chain and the key from PEM text into ctx.
Status load_pair(SSL_CTX* ctx, const crypto::KeyPairPem& pair, std::string_view cert_name) {
  auto certs = memory_bio(pair.certificate);
  std::unique_ptr<X509, X509Free> leaf{
      certs ? PEM_read_bio_X509(certs.get(), nullptr, nullptr, nullptr) : nullptr};
  if (!leaf || SSL_CTX_use_certificate(ctx, leaf.get()) != 1) {
    return make_error(Code::kInvalidArgument, fmt::format("{}: cannot use the certificate: {}",
                                                          cert_name, openssl_reason()));
  }
  while (X509* extra = PEM_read_bio_X509(certs.get(), nullptr, nullptr, nullptr)) {
    if (SSL_CTX_add0_chain_cert(ctx, extra) != 1) {  // takes ownership on success
      X509_free(extra);
      return make_error(
          Code::kInvalidArgument,
          fmt::format("{}: cannot use a chain certificate: {}", cert_name, openssl_reason()));
    }
  }
  ERR_clear_error();  // the loop ends on "no start line"
  auto key_bio = memory_bio(pair.private_key);
  std::unique_ptr<EVP_PKEY, KeyFree> key{
      key_bio ? PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr) : nullptr};
  if (!key || SSL_CTX_use_PrivateKey(ctx, key.get()) != 1 || SSL_CTX_check_private_key(ctx) != 1) {
    return make_error(Code::kInvalidArgument,
                      fmt::format("the private key does not fit the certificate {}: {}", cert_name,
                                  openssl_reason()));
  }
  return {};
}

}  // namespace

WaitResult wait_fd(int fd, short events, Clock::time_point deadline,
                   const std::atomic<bool>& stop) {
  for (;;) {
    if (stop.load())
      return WaitResult::kStopped;
    const auto now = Clock::now();
    if (now >= deadline)
      return WaitResult::kTimeout;
    const auto slice = std::min<Clock::duration>(deadline - now, kPollSlice);
    pollfd p{fd, events, 0};
    const int n = ::poll(
        &p, 1,
        static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(slice).count()) + 1);
    if (n < 0 && errno != EINTR)
      return WaitResult::kError;
    if (n <= 0)
      continue;
    // POLLHUP with POLLIN still has data (or EOF) to read; for writing it is the end.
    if ((p.revents & (POLLERR | POLLNVAL)) != 0 ||
        ((events & POLLOUT) != 0 && (p.revents & POLLHUP) != 0))
      return WaitResult::kError;
    return WaitResult::kReady;
  }
}

Result<std::shared_ptr<const TlsContext>> TlsContext::create(const crypto::KeyPairPem& pair,
                                                             std::string_view cert_name) {
  std::unique_ptr<SSL_CTX, CtxFree> ctx{SSL_CTX_new(TLS_server_method())};
  if (!ctx)
    return make_error(Code::kInternal, "cannot create a TLS context: " + openssl_reason());
  if (SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION) != 1)
    return make_error(Code::kInternal, "cannot require TLS 1.2: " + openssl_reason());
  SSL_CTX_set_options(
      ctx.get(), SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  SSL_CTX_set_mode(ctx.get(), SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_RELEASE_BUFFERS);
  SSL_CTX_set_session_cache_mode(ctx.get(), SSL_SESS_CACHE_OFF);
  if (auto st = load_pair(ctx.get(), pair, cert_name); !st)
    return st.error();
  return std::shared_ptr<const TlsContext>(new TlsContext(ctx.release()));
}

TlsContext::~TlsContext() {
  SSL_CTX_free(ctx_);
}

Stream::~Stream() {
  SSL_free(ssl_);
}

bool Stream::wait_for_tls(int ssl_error, Clock::time_point deadline, WaitResult* why) {
  short events = 0;
  if (ssl_error == SSL_ERROR_WANT_READ)
    events = POLLIN;
  else if (ssl_error == SSL_ERROR_WANT_WRITE)
    events = POLLOUT;
  else
    return false;
  const auto r = wait_fd(fd_, events, deadline, stop_);
  if (why != nullptr)
    *why = r;
  return r == WaitResult::kReady;
}

Stream::ReadResult Stream::read(std::span<char> buf, Clock::time_point deadline) {
  for (;;) {
    WaitResult why = WaitResult::kError;
    if (ssl_ != nullptr) {
      std::size_t n = 0;
      if (SSL_read_ex(ssl_, buf.data(), buf.size(), &n) == 1)
        return {ReadStatus::kData, n};
      const int err = SSL_get_error(ssl_, 0);
      if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE) {
        ERR_clear_error();
        return {ReadStatus::kClosed, 0};
      }
      if (wait_for_tls(err, deadline, &why))
        continue;
    } else {
      const auto n = ::recv(fd_, buf.data(), buf.size(), 0);
      if (n > 0)
        return {ReadStatus::kData, static_cast<std::size_t>(n)};
      if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR))
        return {ReadStatus::kClosed, 0};
      why = wait_fd(fd_, POLLIN, deadline, stop_);
      if (why == WaitResult::kReady)
        continue;
    }
    switch (why) {
      case WaitResult::kTimeout:
        return {ReadStatus::kTimeout, 0};
      case WaitResult::kStopped:
        return {ReadStatus::kStopped, 0};
      default:
        return {ReadStatus::kClosed, 0};
    }
  }
}

bool Stream::write_all(std::string_view bytes, Clock::time_point deadline) {
  while (!bytes.empty()) {
    if (ssl_ != nullptr) {
      std::size_t n = 0;
      if (SSL_write_ex(ssl_, bytes.data(), bytes.size(), &n) == 1) {
        bytes.remove_prefix(n);
        continue;
      }
      const int err = SSL_get_error(ssl_, 0);
      if (!wait_for_tls(err, deadline, nullptr)) {
        ERR_clear_error();
        return false;
      }
      continue;
    }
    const auto n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      bytes.remove_prefix(static_cast<std::size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      if (wait_fd(fd_, POLLOUT, deadline, stop_) != WaitResult::kReady)
        return false;
      continue;
    }
    return false;
  }
  return true;
}

Status Stream::start_tls(const TlsContext& context, Clock::time_point deadline) {
  if (ssl_ != nullptr)
    return make_error(Code::kFailedPrecondition, "TLS is already active");
  ssl_ = SSL_new(context.native());
  if (ssl_ == nullptr || SSL_set_fd(ssl_, fd_) != 1)
    return make_error(Code::kInternal, "cannot start TLS: " + openssl_reason());
  for (;;) {
    const int r = SSL_accept(ssl_);
    if (r == 1) {
      handshake_done_ = true;
      return {};
    }
    const int err = SSL_get_error(ssl_, r);
    WaitResult why = WaitResult::kError;
    if (wait_for_tls(err, deadline, &why))
      continue;
    if (why == WaitResult::kTimeout)
      return make_error(Code::kDeadlineExceeded, "TLS handshake not completed in time");
    if (why == WaitResult::kStopped)
      return make_error(Code::kCancelled, "server shutting down");
    return make_error(Code::kUnavailable, "TLS handshake failed: " + openssl_reason());
  }
}

std::string Stream::tls_description() const {
  if (!tls_active())
    return {};
  return fmt::format("{} {}", SSL_get_version(ssl_), SSL_get_cipher_name(ssl_));
}

void Stream::close_tls() noexcept {
  if (tls_active()) {
    (void)SSL_shutdown(ssl_);  // non-blocking socket: one attempt, no waiting for the peer
    ERR_clear_error();
  }
}

}  // namespace mailvault::imapd
