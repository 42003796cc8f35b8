#include "core/crypto/certificate.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>

#include <fmt/format.h>
#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "core/base/files.h"

namespace mailvault::crypto {

namespace {

namespace fs = std::filesystem;

template <typename T, void (*Free)(T*)>
struct Deleter {
  void operator()(T* p) const noexcept { Free(p); }
};

using BioPtr = std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>>;
using X509Ptr = std::unique_ptr<X509, Deleter<X509, X509_free>>;
using KeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;
using NamesPtr = std::unique_ptr<GENERAL_NAMES, Deleter<GENERAL_NAMES, GENERAL_NAMES_free>>;
using ExtPtr = std::unique_ptr<X509_EXTENSION, Deleter<X509_EXTENSION, X509_EXTENSION_free>>;
using BnPtr = std::unique_ptr<BIGNUM, Deleter<BIGNUM, BN_free>>;

// The reason of OpenSSL's most recent error (and clears the queue), for messages.
std::string openssl_reason() {
  const unsigned long code = ERR_get_error();  // NOLINT(google-runtime-int): OpenSSL's type
  ERR_clear_error();
  if (code == 0)
    return "unknown OpenSSL error";
  const char* reason = ERR_reason_error_string(code);
  return reason != nullptr ? reason : fmt::format("OpenSSL error {:#x}", code);
}

BioPtr memory_bio(std::string_view pem) {
  return BioPtr{BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()))};
}

X509Ptr read_certificate(std::string_view pem) {
  auto bio = memory_bio(pem);
  return X509Ptr{bio ? PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr) : nullptr};
}

KeyPtr read_private_key(std::string_view pem) {
  auto bio = memory_bio(pem);
  return KeyPtr{bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr) : nullptr};
}

std::string bio_text(BIO* bio) {
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio, &data);  // NOLINT(google-runtime-int): OpenSSL's type
  return n > 0 ? std::string(data, static_cast<std::size_t>(n)) : std::string{};
}

Status add_extension(X509* cert, X509V3_CTX* ctx, int nid, const std::string& value) {
  ExtPtr ext{X509V3_EXT_conf_nid(nullptr, ctx, nid, value.c_str())};
  if (!ext || X509_add_ext(cert, ext.get(), -1) != 1) {
    return make_error(Code::kInternal, fmt::format("cannot add certificate extension {} = {}: {}",
                                                   OBJ_nid2sn(nid), value, openssl_reason()));
  }
  return {};
}

std::int64_t unix_time(const ASN1_TIME* t) {
  struct tm tm {};

  if (t == nullptr || ASN1_TIME_to_tm(t, &tm) != 1)
    return 0;
  return static_cast<std::int64_t>(timegm(&tm));
}

Result<std::string> read_file(const fs::path& path, std::string_view what) {
  std::error_code ec;
  if (!fs::exists(path, ec))
    return make_error(Code::kNotFound, fmt::format("{} {} does not exist", what, path.string()));
  std::ifstream in{path, std::ios::binary};
  std::ostringstream text;
  if (in.is_open())
    text << in.rdbuf();
  if (!in.is_open() || in.bad()) {
    return make_error(Code::kUnavailable, fmt::format("cannot read {} {}: {}", what, path.string(),
                                                      std::strerror(errno)));  // NOLINT
  }
  return text.str();
}

std::string key_type(EVP_PKEY* key) {
  const int bits = EVP_PKEY_get_bits(key);
  switch (EVP_PKEY_get_base_id(key)) {
    case EVP_PKEY_EC: {
      std::array<char, 64> group{};
      std::size_t len = 0;
      if (EVP_PKEY_get_utf8_string_param(key, "group", group.data(), group.size(), &len) == 1) {
        const std::string_view g(group.data(), len);
        return fmt::format("EC {}", g == "prime256v1" ? "P-256" : g);
      }
      return fmt::format("EC {}", bits);
    }
    case EVP_PKEY_RSA:
      return fmt::format("RSA {}", bits);
    case EVP_PKEY_ED25519:
      return "Ed25519";
    default:
      return fmt::format("key type {} ({} bits)", EVP_PKEY_get_base_id(key), bits);
  }
}

}  // namespace

