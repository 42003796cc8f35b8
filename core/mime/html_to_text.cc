#include "core/mime/html_to_text.h"

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>

#include "core/mime/charset.h"

namespace mailvault::mime {
namespace {

struct Entity {
  std::string_view name;
  char32_t code_point;
};

// HTML 4 named character references (Python's html.entities.name2codepoint) plus &apos;,
// sorted by name for binary search. HTML5's 2,000-odd extra names are almost never seen in mail.
constexpr auto kEntities = std::to_array<Entity>({
    {"AElig", 0x00C6},   {"Aacute", 0x00C1},  {"Acirc", 0x00C2},    {"Agrave", 0x00C0},
    {"Alpha", 0x0391},   {"Aring", 0x00C5},   {"Atilde", 0x00C3},   {"Auml", 0x00C4},
    {"Beta", 0x0392},    {"Ccedil", 0x00C7},  {"Chi", 0x03A7},      {"Dagger", 0x2021},
    {"Delta", 0x0394},   {"ETH", 0x00D0},     {"Eacute", 0x00C9},   {"Ecirc", 0x00CA},
    {"Egrave", 0x00C8},  {"Epsilon", 0x0395}, {"Eta", 0x0397},      {"Euml", 0x00CB},
    {"Gamma", 0x0393},   {"Iacute", 0x00CD},  {"Icirc", 0x00CE},    {"Igrave", 0x00CC},
    {"Iota", 0x0399},    {"Iuml", 0x00CF},    {"Kappa", 0x039A},    {"Lambda", 0x039B},
    {"Mu", 0x039C},      {"Ntilde", 0x00D1},  {"Nu", 0x039D},       {"OElig", 0x0152},
    {"Oacute", 0x00D3},  {"Ocirc", 0x00D4},   {"Ograve", 0x00D2},   {"Omega", 0x03A9},
    {"Omicron", 0x039F}, {"Oslash", 0x00D8},  {"Otilde", 0x00D5},   {"Ouml", 0x00D6},
    {"Phi", 0x03A6},     {"Pi", 0x03A0},      {"Prime", 0x2033},    {"Psi", 0x03A8},
    {"Rho", 0x03A1},     {"Scaron", 0x0160},  {"Sigma", 0x03A3},    {"THORN", 0x00DE},
    {"Tau", 0x03A4},     {"Theta", 0x0398},   {"Uacute", 0x00DA},   {"Ucirc", 0x00DB},
    {"Ugrave", 0x00D9},  {"Upsilon", 0x03A5}, {"Uuml", 0x00DC},     {"Xi", 0x039E},
    {"Yacute", 0x00DD},  {"Yuml", 0x0178},    {"Zeta", 0x0396},     {"aacute", 0x00E1},
    {"acirc", 0x00E2},   {"acute", 0x00B4},   {"aelig", 0x00E6},    {"agrave", 0x00E0},
    {"alefsym", 0x2135}, {"alpha", 0x03B1},   {"amp", 0x0026},      {"and", 0x2227},
    {"ang", 0x2220},     {"apos", 0x0027},    {"aring", 0x00E5},    {"asymp", 0x2248},
    {"atilde", 0x00E3},  {"auml", 0x00E4},    {"bdquo", 0x201E},    {"beta", 0x03B2},
    {"brvbar", 0x00A6},  {"bull", 0x2022},    {"cap", 0x2229},      {"ccedil", 0x00E7},
    {"cedil", 0x00B8},   {"cent", 0x00A2},    {"chi", 0x03C7},      {"circ", 0x02C6},
    {"clubs", 0x2663},   {"cong", 0x2245},    {"copy", 0x00A9},     {"crarr", 0x21B5},
    {"cup", 0x222A},     {"curren", 0x00A4},  {"dArr", 0x21D3},     {"dagger", 0x2020},
    {"darr", 0x2193},    {"deg", 0x00B0},     {"delta", 0x03B4},    {"diams", 0x2666},
    {"divide", 0x00F7},  {"eacute", 0x00E9},  {"ecirc", 0x00EA},    {"egrave", 0x00E8},
    {"empty", 0x2205},   {"emsp", 0x2003},    {"ensp", 0x2002},     {"epsilon", 0x03B5},
    {"equiv", 0x2261},   {"eta", 0x03B7},     {"eth", 0x00F0},      {"euml", 0x00EB},
    {"euro", 0x20AC},    {"exist", 0x2203},   {"fnof", 0x0192},     {"forall", 0x2200},
    {"frac12", 0x00BD},  {"frac14", 0x00BC},  {"frac34", 0x00BE},   {"frasl", 0x2044},
    {"gamma", 0x03B3},   {"ge", 0x2265},      {"gt", 0x003E},       {"hArr", 0x21D4},
    {"harr", 0x2194},    {"hearts", 0x2665},  {"hellip", 0x2026},   {"iacute", 0x00ED},
    {"icirc", 0x00EE},   {"iexcl", 0x00A1},   {"igrave", 0x00EC},   {"image", 0x2111},
    {"infin", 0x221E},   {"int", 0x222B},     {"iota", 0x03B9},     {"iquest", 0x00BF},
    {"isin", 0x2208},    {"iuml", 0x00EF},    {"kappa", 0x03BA},    {"lArr", 0x21D0},
    {"lambda", 0x03BB},  {"lang", 0x2329},    {"laquo", 0x00AB},    {"larr", 0x2190},
    {"lceil", 0x2308},   {"ldquo", 0x201C},   {"le", 0x2264},       {"lfloor", 0x230A},
    {"lowast", 0x2217},  {"loz", 0x25CA},     {"lrm", 0x200E},      {"lsaquo", 0x2039},
    {"lsquo", 0x2018},   {"lt", 0x003C},      {"macr", 0x00AF},     {"mdash", 0x2014},
    {"micro", 0x00B5},   {"middot", 0x00B7},  {"minus", 0x2212},    {"mu", 0x03BC},
    {"nabla", 0x2207},   {"nbsp", 0x00A0},    {"ndash", 0x2013},    {"ne", 0x2260},
    {"ni", 0x220B},      {"not", 0x00AC},     {"notin", 0x2209},    {"nsub", 0x2284},
    {"ntilde", 0x00F1},  {"nu", 0x03BD},      {"oacute", 0x00F3},   {"ocirc", 0x00F4},
    {"oelig", 0x0153},   {"ograve", 0x00F2},  {"oline", 0x203E},    {"omega", 0x03C9},
    {"omicron", 0x03BF}, {"oplus", 0x2295},   {"or", 0x2228},       {"ordf", 0x00AA},
    {"ordm", 0x00BA},    {"oslash", 0x00F8},  {"otilde", 0x00F5},   {"otimes", 0x2297},
    {"ouml", 0x00F6},    {"para", 0x00B6},    {"part", 0x2202},     {"permil", 0x2030},
    {"perp", 0x22A5},    {"phi", 0x03C6},     {"pi", 0x03C0},       {"piv", 0x03D6},
    {"plusmn", 0x00B1},  {"pound", 0x00A3},   {"prime", 0x2032},    {"prod", 0x220F},
    {"prop", 0x221D},    {"psi", 0x03C8},     {"quot", 0x0022},     {"rArr", 0x21D2},
    {"radic", 0x221A},   {"rang", 0x232A},    {"raquo", 0x00BB},    {"rarr", 0x2192},
    {"rceil", 0x2309},   {"rdquo", 0x201D},   {"real", 0x211C},     {"reg", 0x00AE},
    {"rfloor", 0x230B},  {"rho", 0x03C1},     {"rlm", 0x200F},      {"rsaquo", 0x203A},
    {"rsquo", 0x2019},   {"sbquo", 0x201A},   {"scaron", 0x0161},   {"sdot", 0x22C5},
    {"sect", 0x00A7},    {"shy", 0x00AD},     {"sigma", 0x03C3},    {"sigmaf", 0x03C2},
    {"sim", 0x223C},     {"spades", 0x2660},  {"sub", 0x2282},      {"sube", 0x2286},
    {"sum", 0x2211},     {"sup", 0x2283},     {"sup1", 0x00B9},     {"sup2", 0x00B2},
    {"sup3", 0x00B3},    {"supe", 0x2287},    {"szlig", 0x00DF},    {"tau", 0x03C4},
    {"there4", 0x2234},  {"theta", 0x03B8},   {"thetasym", 0x03D1}, {"thinsp", 0x2009},
    {"thorn", 0x00FE},   {"tilde", 0x02DC},   {"times", 0x00D7},    {"trade", 0x2122},
    {"uArr", 0x21D1},    {"uacute", 0x00FA},  {"uarr", 0x2191},     {"ucirc", 0x00FB},
    {"ugrave", 0x00F9},  {"uml", 0x00A8},     {"upsih", 0x03D2},    {"upsilon", 0x03C5},
    {"uuml", 0x00FC},    {"weierp", 0x2118},  {"xi", 0x03BE},       {"yacute", 0x00FD},
    {"yen", 0x00A5},     {"yuml", 0x00FF},    {"zeta", 0x03B6},     {"zwj", 0x200D},
    {"zwnj", 0x200C},
});

static_assert(std::is_sorted(kEntities.begin(), kEntities.end(),
                             [](const Entity& a, const Entity& b) { return a.name < b.name; }));

constexpr std::size_t kMaxEntityName = 8;  // longest in the table ("thetasym")

// windows-1252 for numeric references to 0x80..0x9F (HTML's "numeric character reference end"
// rule: &#150; is an en dash everywhere in the wild).
constexpr std::array<char16_t, 32> kCp1252High = {
    0x20AC, 0x0081, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
    0x2039, 0x0152, 0x008D, 0x017D, 0x008F, 0x0090, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
    0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x009D, 0x017E, 0x0178};

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

bool is_alpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

bool is_alnum(char c) {
  return is_alpha(c) || is_digit(c);
}

char lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

// What a tag does to the text flow.
enum class Flow { kInline, kSpace, kLine, kParagraph, kBreak };

struct TagRule {
  std::string_view name;
  Flow flow;
};

constexpr auto kTagRules = std::to_array<TagRule>({
    {"address", Flow::kLine},    {"article", Flow::kLine},
    {"aside", Flow::kLine},      {"blockquote", Flow::kParagraph},
    {"body", Flow::kLine},       {"br", Flow::kBreak},
    {"caption", Flow::kLine},    {"center", Flow::kLine},
    {"dd", Flow::kLine},         {"details", Flow::kLine},
    {"dialog", Flow::kLine},     {"dir", Flow::kLine},
    {"div", Flow::kLine},        {"dl", Flow::kLine},
    {"dt", Flow::kLine},         {"fieldset", Flow::kLine},
    {"figcaption", Flow::kLine}, {"figure", Flow::kLine},
    {"footer", Flow::kLine},     {"form", Flow::kLine},
    {"h1", Flow::kParagraph},    {"h2", Flow::kParagraph},
    {"h3", Flow::kParagraph},    {"h4", Flow::kParagraph},
    {"h5", Flow::kParagraph},    {"h6", Flow::kParagraph},
    {"head", Flow::kLine},       {"header", Flow::kLine},
    {"hr", Flow::kLine},         {"html", Flow::kLine},
    {"legend", Flow::kLine},     {"li", Flow::kLine},
    {"main", Flow::kLine},       {"menu", Flow::kLine},
    {"nav", Flow::kLine},        {"ol", Flow::kLine},
    {"option", Flow::kLine},     {"p", Flow::kParagraph},
    {"pre", Flow::kLine},        {"section", Flow::kLine},
    {"summary", Flow::kLine},    {"table", Flow::kLine},
    {"tbody", Flow::kLine},      {"td", Flow::kSpace},
    {"tfoot", Flow::kLine},      {"th", Flow::kSpace},
    {"thead", Flow::kLine},      {"tr", Flow::kLine},
    {"ul", Flow::kLine},
});

static_assert(std::is_sorted(kTagRules.begin(), kTagRules.end(),
                             [](const TagRule& a, const TagRule& b) { return a.name < b.name; }));

Flow flow_of(std::string_view name) {
  const auto* const it =
      std::lower_bound(kTagRules.begin(), kTagRules.end(), name,
                       [](const TagRule& r, std::string_view n) { return r.name < n; });
  return (it != kTagRules.end() && it->name == name) ? it->flow : Flow::kInline;
}

// Builds the output: whitespace is only written once the next visible character arrives, so
// runs collapse and nothing trails.
class Writer {
 public:
  explicit Writer(std::size_t capacity) { out_.reserve(capacity); }

