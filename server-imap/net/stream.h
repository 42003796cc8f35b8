// The server side of one IMAP connection's bytes: a non-blocking TCP socket, plain or TLS
// (OpenSSL directly over the file descriptor), with deadlines on every operation.
//
// The IMAP server runs one thread per connection (server.h), so this stream blocks its caller,
// but never for longer than the deadline it is given, and notices `stop` (server shutdown)
// within kPollSlice: every wait is a poll() in slices. TLS needs no thread of its own: a read
// that OpenSSL cannot complete (WANT_READ/WANT_WRITE) waits for the socket and retries.
//
// TLS: `TlsContext` holds the server's certificate and key (core/crypto/certificate.h) in an
// SSL_CTX that accepts TLS 1.2 and 1.3 only, without compression or renegotiation. A stream
// becomes TLS by `start_tls()` — at once for implicit TLS (the imaps port), or after the STARTTLS
// exchange on the plain port; the caller discards any plaintext it had read before (the
// session's reader is reset), so nothing sent in the clear is processed after the upgrade
// (CVE-2011-0411). A handshake that fails or stalls is an error by the deadline, and the
// connection is dropped; nothing else is affected.
//
// Thread safety: a Stream belongs to its connection's thread. TlsContext is immutable after
// create() and shared by every connection (SSL_CTX is thread-safe for SSL_new).
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "core/base/result.h"
#include "core/crypto/certificate.h"

using SSL_CTX = struct ssl_ctx_st;  // NOLINT(readability-identifier-naming): OpenSSL's name
using SSL = struct ssl_st;          // NOLINT(readability-identifier-naming)

namespace mailvault::imapd {

using Clock = std::chrono::steady_clock;

// Waits are sliced by this so that shutdown is noticed.
inline constexpr std::chrono::milliseconds kPollSlice{250};

enum class WaitResult : std::uint8_t { kReady, kTimeout, kStopped, kError };

// Waits for `events` (POLLIN/POLLOUT) on fd until the deadline, in kPollSlice slices so that
// `stop` is noticed. kError for POLLERR/POLLNVAL (and POLLHUP when writing).
WaitResult wait_fd(int fd, short events, Clock::time_point deadline, const std::atomic<bool>& stop);

class TlsContext {
 public:
  // kInvalidArgument when the pair does not load into OpenSSL (the messages name `cert_name`).
  static Result<std::shared_ptr<const TlsContext>> create(const crypto::KeyPairPem& pair,
                                                          std::string_view cert_name);
  ~TlsContext();
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;
  TlsContext(TlsContext&&) = delete;
  TlsContext& operator=(TlsContext&&) = delete;

  [[nodiscard]] SSL_CTX* native() const noexcept { return ctx_; }

 private:
  explicit TlsContext(SSL_CTX* ctx) : ctx_(ctx) {}

  SSL_CTX* ctx_;
};

class Stream {
 public:
  // Borrows fd (non-blocking; the caller closes it after the Stream is gone) and `stop`.
  Stream(int fd, const std::atomic<bool>& stop) : fd_(fd), stop_(stop) {}

  ~Stream();
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;
  Stream(Stream&&) = delete;
  Stream& operator=(Stream&&) = delete;

  enum class ReadStatus : std::uint8_t { kData, kTimeout, kStopped, kClosed };

  struct ReadResult {
    ReadStatus status = ReadStatus::kClosed;
    std::size_t bytes = 0;  // kData: bytes placed in the buffer (> 0)
  };

  // Reads what is available (up to buf.size()), waiting until the deadline. kClosed for EOF,
  // a reset, or a TLS error (the connection is unusable).
  ReadResult read(std::span<char> buf, Clock::time_point deadline);

  // Writes all of `bytes` or returns false (peer gone, not reading until the deadline, stop).
  bool write_all(std::string_view bytes, Clock::time_point deadline);

  // Server-side TLS handshake. kDeadlineExceeded (or kCancelled on stop) when the client does
  // not complete it in time, kUnavailable when it fails (the OpenSSL reason in the message),
  // kFailedPrecondition when TLS is already on.
  Status start_tls(const TlsContext& context, Clock::time_point deadline);

  [[nodiscard]] bool tls_active() const noexcept { return ssl_ != nullptr && handshake_done_; }

  // The negotiated protocol and cipher ("TLSv1.3 TLS_AES_256_GCM_SHA384"), "" without TLS.
  [[nodiscard]] std::string tls_description() const;

  // Sends close_notify when TLS is on (best effort, never waits).
  void close_tls() noexcept;

 private:
  // Waits as an OpenSSL WANT_READ/WANT_WRITE asks; false on timeout, stop or socket error.
  bool wait_for_tls(int ssl_error, Clock::time_point deadline, WaitResult* why);

  int fd_;
  const std::atomic<bool>& stop_;
  SSL* ssl_ = nullptr;
  bool handshake_done_ = false;
};

}  // namespace mailvault::imapd