Result<KeyPairPem> generate_self_signed(const SelfSignedSpec& spec) {
  KeyPtr key{EVP_EC_gen("P-256")};
  X509Ptr cert{X509_new()};
  if (!key || !cert)
    return make_error(Code::kInternal, "cannot generate an EC P-256 key: " + openssl_reason());
  BnPtr serial{BN_new()};
  // A random positive 127-bit serial (RFC 5280: unique per issuer, at most 20 octets).
  if (!serial || BN_rand(serial.get(), 127, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) != 1 ||
      BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(cert.get())) == nullptr ||
      X509_set_version(cert.get(), X509_VERSION_3) != 1 ||
      X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600) == nullptr ||
      X509_gmtime_adj(
          X509_getm_notAfter(cert.get()),
          static_cast<long>(  // NOLINT(google-runtime-int): OpenSSL's type
              std::chrono::duration_cast<std::chrono::seconds>(spec.validity).count())) ==
          nullptr ||
      X509_set_pubkey(cert.get(), key.get()) != 1) {
    return make_error(Code::kInternal, "cannot fill in a certificate: " + openssl_reason());
  }
  X509_NAME* name = X509_get_subject_name(cert.get());
  if (X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>(  // NOLINT: OpenSSL API
                                     spec.common_name.c_str()),
                                 -1, -1, 0) != 1 ||
      X509_set_issuer_name(cert.get(), name) != 1) {
    return make_error(Code::kInternal, "cannot set the certificate's name: " + openssl_reason());
  }
  std::string alt_names;
  for (const auto& d : spec.dns_names)
    alt_names += (alt_names.empty() ? "DNS:" : ",DNS:") + d;
  for (const auto& ip : spec.ip_addresses)
    alt_names += (alt_names.empty() ? "IP:" : ",IP:") + ip;
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, cert.get(), cert.get(), nullptr, nullptr, 0);
  for (const auto& [nid, value] : {
           std::pair<int, std::string>{NID_basic_constraints, "critical,CA:FALSE"},
           {NID_key_usage, "critical,digitalSignature"},
           {NID_ext_key_usage, "serverAuth"},
           {NID_subject_key_identifier, "hash"},
           {NID_authority_key_identifier, "keyid:always"},
           {NID_subject_alt_name, alt_names},
       }) {
    if (nid == NID_subject_alt_name && value.empty())
      continue;
    if (auto st = add_extension(cert.get(), &ctx, nid, value); !st)
      return st.error();
  }
  if (X509_sign(cert.get(), key.get(), EVP_sha256()) == 0)
    return make_error(Code::kInternal, "cannot sign the certificate: " + openssl_reason());
  BioPtr cert_bio{BIO_new(BIO_s_mem())};
  BioPtr key_bio{BIO_new(BIO_s_mem())};
  if (!cert_bio || !key_bio || PEM_write_bio_X509(cert_bio.get(), cert.get()) != 1 ||
      PEM_write_bio_PrivateKey(key_bio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) !=
          1) {
    return make_error(Code::kInternal, "cannot encode the key pair as PEM: " + openssl_reason());
  }
  return KeyPairPem{bio_text(cert_bio.get()), bio_text(key_bio.get())};
}

Status check_key_pair(const KeyPairPem& pair, std::string_view cert_name,
                      std::string_view key_name) {
  auto cert = read_certificate(pair.certificate);
  if (!cert) {
    return make_error(Code::kInvalidArgument,
                      fmt::format("{}: no PEM certificate ({})", cert_name, openssl_reason()));
  }
  auto key = read_private_key(pair.private_key);
  if (!key) {
    return make_error(Code::kInvalidArgument,
                      fmt::format("{}: no PEM private key ({})", key_name, openssl_reason()));
  }
  if (X509_check_private_key(cert.get(), key.get()) != 1) {
    ERR_clear_error();
    return make_error(
        Code::kInvalidArgument,
        fmt::format("{} is not the private key of the certificate in {}", key_name, cert_name));
  }
  return {};
}

Result<KeyPairPem> load_key_pair(const fs::path& certificate, const fs::path& private_key) {
  auto cert = read_file(certificate, "TLS certificate");
  if (!cert)
    return cert.error();
  auto key = read_file(private_key, "TLS private key");
  if (!key)
    return key.error();
  KeyPairPem pair{std::move(*cert), std::move(*key)};
  if (auto st = check_key_pair(pair, certificate.string(), private_key.string()); !st)
    return st.error();
  return pair;
}

