#include "core/mime/base64.h"

#include <array>
#include <cstddef>

namespace mailvault::mime {
namespace {

constexpr std::uint8_t kInvalid = 0xFF;  // not in the alphabet; any value > 63 is invalid

constexpr std::array<std::uint8_t, 256> make_rank() {
  std::array<std::uint8_t, 256> rank{};
  for (auto& r : rank) {
    r = kInvalid;
  }
  constexpr std::string_view kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  for (std::size_t i = 0; i < kAlphabet.size(); ++i) {
    rank[static_cast<unsigned char>(kAlphabet[i])] = static_cast<std::uint8_t>(i);
  }
  return rank;
}

constexpr auto kRank = make_rank();

}  // namespace

void Base64Decoder::feed(std::string_view in, std::string& out) {
  out.reserve(out.size() + in.size() / 4 * 3 + 3);
  const auto* p = reinterpret_cast<const unsigned char*>(in.data());
  const std::size_t n = in.size();
  std::size_t i = 0;
  while (i < n) {
    // Fast path: whole quanta of clean alphabet characters (the body of every base64 line).
    if (count_ == 0) {
      while (i + 4 <= n) {
        const std::uint32_t a = kRank[p[i]];
        const std::uint32_t b = kRank[p[i + 1]];
        const std::uint32_t c = kRank[p[i + 2]];
        const std::uint32_t d = kRank[p[i + 3]];
        if ((a | b | c | d) > 63) {
          break;
        }
        const std::uint32_t v = (a << 18) | (b << 12) | (c << 6) | d;
        out.push_back(static_cast<char>((v >> 16) & 0xFF));
        out.push_back(static_cast<char>((v >> 8) & 0xFF));
        out.push_back(static_cast<char>(v & 0xFF));
        i += 4;
      }
      if (i >= n) {
        break;
      }
    }
    const unsigned char ch = p[i++];
    const std::uint32_t rank = kRank[ch];
    if (rank <= 63) {
      acc_ = (acc_ << 6) | rank;
      if (++count_ == 4) {
        out.push_back(static_cast<char>((acc_ >> 16) & 0xFF));
        out.push_back(static_cast<char>((acc_ >> 8) & 0xFF));
        out.push_back(static_cast<char>(acc_ & 0xFF));
        acc_ = 0;
        count_ = 0;
      }
    } else if (ch == '=') {
      finish(out);
    }
  }
}

void Base64Decoder::finish(std::string& out) {
  if (count_ == 2) {
    out.push_back(static_cast<char>((acc_ >> 4) & 0xFF));
  } else if (count_ == 3) {
    out.push_back(static_cast<char>((acc_ >> 10) & 0xFF));
    out.push_back(static_cast<char>((acc_ >> 2) & 0xFF));
  }
  acc_ = 0;
  count_ = 0;
}

void append_base64_decoded(std::string& out, std::string_view encoded) {
  Base64Decoder decoder;
  decoder.feed(encoded, out);
  decoder.finish(out);
}

}  // namespace mailvault::mime