  void text(std::string_view run) {
    std::size_t i = 0;
    while (i < run.size()) {
      if (is_space(run[i])) {
        space_ = true;
        ++i;
        continue;
      }
      std::size_t j = i + 1;
      while (j < run.size() && !is_space(run[j])) {
        ++j;
      }
      flush();
      out_.append(run.substr(i, j - i));  // html_to_text made the input valid UTF-8
      i = j;
    }
  }

  void code_point(char32_t cp) {
    if (cp == 0x20 || cp == 0x09 || cp == 0x0A || cp == 0x0D || cp == 0x0C || cp == 0xA0) {
      space_ = true;
      return;
    }
    flush();
    append_code_point(out_, cp);
  }

  void flow(Flow flow) {
    switch (flow) {
      case Flow::kInline:
        break;
      case Flow::kSpace:
        space_ = true;
        break;
      case Flow::kLine:
        newlines_ = std::max(newlines_, 1);
        break;
      case Flow::kParagraph:
        newlines_ = 2;
        break;
      case Flow::kBreak:
        newlines_ = std::min(newlines_ + 1, 2);
        break;
    }
  }

  std::string take() { return std::move(out_); }

 private:
  void flush() {
    if (!out_.empty()) {
      if (newlines_ > 0) {
        out_.append(static_cast<std::size_t>(newlines_), '\n');
      } else if (space_) {
        out_.push_back(' ');
      }
    }
    newlines_ = 0;
    space_ = false;
  }

