#include "ingest/pop3/protocol.h"

#include <algorithm>
#include <cctype>
#include <charconv>

#include "core/crypto/digest.h"

namespace mailvault::ingest::pop3 {
namespace {

constexpr std::size_t kMaxUidLength = 70;

char ascii_upper(char c) {
  return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c;
}

std::string upper(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), ascii_upper);
  return out;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return ascii_upper(x) == ascii_upper(y);
         });
}

Error protocol_error(std::string_view what, std::string_view line) {
  return make_error(Code::kInternal,
                    "POP3 protocol error: " + std::string(what) + ": '" + printable(line) + "'");
}

// Splits off the next token up to a space; `rest` is what follows the single space.
std::string_view next_token(std::string_view& rest) {
  const auto space = rest.find(' ');
  std::string_view token = rest.substr(0, space);
  rest = space == std::string_view::npos ? std::string_view{} : rest.substr(space + 1);
  return token;
}

template <typename T>
bool parse_decimal(std::string_view s, T& out) {
  if (s.empty() || s.size() > 20 ||
      !std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return false;
  }
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc{} && end == s.data() + s.size();
}

bool parse_message_number(std::string_view s, MessageNumber& out) {
  std::uint32_t n = 0;
  if (!parse_decimal(s, n) || n == 0) {
    return false;
  }
  out = MessageNumber{n};
  return true;
}

}  // namespace

std::string printable(std::string_view line, std::size_t max) {
  std::string out;
  for (const char c : line) {
    if (out.size() >= max) {
      out += "...";
      break;
    }
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u < 0x7F) {
      out += c;
    } else {
      static constexpr std::string_view kHex = "0123456789ABCDEF";
      out += "\\x";
      out += kHex[u >> 4];
      out += kHex[u & 0xF];
    }
  }
  return out;
}

Result<Reply> parse_reply(std::string_view line) {
  Reply reply;
  std::string_view rest;
  if (line.size() >= 3 && iequals(line.substr(0, 3), "+OK")) {
    reply.ok = true;
    rest = line.substr(3);
  } else if (line.size() >= 4 && iequals(line.substr(0, 4), "-ERR")) {
    rest = line.substr(4);
  } else {
    return protocol_error("expected a status line (+OK or -ERR)", line);
  }
  if (!rest.empty()) {
    if (rest.front() != ' ') {
      return protocol_error("expected a space after the status indicator", line);
    }
    rest.remove_prefix(1);
  }
  // RFC 2449 §8: "[" resp-level *("/" resp-level) "]", levels of atom characters.
  if (!rest.empty() && rest.front() == '[') {
    const auto close = rest.find(']');
    const std::string_view code = close == std::string_view::npos ? "" : rest.substr(1, close - 1);
    const bool valid = !code.empty() && std::all_of(code.begin(), code.end(), [](char c) {
      return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
             c == '-' || c == '/' || c == '.' || c == '_';
    });
    if (valid) {  // otherwise the bracket is just text
      reply.code = upper(code);
      rest.remove_prefix(close + 1);
      if (!rest.empty() && rest.front() == ' ') {
        rest.remove_prefix(1);
      }
    }
  }
  reply.text = std::string(rest);
  return reply;
}

Error error_from_reply(const Reply& reply, std::string_view what, Code fallback) {
  Code code = fallback;
  const std::string_view code_view = reply.code;
  const std::string_view top = code_view.substr(0, code_view.find('/'));
  if (top == "AUTH") {
    code = Code::kUnauthenticated;
  } else if (reply.code == "IN-USE" || reply.code == "LOGIN-DELAY" || reply.code == "SYS/TEMP") {
    code = Code::kUnavailable;
  } else if (reply.code == "SYS/PERM") {
    code = Code::kFailedPrecondition;
  }
  std::string message = std::string(what) + ": -ERR";
  if (!reply.code.empty()) {
    message += " [" + reply.code + "]";
  }
  if (!reply.text.empty()) {
    message += " " + printable(reply.text, 300);
  }
  return make_error(code, std::move(message));
}

bool append_multiline(std::string_view line, std::string& out) {
  if (!line.empty() && line.front() == '.') {
    if (line.size() == 1) {
      return true;
    }
    line.remove_prefix(1);
  }
  out.append(line);
  out.append("\r\n");
  return false;
}

std::optional<std::size_t> decode_multiline(std::string_view wire, std::string& out) {
  std::size_t pos = 0;
  while (pos < wire.size()) {
    const auto lf = wire.find('\n', pos);
    if (lf == std::string_view::npos) {
      return std::nullopt;
    }
    std::string_view line = wire.substr(pos, lf - pos);
    if (!line.empty() && line.back() == '\r') {
      line.remove_suffix(1);
    }
    pos = lf + 1;
    if (append_multiline(line, out)) {
      return pos;
    }
  }
  return std::nullopt;
}

