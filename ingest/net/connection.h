// A blocking, buffered byte stream to a mail server over TCP, optionally TLS (asio + OpenSSL).
//
// The IMAP and POP3 clients are written against this one class. It is blocking on purpose: an
// ingest worker owns one connection on one thread, and pipelining is done by writing several
// commands before reading their responses, which a blocking stream does as well as an async one.
// Every operation is bounded by the timeouts of ConnectOptions; a timeout or a peer that closes
// is an Error (kDeadlineExceeded / kUnavailable), never a hang.
//
// TLS: certificate chain and host name are verified by default (system CAs, or `ca_file`); SNI is
// sent. Plaintext (`TlsMode::kNone`) is used only when an account asks for it explicitly.
//
// Errors (all name host:port): kInvalidArgument (no host/port), kUnavailable (cannot resolve,
// connection refused, peer closed, TLS handshake failure), kDeadlineExceeded (a timeout),
// kFailedPrecondition (TLS certificate verification failed, including a host-name mismatch, or
// the CA file cannot be loaded: retrying will not help until the account's TLS settings change),
// kCancelled (close() was called), kResourceExhausted (a line longer than asked for).
// After any error of an operation the stream is broken (a timed-out or cut TLS stream cannot be
// resumed): the socket is closed and every later operation fails with the first error's code.
//
// Not thread-safe: one owner thread (the thread of the latest operation). `close()` may be
// called from another thread to abort a blocked operation (the worker's cancellation path); the
// destructor must run on the owner thread, after any other thread is done calling close().
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "core/base/result.h"

namespace mailvault::ingest::net {

enum class TlsMode {
  kImplicit,  // TLS from the first byte (imaps 993, pop3s 995)
  kStartTls,  // plaintext greeting, then STARTTLS (IMAP) / STLS (POP3) before any credential
  kNone,      // plaintext throughout: only when the account says so explicitly
};

struct ConnectOptions {
  std::string host;
  std::uint16_t port = 0;
  TlsMode tls = TlsMode::kImplicit;
  bool verify_peer = true;  // chain and host name; false only by explicit account setting
  std::string ca_file;      // PEM bundle; empty = system CAs
  // Resolve + connect + (kImplicit) TLS handshake, together. A resolver stuck in getaddrinfo
  // is abandoned at the deadline, but the process may wait for it when the connection is
  // destroyed (asio joins its resolver thread); numeric hosts never wait.
  std::chrono::milliseconds connect_timeout{15'000};
  // Per read/write operation (one socket read of up to 64 KiB, one whole write_all, the
  // start_tls handshake): a slow but live peer is not cut, a silent one is.
  std::chrono::milliseconds io_timeout{120'000};
};

class Connection {
 public:
  // Resolves, connects (trying every address), and for kImplicit completes the TLS handshake.
  // Errors name the host and port and say what failed (resolve, connect, TLS verification with
  // the OpenSSL reason, host-name mismatch, timeout).
  static Result<std::unique_ptr<Connection>> open(const ConnectOptions& options);

  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  Connection(Connection&&) = delete;
  Connection& operator=(Connection&&) = delete;
  virtual ~Connection() = default;

  // One line up to CRLF (a bare LF is accepted), returned without the line ending (the LF and
  // one CR before it; "a\r\r\n" gives "a\r"). A line longer than max_bytes is
  // kResourceExhausted; EOF before the end of a line is kUnavailable. Reads are buffered (64 KiB
  // socket reads), so calling this once per line of a large message is cheap.
  virtual Result<std::string> read_line(std::size_t max_bytes) = 0;

  // Receives one line, without its line ending (as read_line), as a view valid only during the
  // call; returns true to stop reading lines.
  using LineSink = std::function<bool(std::string_view line)>;

  // Lines, as read_line would return them one after the other, handed to `on_line` until it
  // returns true. Same errors as read_line (a line longer than max_bytes ends the stream). The
  // buffered implementation passes views into its read buffer: no allocation per line (POP3
  // multi-line responses, hundreds of lines per message). The default calls read_line.
  virtual Status read_lines(const LineSink& on_line, std::size_t max_bytes);

  // Exactly n bytes appended to `out` (IMAP literals). Large n is read straight into `out`.
  // On failure `out` may hold a prefix of the bytes.
  virtual Status read_exact(std::size_t n, std::string& out) = 0;

  virtual Status write_all(std::string_view bytes) = 0;

  // Waits up to `timeout` for something to read, without reading it: true when bytes are
  // buffered or the socket became readable, false when the time passed with nothing to read.
  // Unlike a read, running out of time leaves the stream intact (the IMAP client waits in IDLE
  // this way, then sends DONE). "Readable" is the socket's view: over TLS it may be a record
  // with no application data, so the next read can still block up to io_timeout. kCancelled if
  // close() is called meanwhile; a broken stream returns its error.
  virtual Result<bool> wait_readable(std::chrono::milliseconds timeout) = 0;

  // TLS handshake on the open plaintext stream (after the protocol's STARTTLS/STLS exchange),
  // verified like kImplicit, bounded by io_timeout. kFailedPrecondition if TLS is already on.
  // Any bytes buffered before the upgrade are discarded (RFC 3207 §4.2 injection defence).
  virtual Status start_tls() = 0;

  [[nodiscard]] virtual bool tls_active() const = 0;

  // Bytes read from / written to the socket so far (after TLS decryption), for rates and tests.
  [[nodiscard]] virtual std::uint64_t bytes_read() const = 0;

  // Closes the socket; a blocked read/write in another thread returns kCancelled, and so does
  // every later operation. Safe to call from any thread, any number of times.
  virtual void close() noexcept = 0;

 protected:
  Connection() = default;
};

}  // namespace mailvault::ingest::net