  std::string out_;
  int newlines_ = 0;
  bool space_ = false;
};

// Finds `needle` (lower-case ASCII) in `s` from `from`, ignoring ASCII case. Linear: a
// candidate is only ever checked at a '<', and the needle itself starts with '<'.
std::size_t find_ignore_case(std::string_view s, std::string_view needle, std::size_t from) {
  while (true) {
    const std::size_t at = s.find(needle[0], from);
    if (at == std::string_view::npos || s.size() - at < needle.size()) {
      return std::string_view::npos;
    }
    bool match = true;
    for (std::size_t k = 1; k < needle.size(); ++k) {
      if (lower(s[at + k]) != needle[k]) {
        match = false;
        break;
      }
    }
    if (match) {
      return at;
    }
    from = at + 1;
  }
}

// Decodes the character reference at s[i] == '&'. Returns the position after it, or i when
// there is none (the '&' is then text).
std::size_t decode_reference(std::string_view s, std::size_t i, Writer& out) {
  std::size_t j = i + 1;
  if (j < s.size() && s[j] == '#') {
    ++j;
    const bool hex = j < s.size() && (s[j] == 'x' || s[j] == 'X');
    if (hex) {
      ++j;
    }
    std::uint32_t value = 0;
    const std::size_t digits_begin = j;
    while (j < s.size()) {
      int d = -1;
      const char c = s[j];
      if (is_digit(c)) {
        d = c - '0';
      } else if (hex && c >= 'a' && c <= 'f') {
        d = c - 'a' + 10;
      } else if (hex && c >= 'A' && c <= 'F') {
        d = c - 'A' + 10;
      } else {
        break;
      }
      value = std::min<std::uint32_t>(value * (hex ? 16 : 10) + static_cast<std::uint32_t>(d),
                                      0x110000);  // saturate: anything above is invalid anyway
      ++j;
    }
    if (j == digits_begin) {
      return i;
    }
    if (j < s.size() && s[j] == ';') {
      ++j;
    }
    char32_t cp = value;
    if (value >= 0x80 && value <= 0x9F) {
      cp = kCp1252High[value - 0x80];
    }
    out.code_point(cp);  // 0, surrogates and > U+10FFFF become U+FFFD there
    return j;
  }
  while (j < s.size() && j - (i + 1) < kMaxEntityName && is_alnum(s[j])) {
    ++j;
  }
  const std::string_view name = s.substr(i + 1, j - (i + 1));
  const auto* const it =
      std::lower_bound(kEntities.begin(), kEntities.end(), name,
                       [](const Entity& e, std::string_view n) { return e.name < n; });
  if (name.empty() || it == kEntities.end() || it->name != name) {
    return i;
  }
  if (j < s.size() && s[j] == ';') {
    ++j;
  }
  out.code_point(it->code_point);
  return j;
}

// Memoised forward search. The pass only moves forward, so the last answer stays valid while
// it lies at or after the new start: each needle costs O(n) over the whole pass instead of
// O(n) per miss (a thousand unterminated comments, quotes or <script> tags would otherwise make
// the pass quadratic).
class Finder {
 public:
  Finder(std::string_view s, std::string_view needle, bool ignore_case = false)
      : s_(s), needle_(needle), ignore_case_(ignore_case) {}

