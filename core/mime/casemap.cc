#include "core/mime/casemap.h"

#include <glib.h>

namespace mailvault::mime {

std::string unicode_casemap_key(std::string_view utf8) {
  std::string out;
  out.reserve(utf8.size());
  const char* p = utf8.data();
  const char* const end = p + utf8.size();
  while (p < end) {
    const auto c = static_cast<unsigned char>(*p);
    if (c < 0x80) {  // ASCII: titlecase is upper case, nothing decomposes
      out += (c >= 'a' && c <= 'z') ? static_cast<char>(c - 32) : static_cast<char>(c);
      ++p;
      continue;
    }
    const gunichar ch = g_utf8_get_char_validated(p, end - p);
    if (ch == static_cast<gunichar>(-1) || ch == static_cast<gunichar>(-2)) {
      out += *p++;  // not UTF-8: the byte as it is
      continue;
    }
    p = g_utf8_next_char(p);
    gunichar parts[G_UNICHAR_MAX_DECOMPOSITION_LENGTH];
    const gsize n = g_unichar_fully_decompose(g_unichar_totitle(ch), TRUE, parts,
                                              G_UNICHAR_MAX_DECOMPOSITION_LENGTH);
    for (gsize i = 0; i < n; ++i) {
      char buf[6];
      // The parts of a compatibility decomposition may have case again ("ﬁ" -> "fi").
      out.append(buf,
                 static_cast<std::size_t>(g_unichar_to_utf8(g_unichar_totitle(parts[i]), buf)));
    }
  }
  return out;
}

}  // namespace mailvault::mime
