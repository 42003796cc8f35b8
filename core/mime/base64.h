// Lenient base64 decoding, shared by header (RFC 2047 "B") and body decoding.
//
// GMime 3.2.13's decoder stops at the first '=' it meets: that is gmime#133 in headers, and in
// bodies it silently truncates parts written as several padded chunks. This one treats '=' as
// the end of a quantum only, skips characters outside the alphabet (line breaks, junk) and
// keeps a trailing partial quantum. Not thread-safe per object (it is a small value type).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace mailvault::mime {

class Base64Decoder {
 public:
  // Decodes `in` and appends the bytes to `out`; state carries over to the next call, so input
  // may arrive in chunks split anywhere.
  void feed(std::string_view in, std::string& out);

  // Appends the bytes of a pending partial quantum (2 sextets -> 1 byte, 3 -> 2) and resets.
  void finish(std::string& out);

 private:
  std::uint32_t acc_ = 0;
  int count_ = 0;
};

// One-shot form: appends the decoding of `encoded` to `out`.
void append_base64_decoded(std::string& out, std::string_view encoded);

}  // namespace mailvault::mime