namespace {

Result<KeyPairPem> create_unless_present(const fs::path& cert_path, const fs::path& key_path,
                                         const SelfSignedSpec& spec) {
  std::error_code ec;
  const bool have_cert = fs::exists(cert_path, ec);
  const bool have_key = fs::exists(key_path, ec);
  if (have_cert || have_key)
    return load_key_pair(cert_path, key_path);  // names whichever file is missing
  auto pair = generate_self_signed(spec);
  if (!pair)
    return pair.error();
  // The key first: a crash between the two writes leaves a key without a certificate, which
  // the next start reports instead of silently generating a new identity.
  if (auto st = write_file_atomically(key_path, pair->private_key, 0600); !st)
    return st.error();
  if (auto st = write_file_atomically(cert_path, pair->certificate, 0644); !st)
    return st.error();
  return pair;
}

}  // namespace

Result<KeyPairPem> load_or_create_self_signed(const fs::path& dir, const SelfSignedSpec& spec) {
  const fs::path cert_path = dir / kSelfSignedCertFile;
  const fs::path key_path = dir / kSelfSignedKeyFile;
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) {
    return make_error(Code::kUnavailable,
                      fmt::format("cannot create {}: {}", dir.string(), ec.message()));
  }
  ::chmod(dir.c_str(), 0700);
  // Servers sharing a data directory may start together: one generates, the others wait and
  // load its pair (never a key of one and the certificate of another).
  const fs::path lock_path = dir / ".lock";
  const int lock = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (lock < 0 || ::flock(lock, LOCK_EX) != 0) {
    const int err = errno;
    if (lock >= 0)
      ::close(lock);
    return make_error(Code::kUnavailable, fmt::format("cannot lock {}: {}", lock_path.string(),
                                                      std::strerror(err)));  // NOLINT
  }
  auto pair = create_unless_present(cert_path, key_path, spec);
  ::close(lock);  // releases the lock
  return pair;
}

Result<CertificateInfo> inspect_certificate(std::string_view pem) {
  auto cert = read_certificate(pem);
  if (!cert)
    return make_error(Code::kInvalidArgument, "no PEM certificate: " + openssl_reason());
  CertificateInfo info;
  BioPtr subject{BIO_new(BIO_s_mem())};
  if (subject &&
      X509_NAME_print_ex(subject.get(), X509_get_subject_name(cert.get()), 0, XN_FLAG_RFC2253) >= 0)
    info.subject = bio_text(subject.get());
  NamesPtr names{static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(cert.get(), NID_subject_alt_name, nullptr, nullptr))};
  for (int i = 0; names && i < sk_GENERAL_NAME_num(names.get()); ++i) {
    const GENERAL_NAME* gn = sk_GENERAL_NAME_value(names.get(), i);
    if (gn->type == GEN_DNS) {
      const auto* s = gn->d.dNSName;
      info.dns_names.emplace_back(reinterpret_cast<const char*>(  // NOLINT: ASN1 bytes
                                      ASN1_STRING_get0_data(s)),
                                  static_cast<std::size_t>(ASN1_STRING_length(s)));
    } else if (gn->type == GEN_IPADD) {
      const auto* ip = gn->d.iPAddress;
      std::array<char, INET6_ADDRSTRLEN> text{};
      const int len = ASN1_STRING_length(ip);
      const int family = len == 4 ? AF_INET : len == 16 ? AF_INET6 : AF_UNSPEC;
      if (family != AF_UNSPEC &&
          ::inet_ntop(family, ASN1_STRING_get0_data(ip), text.data(), text.size()) != nullptr)
        info.ip_addresses.emplace_back(text.data());
    }
  }
  info.not_before = unix_time(X509_get0_notBefore(cert.get()));
  info.not_after = unix_time(X509_get0_notAfter(cert.get()));
  if (EVP_PKEY* key = X509_get0_pubkey(cert.get()))
    info.key_type = key_type(key);
  info.self_signed = X509_self_signed(cert.get(), 1) == 1;
  return info;
}

}  // namespace mailvault::crypto
