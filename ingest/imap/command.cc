#include "ingest/imap/command.h"

#include <algorithm>
#include <vector>

namespace mailvault::ingest::imap {

namespace {

constexpr std::size_t kMaxQuoted = 1024;
constexpr std::size_t kLiteralMinusMax = 4096;

bool is_atom_char(char c) noexcept {
  const auto u = static_cast<unsigned char>(c);
  if (u <= 0x20 || u >= 0x7f) {
    return false;
  }
  switch (c) {
    case '(':
    case ')':
    case '{':
    case '%':
    case '*':
    case '"':
    case '\\':
    case ']':
      return false;
    default:
      return true;
  }
}

}  // namespace

bool is_quotable(std::string_view value) noexcept {
  return value.size() <= kMaxQuoted && std::all_of(value.begin(), value.end(), [](char c) {
           const auto u = static_cast<unsigned char>(c);
           return u != 0 && u != '\r' && u != '\n' && u < 0x80;
         });
}

bool is_atom(std::string_view value) noexcept {
  return !value.empty() && std::all_of(value.begin(), value.end(), is_atom_char);
}

CommandBuilder::CommandBuilder(std::string tag, std::string_view name, LiteralMode mode)
    : mode_(mode) {
  command_.tag = std::move(tag);
  current_ = command_.tag;
  current_ += ' ';
  current_.append(name);
  command_.log_text = current_;
}

CommandBuilder& CommandBuilder::raw(std::string_view text, bool secret) {
  current_ += ' ';
  current_.append(text);
  command_.log_text += ' ';
  command_.log_text.append(secret ? std::string_view("***") : text);
  return *this;
}

CommandBuilder& CommandBuilder::astring(std::string_view value, bool secret) {
  const bool nil = value.size() == 3 && (value[0] | 0x20) == 'n' && (value[1] | 0x20) == 'i' &&
                   (value[2] | 0x20) == 'l';
  if (is_atom(value) && !nil) {
    current_ += ' ';
    current_.append(value);
    command_.log_text += secret ? std::string(" ***") : " " + std::string(value);
    return *this;
  }
  return string(value, secret);
}

CommandBuilder& CommandBuilder::string(std::string_view value, bool secret) {
  if (is_quotable(value)) {
    quoted(value, secret);
  } else {
    literal(value, secret);
  }
  return *this;
}

void CommandBuilder::quoted(std::string_view value, bool secret) {
  const std::size_t start = current_.size();
  current_ += " \"";
  for (char c : value) {
    if (c == '"' || c == '\\') {
      current_ += '\\';
    }
    current_ += c;
  }
  current_ += '"';
  command_.log_text += secret ? std::string(" \"***\"") : current_.substr(start);
}

void CommandBuilder::literal(std::string_view value, bool secret) {
  const bool non_sync = mode_ == LiteralMode::kLiteralPlus ||
                        (mode_ == LiteralMode::kLiteralMinus && value.size() <= kLiteralMinusMax);
  const std::string size = std::to_string(value.size());
  current_ += " {" + size + (non_sync ? "+" : "") + "}\r\n";
  if (!non_sync) {
    command_.parts.push_back(std::move(current_));
    current_.clear();
  }
  current_.append(value);
  command_.log_text += " {" + size + (secret ? " secret" : "") + " bytes}";
}

Command CommandBuilder::finish() {
  current_ += "\r\n";
  command_.parts.push_back(std::move(current_));
  current_.clear();
  Command out = std::move(command_);
  command_ = Command{};
  return out;
}

std::string format_uid_set(std::span<const std::uint32_t> uids) {
  std::vector<std::uint32_t> sorted(uids.begin(), uids.end());
  if (!std::is_sorted(sorted.begin(), sorted.end())) {
    std::sort(sorted.begin(), sorted.end());
  }
  sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
  std::string out;
  std::size_t i = 0;
  while (i < sorted.size()) {
    std::size_t j = i;
    while (j + 1 < sorted.size() && sorted[j + 1] == sorted[j] + 1) {
      ++j;
    }
    if (!out.empty()) {
      out += ',';
    }
    out += std::to_string(sorted[i]);
    if (j > i) {
      out += ':';
      out += std::to_string(sorted[j]);
    }
    i = j + 1;
  }
  return out;
}

}  // namespace mailvault::ingest::imap
