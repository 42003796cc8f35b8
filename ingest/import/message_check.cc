#include "ingest/import/message_check.h"

namespace mailvault::ingest {

namespace {

constexpr std::string_view kUtf8Bom = "\xEF\xBB\xBF";

}  // namespace

std::string_view skip_utf8_bom(std::string_view bytes) noexcept {
  if (bytes.starts_with(kUtf8Bom)) {
    bytes.remove_prefix(kUtf8Bom.size());
  }
  return bytes;
}

bool looks_like_header_field(std::string_view line) noexcept {
  std::size_t i = 0;
  while (i < line.size() && line[i] >= 33 && line[i] <= 126 && line[i] != ':') {
    ++i;
  }
  if (i == 0) {
    return false;
  }
  while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) {
    ++i;
  }
  return i < line.size() && line[i] == ':';
}

bool starts_with_from_line(std::string_view line) noexcept {
  return line.starts_with("From ");
}

std::optional<std::string> check_single_message(std::string_view bytes) {
  if (bytes.empty()) {
    return "empty file";
  }
  if (bytes.substr(0, kSniffBytes).find('\0') != std::string_view::npos) {
    return "not an RFC 5322 message (binary data)";
  }
  const std::string_view first = skip_utf8_bom(bytes);
  if (!looks_like_header_field(first) && !starts_with_from_line(first)) {
    return "not an RFC 5322 message (no header fields)";
  }
  return std::nullopt;
}

}  // namespace mailvault::ingest