std::string encode_multiline(std::string_view message) {
  std::string out;
  out.reserve(message.size() + message.size() / 50 + 8);
  std::size_t pos = 0;
  while (pos < message.size()) {
    auto lf = message.find('\n', pos);
    const std::size_t end = lf == std::string_view::npos ? message.size() : lf + 1;
    if (message[pos] == '.') {
      out += '.';
    }
    out.append(message.substr(pos, end - pos));
    if (lf == std::string_view::npos) {
      out += "\r\n";
    }
    pos = end;
  }
  out += ".\r\n";
  return out;
}

Result<MaildropStat> parse_stat(std::string_view text) {
  std::string_view rest = text;
  MaildropStat stat;
  if (!parse_decimal(next_token(rest), stat.count) || !parse_decimal(next_token(rest), stat.size)) {
    return protocol_error("invalid STAT reply", text);
  }
  return stat;
}

Result<ListEntry> parse_list_entry(std::string_view line) {
  std::string_view rest = line;
  ListEntry entry;
  if (!parse_message_number(next_token(rest), entry.number) ||
      !parse_decimal(next_token(rest), entry.size)) {
    return protocol_error("invalid scan listing (expected 'msg size')", line);
  }
  return entry;
}

Result<UidlEntry> parse_uidl_entry(std::string_view line) {
  std::string_view rest = line;
  UidlEntry entry;
  if (!parse_message_number(next_token(rest), entry.number)) {
    return protocol_error("invalid unique-id listing (expected 'msg unique-id')", line);
  }
  const std::string_view uid = next_token(rest);
  if (uid.empty() || uid.size() > kMaxUidLength || !std::all_of(uid.begin(), uid.end(), [](char c) {
        const auto u = static_cast<unsigned char>(c);
        return u >= 0x21 && u <= 0x7E;
      })) {
    return protocol_error("invalid unique-id (1-70 characters 0x21-0x7E)", line);
  }
  entry.uid = std::string(uid);
  return entry;
}

bool Capabilities::has_sasl(std::string_view mechanism) const {
  return std::any_of(sasl.begin(), sasl.end(),
                     [mechanism](const std::string& m) { return iequals(m, mechanism); });
}

Capabilities parse_capabilities(const std::vector<std::string>& lines) {
  Capabilities caps;
  caps.known = true;
  caps.lines = lines;
  for (const std::string& line : lines) {
    std::string_view rest = line;
    const std::string name = upper(next_token(rest));
    if (name == "TOP") {
      caps.top = true;
    } else if (name == "USER") {
      caps.user = true;
    } else if (name == "UIDL") {
      caps.uidl = true;
    } else if (name == "STLS") {
      caps.stls = true;
    } else if (name == "PIPELINING") {
      caps.pipelining = true;
    } else if (name == "RESP-CODES") {
      caps.resp_codes = true;
    } else if (name == "AUTH-RESP-CODE") {
      caps.auth_resp_code = true;
    } else if (name == "SASL") {
      while (!rest.empty()) {
        if (auto mech = next_token(rest); !mech.empty()) {
          caps.sasl.push_back(upper(mech));
        }
      }
    }
  }
  return caps;
}

std::optional<std::string> apop_timestamp(std::string_view greeting_text) {
  std::size_t pos = 0;
  while ((pos = greeting_text.find('<', pos)) != std::string_view::npos) {
    const auto close = greeting_text.find('>', pos);
    if (close == std::string_view::npos) {
      return std::nullopt;
    }
    const std::string_view inner = greeting_text.substr(pos + 1, close - pos - 1);
    const bool valid = inner.find('@') != std::string_view::npos &&
                       std::all_of(inner.begin(), inner.end(), [](char c) {
                         const auto u = static_cast<unsigned char>(c);
                         return u > 0x20 && u < 0x7F && c != '<';
                       });
    if (valid) {
      return std::string(greeting_text.substr(pos, close - pos + 1));
    }
    pos += 1;
  }
  return std::nullopt;
}

std::string apop_digest(std::string_view timestamp, std::string_view password) {
  std::string input(timestamp);
  input.append(password);
  return crypto::md5_hex(input);
}

std::string base64_encode(std::string_view bytes) {
  static constexpr std::string_view kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const std::uint32_t v = (std::uint32_t{static_cast<unsigned char>(bytes[i])} << 16) |
                            (std::uint32_t{static_cast<unsigned char>(bytes[i + 1])} << 8) |
                            std::uint32_t{static_cast<unsigned char>(bytes[i + 2])};
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  if (const std::size_t left = bytes.size() - i; left > 0) {
    std::uint32_t v = std::uint32_t{static_cast<unsigned char>(bytes[i])} << 16;
    if (left == 2) {
      v |= std::uint32_t{static_cast<unsigned char>(bytes[i + 1])} << 8;
    }
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += left == 2 ? kAlphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

std::string sasl_plain_response(std::string_view user, std::string_view password) {
  std::string message;
  message.reserve(user.size() + password.size() + 2);
  message += '\0';
  message.append(user);
  message += '\0';
  message.append(password);
  return base64_encode(message);
}

}  // namespace mailvault::ingest::pop3
