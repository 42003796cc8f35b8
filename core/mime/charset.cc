#include "core/mime/charset.h"

#include <iconv.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <vector>

namespace mailvault::mime {
namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

// windows-1252 0x80..0x9F. The five undefined bytes map to the C1 control with the same value,
// as the WHATWG Encoding Standard does, so that no byte is ever lost.
constexpr std::array<char16_t, 32> kCp1252High = {
    0x20AC, 0x0081, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
    0x2039, 0x0152, 0x008D, 0x017D, 0x008F, 0x0090, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
    0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x009D, 0x017E, 0x0178};

// Length of the leading run of bytes in 0x01..0x7F: the common case in mail, copied in bulk.
std::size_t ascii_run(const unsigned char* p, std::size_t n) noexcept {
  std::size_t i = 0;
  constexpr std::uint64_t kHigh = 0x8080808080808080ULL;
  constexpr std::uint64_t kOnes = 0x0101010101010101ULL;
  while (i + 8 <= n) {
    std::uint64_t v = 0;
    std::memcpy(&v, p + i, sizeof v);
    // Any byte >= 0x80, or any zero byte (the classic "has zero byte" test).
    if (((v & kHigh) | ((v - kOnes) & ~v & kHigh)) != 0) {
      break;
    }
    i += 8;
  }
  while (i < n && p[i] != 0 && p[i] < 0x80) {
    ++i;
  }
  return i;
}

// Length of the well-formed UTF-8 sequence at p (1..4), or 0 when ill-formed; *bad_len gets the
// length of the maximal ill-formed subpart (>= 1) so that one U+FFFD replaces it.
std::size_t utf8_sequence(const unsigned char* p, std::size_t n, std::size_t* bad_len) noexcept {
  const unsigned char c = p[0];
  *bad_len = 1;
  if (c < 0x80) {
    return 1;
  }
  std::size_t len = 0;
  unsigned char lo = 0x80;
  unsigned char hi = 0xBF;
  if (c >= 0xC2 && c <= 0xDF) {
    len = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    len = 3;
    if (c == 0xE0) {
      lo = 0xA0;
    } else if (c == 0xED) {
      hi = 0x9F;
    }
  } else if (c >= 0xF0 && c <= 0xF4) {
    len = 4;
    if (c == 0xF0) {
      lo = 0x90;
    } else if (c == 0xF4) {
      hi = 0x8F;
    }
  } else {
    return 0;
  }
  for (std::size_t i = 1; i < len; ++i) {
    if (i >= n) {
      *bad_len = i;
      return 0;
    }
    const unsigned char b = p[i];
    const unsigned char min = i == 1 ? lo : 0x80;
    const unsigned char max = i == 1 ? hi : 0xBF;
    if (b < min || b > max) {
      *bad_len = i;
      return 0;
    }
  }
  return len;
}

void append_cp1252_byte(std::string& out, unsigned char c) {
  if (c == 0) {
    out.append(kReplacement);
  } else if (c < 0x80) {
    out.push_back(static_cast<char>(c));
  } else if (c < 0xA0) {
    append_code_point(out, kCp1252High[c - 0x80]);
  } else {
    append_code_point(out, c);
  }
}

void append_cp1252(std::string& out, std::string_view bytes) {
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  const std::size_t n = bytes.size();
  std::size_t i = 0;
  while (i < n) {
    const std::size_t run = ascii_run(p + i, n - i);
    out.append(bytes.substr(i, run));
    i += run;
    if (i < n) {
      append_cp1252_byte(out, p[i]);
      ++i;
    }
  }
}

enum class Kind { kLenient, kUtf8, kCp1252, kIconv, kUnknown };

struct Resolved {
  Kind kind = Kind::kUnknown;
  std::string iconv_name;
};

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Maps a MIME charset label to how we decode it. The aliases follow the WHATWG Encoding
// Standard where it widens a label to the superset mailers really use (iso-8859-1 ->
// windows-1252, gb2312 -> GB18030, ks_c_5601-1987 -> CP949, shift_jis -> CP932). We do not
// use g_mime_charset_iconv_name(): it caches every name it is given in a global table, so
// hostile charset names would grow it without bound.
Resolved resolve(std::string_view label) {
  std::string name;
  name.reserve(label.size());
  for (const char c : label) {
    name.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c);
  }
  // Trim blanks and quotes, drop an RFC 2231 "*language" suffix.
  const auto star = name.find('*');
  if (star != std::string::npos) {
    name.resize(star);
  }
  const auto first = name.find_first_not_of(" \t\"'");
  const auto last = name.find_last_not_of(" \t\"'");
  name = first == std::string::npos ? std::string{} : name.substr(first, last - first + 1);