  std::size_t find(std::size_t from) {
    if (!searched_ || from < from_ || (found_ != std::string_view::npos && found_ < from)) {
      found_ = ignore_case_ ? find_ignore_case(s_, needle_, from) : s_.find(needle_, from);
      from_ = from;
      searched_ = true;
    }
    return found_;
  }

 private:
  std::string_view s_;
  std::string_view needle_;
  bool ignore_case_;
  bool searched_ = false;
  std::size_t from_ = 0;
  std::size_t found_ = std::string_view::npos;
};

class Converter {
 public:
  explicit Converter(std::string_view s) : s_(s), out_(s.size() / 2) {}

  std::string run() {
    std::size_t i = 0;
    while (i < s_.size()) {
      const std::size_t special = std::min(lt_.find(i), amp_.find(i));
      if (special == std::string_view::npos) {
        out_.text(s_.substr(i));
        break;
      }
      out_.text(s_.substr(i, special - i));
      i = s_[special] == '&' ? reference(special) : markup(special);
    }
    return out_.take();
  }

 private:
  std::size_t reference(std::size_t i) {
    const std::size_t next = decode_reference(s_, i, out_);
    if (next != i) {
      return next;
    }
    out_.text("&");
    return i + 1;
  }

  // s_[i] == '<': a comment, declaration, tag, or just a '<' in text.
  std::size_t markup(std::size_t i) {
    if (s_.substr(i, 4) == "<!--") {
      const std::size_t end = comment_end_.find(i + 4);
      if (end != std::string_view::npos) {
        return end + 3;
      }
      // Unterminated comment: browsers hide the rest of the document, but for search it is
      // better to end it at the next '>' than to lose everything after it.
      return after_gt(i + 4);
    }
    if (i + 1 < s_.size() && (s_[i + 1] == '!' || s_[i + 1] == '?')) {
      return after_gt(i + 2);
    }
    const bool closing = i + 1 < s_.size() && s_[i + 1] == '/';
    std::size_t j = i + (closing ? 2 : 1);
    if (j >= s_.size() || !is_alpha(s_[j])) {
      out_.text("<");  // a lone '<' in text ("a < b")
      return i + 1;
    }
    std::array<char, 16> name_buf{};
    std::size_t name_len = 0;
    while (j < s_.size() && (is_alnum(s_[j]) || s_[j] == '-' || s_[j] == ':')) {
      if (name_len < name_buf.size()) {
        name_buf[name_len] = lower(s_[j]);
      }
      ++name_len;
      ++j;
    }
    const std::string_view name =
        name_len <= name_buf.size() ? std::string_view{name_buf.data(), name_len} : "";
    j = skip_attributes(j);
    out_.flow(flow_of(name));
    if (closing) {
      return j;
    }
    Finder* close = name == "script"  ? &script_end_
                    : name == "style" ? &style_end_
                    : name == "title" ? &title_end_
                                      : nullptr;
    if (close != nullptr) {
      const std::size_t end = close->find(j);
      if (end != std::string_view::npos) {
        return skip_attributes(end + 2 + name.size());
      }
      // never closed: read what follows as text rather than drop the rest
    }
    return j;
  }

