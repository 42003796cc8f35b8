// TLS server credentials: a certificate (chain) and its private key, as PEM text.
//
// Two sources, both checked the same way (the first certificate parses, the key parses, and the
// key is the one the certificate was issued for):
//
//   * configured files (`load_key_pair`): the certificate file may hold a chain (leaf first);
//     every error names the file that is unreadable, not PEM, or does not match the other;
//   * the embedded default (`load_or_create_self_signed`): on first use an ECDSA P-256 key and a
//     self-signed X.509 v3 certificate are generated with OpenSSL's API (no `openssl` process)
//     and written to `<dir>/imap-key.pem` (mode 0600) and `<dir>/imap-cert.pem` (0644), each
//     through a temp file, fsync and rename, under an flock of `<dir>/.lock` (servers sharing a
//     data directory agree on one pair); later starts load and check the same pair, so a
//     client that pinned the certificate keeps trusting it. The certificate names the loopback
//     host (SAN DNS:localhost, IP:127.0.0.1, IP:::1 by default), is valid from one hour ago for
//     ten years, carries basicConstraints CA:FALSE, keyUsage digitalSignature, extendedKeyUsage
//     serverAuth, and subject/authority key identifiers, so that a client can load it as its own
//     trust anchor (Python's ssl with cafile=, curl --cacert) and verify the host name.
//
// Errors: kNotFound (a configured file is missing), kUnavailable (cannot read or write a
// file), kInvalidArgument (not PEM, not a certificate/key, key and certificate do not match),
// kInternal (OpenSSL failed to generate). Thread-safe (no shared state).
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/result.h"

namespace mailvault::crypto {

struct KeyPairPem {
  std::string certificate;  // one or more PEM certificates, leaf first
  std::string private_key;  // one PEM private key (PKCS#8)
};

struct SelfSignedSpec {
  std::string common_name = "localhost";
  std::vector<std::string> dns_names = {"localhost"};
  std::vector<std::string> ip_addresses = {"127.0.0.1", "::1"};
  std::chrono::hours validity{24 * 3650};
};

// A fresh ECDSA P-256 key and a self-signed certificate for it, as described above.
Result<KeyPairPem> generate_self_signed(const SelfSignedSpec& spec = {});

// Checks that `pair` parses and that the key belongs to the certificate. The names are used in
// error messages ("<cert_name>: ...").
Status check_key_pair(const KeyPairPem& pair, std::string_view cert_name,
                      std::string_view key_name);

// Reads and checks a configured certificate (chain) file and key file.
Result<KeyPairPem> load_key_pair(const std::filesystem::path& certificate,
                                 const std::filesystem::path& private_key);

// The embedded default: loads `<dir>/imap-cert.pem` + `<dir>/imap-key.pem`, or creates `dir`
// (0700) and a new self-signed pair there when neither file exists. One file without the other
// is an error naming the missing one (never silently replaced).
Result<KeyPairPem> load_or_create_self_signed(const std::filesystem::path& dir,
                                              const SelfSignedSpec& spec = {});

inline constexpr std::string_view kSelfSignedCertFile = "imap-cert.pem";
inline constexpr std::string_view kSelfSignedKeyFile = "imap-key.pem";

// What a certificate says, for logs and tests.
struct CertificateInfo {
  std::string subject;                    // one line, e.g. "CN=localhost"
  std::vector<std::string> dns_names;     // subjectAltName DNS entries
  std::vector<std::string> ip_addresses;  // subjectAltName IP entries, textual
  std::int64_t not_before = 0;            // unix seconds
  std::int64_t not_after = 0;
  std::string key_type;  // "EC P-256", "RSA 2048", ...
  bool self_signed = false;
};

// The first certificate of `pem`. kInvalidArgument when it does not parse.
Result<CertificateInfo> inspect_certificate(std::string_view pem);

}  // namespace mailvault::crypto