  struct Alias {
    std::string_view label;
    Kind kind;
    std::string_view iconv_name;
  };

  static constexpr auto kAliases = std::to_array<Alias>({
      {"", Kind::kLenient, ""},
      {"us-ascii", Kind::kLenient, ""},
      {"ascii", Kind::kLenient, ""},
      {"us", Kind::kLenient, ""},
      {"ansi_x3.4-1968", Kind::kLenient, ""},
      {"iso646-us", Kind::kLenient, ""},
      {"csascii", Kind::kLenient, ""},
      {"unknown-8bit", Kind::kLenient, ""},
      {"x-unknown", Kind::kLenient, ""},
      {"unknown", Kind::kLenient, ""},
      {"default", Kind::kLenient, ""},
      {"default-charset", Kind::kLenient, ""},
      {"x-user-defined", Kind::kLenient, ""},
      {"default_charset", Kind::kLenient, ""},  // Outlook's placeholder
      {"utf-8", Kind::kUtf8, ""},
      {"utf8", Kind::kUtf8, ""},
      {"unicode-1-1-utf-8", Kind::kUtf8, ""},
      {"x-unicode20utf8", Kind::kUtf8, ""},
      {"iso-8859-1", Kind::kCp1252, ""},
      {"iso8859-1", Kind::kCp1252, ""},
      {"iso_8859-1", Kind::kCp1252, ""},
      {"iso_8859-1:1987", Kind::kCp1252, ""},
      {"latin1", Kind::kCp1252, ""},
      {"l1", Kind::kCp1252, ""},
      {"cp819", Kind::kCp1252, ""},
      {"ibm819", Kind::kCp1252, ""},
      {"csisolatin1", Kind::kCp1252, ""},
      {"windows-1252", Kind::kCp1252, ""},
      {"cp1252", Kind::kCp1252, ""},
      {"x-cp1252", Kind::kCp1252, ""},
      {"gb2312", Kind::kIconv, "GB18030"},
      {"gbk", Kind::kIconv, "GB18030"},
      {"x-gbk", Kind::kIconv, "GB18030"},
      {"euc-cn", Kind::kIconv, "GB18030"},
      {"cp936", Kind::kIconv, "GB18030"},
      {"chinese", Kind::kIconv, "GB18030"},
      {"ks_c_5601-1987", Kind::kIconv, "CP949"},
      {"ks_c_5601", Kind::kIconv, "CP949"},
      {"euc-kr", Kind::kIconv, "CP949"},
      {"korean", Kind::kIconv, "CP949"},
      {"shift_jis", Kind::kIconv, "CP932"},
      {"shift-jis", Kind::kIconv, "CP932"},
      {"sjis", Kind::kIconv, "CP932"},
      {"x-sjis", Kind::kIconv, "CP932"},
      {"windows-31j", Kind::kIconv, "CP932"},
      {"big5", Kind::kIconv, "BIG5-HKSCS"},
      // glibc's plain ISO-2022-JP passes half-width katakana escapes through as raw ESC bytes;
      // ISO-2022-JP-2 is a superset that decodes them.
      {"iso-2022-jp", Kind::kIconv, "ISO-2022-JP-2"},
      {"_iso-2022-jp$esc", Kind::kIconv, "ISO-2022-JP-2"},  // Becky! mailer bug
      {"iso-8859-8-i", Kind::kIconv, "ISO-8859-8"},
      {"utf-7", Kind::kIconv, "UTF-7"},
  });
  for (const auto& alias : kAliases) {
    if (alias.label == name) {
      return {alias.kind, std::string{alias.iconv_name}};
    }
  }
  // Only plain charset names reach iconv_open: no '/', which glibc reads as a conversion
  // suffix, and nothing long.
  if (name.size() > 40 || !std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
               c == '.' || c == ':' || c == '+' || c == '(' || c == ')';
      })) {
    return {Kind::kUnknown, {}};
  }
  for (const std::string_view prefix : {"windows-", "x-cp", "cp", "ms-cp"}) {
    if (starts_with(name, prefix) && all_digits(std::string_view{name}.substr(prefix.size()))) {
      return {Kind::kIconv, "CP" + name.substr(prefix.size())};
    }
  }
  for (const std::string_view prefix : {"iso8859-", "iso_8859-", "iso-8859_", "iso8859_"}) {
    if (starts_with(name, prefix)) {
      return {Kind::kIconv, "ISO-8859-" + name.substr(prefix.size())};
    }
  }
  return {Kind::kIconv, name};
}