  std::size_t after_gt(std::size_t from) {
    const std::size_t gt = gt_.find(from);
    return gt == std::string_view::npos ? s_.size() : gt + 1;
  }

  // Skips the attributes of a tag whose name ends at `i`; returns the position after its '>'.
  // Quotes only matter right after '=', as in HTML, so "it's" in an unquoted value is harmless.
  std::size_t skip_attributes(std::size_t i) {
    while (i < s_.size()) {
      const char c = s_[i];
      if (c == '>') {
        return i + 1;
      }
      ++i;
      if (c != '=') {
        continue;
      }
      while (i < s_.size() && is_space(s_[i])) {
        ++i;
      }
      if (i < s_.size() && (s_[i] == '"' || s_[i] == '\'')) {
        const std::size_t close = (s_[i] == '"' ? double_quote_ : single_quote_).find(i + 1);
        if (close == std::string_view::npos) {
          // An unterminated quote would swallow the rest of the document: end the tag at the
          // next '>' instead.
          return after_gt(i + 1);
        }
        i = close + 1;
      }
    }
    return s_.size();
  }

  std::string_view s_;
  Writer out_;
  Finder lt_{s_, "<"};
  Finder amp_{s_, "&"};
  Finder gt_{s_, ">"};
  Finder comment_end_{s_, "-->"};
  Finder double_quote_{s_, "\""};
  Finder single_quote_{s_, "'"};
  Finder script_end_{s_, "</script", true};
  Finder style_end_{s_, "</style", true};
  Finder title_end_{s_, "</title", true};
};

}  // namespace

std::string html_to_text(std::string_view html) {
  // Validate once, so that text runs can be copied as they are.
  if (is_valid_utf8(html) && html.find('\0') == std::string_view::npos) {
    return Converter(html).run();
  }
  std::string clean;
  append_sanitized_utf8(clean, html);
  return Converter(clean).run();
}

}  // namespace mailvault::mime