// iconv descriptors are costly to open (glibc loads and links gconv modules), so each thread
// keeps the last few it used; an iconv_t must never be shared between threads. Failed opens are
// remembered too, so a hostile charset name costs one iconv_open per thread, not per part.
class IconvCache {
 public:
  IconvCache() = default;
  IconvCache(const IconvCache&) = delete;
  IconvCache& operator=(const IconvCache&) = delete;
  IconvCache(IconvCache&&) = delete;
  IconvCache& operator=(IconvCache&&) = delete;

  ~IconvCache() {
    for (auto& entry : entries_) {
      close(entry);
    }
  }

  // Returns a descriptor in its initial shift state, or nullptr when iconv cannot convert.
  iconv_t get(const std::string& name) {
    for (auto& entry : entries_) {
      if (entry.name == name) {
        if (entry.cd != nullptr) {
          iconv(entry.cd, nullptr, nullptr, nullptr, nullptr);  // reset shift state
        }
        return entry.cd;
      }
    }
    iconv_t cd = iconv_open("UTF-8", name.c_str());
    // (iconv_t)-1 is how iconv_open reports failure.
    if (cd == reinterpret_cast<iconv_t>(-1)) {  // NOLINT(performance-no-int-to-ptr)
      cd = nullptr;
    }
    if (entries_.size() >= kCapacity) {
      close(entries_[next_victim_]);
      entries_[next_victim_] = Entry{name, cd};
      next_victim_ = (next_victim_ + 1) % kCapacity;
    } else {
      entries_.push_back(Entry{name, cd});
    }
    return cd;
  }

 private:
  struct Entry {
    std::string name;
    iconv_t cd = nullptr;
  };

  static void close(Entry& entry) noexcept {
    if (entry.cd != nullptr) {
      iconv_close(entry.cd);
      entry.cd = nullptr;
    }
  }

  static constexpr std::size_t kCapacity = 16;
  std::vector<Entry> entries_;
  std::size_t next_victim_ = 0;
};

// Converts with iconv; invalid input bytes become U+FFFD and conversion goes on after them.
void append_iconv(std::string& out, iconv_t cd, std::string_view bytes) {
  std::array<char, 4096> buf{};
  // iconv's prototype takes char** for input it never writes (POSIX heritage).
  char* in = const_cast<char*>(bytes.data());
  std::size_t in_left = bytes.size();
  bool flushed = false;
  while (!flushed) {
    char* outp = buf.data();
    std::size_t out_left = buf.size();
    std::size_t rc = 0;
    bool skip_invalid = false;
    bool truncated = false;
    if (in_left > 0) {
      rc = iconv(cd, &in, &in_left, &outp, &out_left);
      if (rc == static_cast<std::size_t>(-1)) {
        if (errno == EINVAL) {
          truncated = true;  // incomplete sequence at the end of the input
        } else if (errno != E2BIG) {
          skip_invalid = true;  // EILSEQ (or anything unexpected): never loop without progress
        }
        // E2BIG: the buffer is full; flush it below and go on.
      }
    } else {
      // Emit the bytes that return a stateful encoding (ISO-2022-*) to its initial state.
      rc = iconv(cd, nullptr, nullptr, &outp, &out_left);
      if (rc != static_cast<std::size_t>(-1) || errno != E2BIG) {
        flushed = true;
      }
    }
    // iconv only ever writes whole characters, so each chunk can be checked on its own; the
    // check turns NUL into U+FFFD and guards against converters that emit junk.
    append_sanitized_utf8(out, std::string_view{buf.data(), buf.size() - out_left});
    if (skip_invalid) {
      out.append(kReplacement);
      ++in;
      --in_left;
    } else if (truncated) {
      out.append(kReplacement);
      in_left = 0;
    }
  }
}

}  // namespace

void append_code_point(std::string& out, char32_t code_point) {
  const char32_t cp = code_point;
  if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
    out.append(kReplacement);
  } else if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

bool is_valid_utf8(std::string_view bytes) noexcept {
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  const std::size_t n = bytes.size();
  std::size_t i = 0;
  while (i < n) {
    i += ascii_run(p + i, n - i);
    if (i >= n) {
      break;
    }
    if (p[i] == 0) {
      ++i;
      continue;
    }
    std::size_t bad = 0;
    const std::size_t len = utf8_sequence(p + i, n - i, &bad);
    if (len == 0) {
      return false;
    }
    i += len;
  }
  return true;
}

void append_sanitized_utf8(std::string& out, std::string_view bytes) {
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  const std::size_t n = bytes.size();
  out.reserve(out.size() + n);
  std::size_t i = 0;
  while (i < n) {
    const std::size_t run = ascii_run(p + i, n - i);
    out.append(bytes.substr(i, run));
    i += run;
    if (i >= n) {
      break;
    }
    if (p[i] == 0) {
      out.append(kReplacement);
      ++i;
      continue;
    }
    std::size_t bad = 0;
    const std::size_t len = utf8_sequence(p + i, n - i, &bad);
    if (len == 0) {
      out.append(kReplacement);
      i += bad;
    } else {
      out.append(bytes.substr(i, len));
      i += len;
    }
  }
}

void append_lenient_utf8(std::string& out, std::string_view bytes) {
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  const std::size_t n = bytes.size();
  out.reserve(out.size() + n);
  std::size_t i = 0;
  while (i < n) {
    const std::size_t run = ascii_run(p + i, n - i);
    out.append(bytes.substr(i, run));
    i += run;
    if (i >= n) {
      break;
    }
    std::size_t bad = 0;
    const std::size_t len = p[i] == 0 ? 0 : utf8_sequence(p + i, n - i, &bad);
    if (len == 0) {
      append_cp1252_byte(out, p[i]);
      ++i;
    } else {
      out.append(bytes.substr(i, len));
      i += len;
    }
  }
}

std::string lenient_utf8(std::string_view bytes) {
  std::string out;
  append_lenient_utf8(out, bytes);
  return out;
}

bool append_charset_to_utf8(std::string& out, std::string_view bytes, std::string_view charset) {
  const Resolved resolved = resolve(charset);
  switch (resolved.kind) {
    case Kind::kLenient:
      append_lenient_utf8(out, bytes);
      return true;
    case Kind::kUtf8:
      append_sanitized_utf8(out, bytes);
      return true;
    case Kind::kCp1252:
      append_cp1252(out, bytes);
      return true;
    case Kind::kIconv: {
      thread_local IconvCache cache;
      iconv_t cd = cache.get(resolved.iconv_name);
      if (cd == nullptr) {
        break;
      }
      append_iconv(out, cd, bytes);
      return true;
    }
    case Kind::kUnknown:
      break;
  }
  append_lenient_utf8(out, bytes);
  return false;
}

}  // namespace mailvault::mime
