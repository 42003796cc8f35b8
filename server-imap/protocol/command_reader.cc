#include "server-imap/protocol/command_reader.h"

#include <algorithm>
#include <limits>
#include <string>
#include <utility>

#include "server-imap/protocol/cursor.h"

namespace mailvault::imapd {
namespace {

constexpr std::uint64_t kHuge = std::numeric_limits<std::uint64_t>::max();

struct Announcement {
  bool found = false;
  std::uint64_t size = 0;  // kHuge when the digits overflow
  bool nonsync = false;
};

// Whether `line` (without CRLF) ends in {n}, {n+}, ~{n} or ~{n+}.
Announcement literal_announcement(std::string_view line) {
  Announcement a;
  if (line.empty() || line.back() != '}') {
    return a;
  }
  std::size_t end = line.size() - 1;  // index of '}'
  if (end > 0 && line[end - 1] == '+') {
    a.nonsync = true;
    --end;
  }
  std::size_t begin = end;
  while (begin > 0 && line[begin - 1] >= '0' && line[begin - 1] <= '9') {
    --begin;
  }
  if (begin == end || begin == 0 || line[begin - 1] != '{') {
    return a;
  }
  std::uint64_t n = 0;
  for (std::size_t i = begin; i < end; ++i) {
    const auto digit = static_cast<std::uint64_t>(line[i] - '0');
    if (n > (kHuge - digit) / 10) {
      n = kHuge;
      break;
    }
    n = n * 10 + digit;
  }
  a.found = true;
  a.size = n;
  return a;
}

bool is_tag_char(char c) {
  return c != '+' && detail::is_astring_char(c) && static_cast<unsigned char>(c) < 0x80;
}

struct Identity {
  std::string tag;   // "" when the command does not start with a valid tag and a space
  std::string name;  // upper-cased; "UID FETCH" for UID commands
};

// The tag and command name of a (partial) command, from what is plainly there.
Identity identify(std::string_view command) {
  Identity id;
  std::size_t i = 0;
  while (i < command.size() && i < 64 && is_tag_char(command[i])) {
    ++i;
  }
  if (i == 0 || i >= command.size() || command[i] != ' ') {
    return id;
  }
  id.tag = std::string(command.substr(0, i));
  std::size_t j = i + 1;
  auto word = [&]() {
    const std::size_t start = j;
    while (j < command.size() && j - start < 32 && detail::is_atom_char(command[j]) &&
           static_cast<unsigned char>(command[j]) < 0x80) {
      ++j;
    }
    return detail::ascii_upper(command.substr(start, j - start));
  };
  id.name = word();
  if (id.name == "UID" && j < command.size() && command[j] == ' ') {
    ++j;
    id.name += " " + word();
  }
  return id;
}

}  // namespace

CommandReader::CommandReader(Limits limits, std::vector<std::string> refused_literal_commands)
    : limits_(limits), refused_literal_commands_(std::move(refused_literal_commands)) {}

void CommandReader::feed(std::string_view bytes) {
  if (state_ == State::kClosed) {
    return;
  }
  if (in_pos_ > 0 && in_pos_ >= in_.size() / 2) {
    in_.erase(0, in_pos_);
    in_pos_ = 0;
  }
  in_.append(bytes);
}

void CommandReader::reset_command() {
  command_.clear();
  line_start_ = 0;
  text_bytes_ = 0;
  literal_left_ = 0;
  in_quote_ = false;
  escaped_ = false;
}

ReaderEvent CommandReader::refuse(ReadError error, std::string message, bool fatal) {
  ReaderEvent e;
  e.status = ReadStatus::kError;
  e.error = error;
  e.message = std::move(message);
  e.fatal = fatal;
  e.response_code = error == ReadError::kLiteralRefused ? "CANNOT" : "TOOBIG";
  const Identity id = identify(command_);
  e.tag = id.tag;
  e.command_name = id.name;
  reset_command();
  if (fatal) {
    state_ = State::kClosed;
    in_.clear();
    in_pos_ = 0;
  }
  return e;
}

ReaderEvent CommandReader::end_of_line() {
  // Only a CR of this line: a literal may end in CR, and the LF after it ends the command.
  if (command_.size() > line_start_ && command_.back() == '\r') {
    command_.pop_back();
    --text_bytes_;
  }
  if (text_bytes_ > limits_.max_line_bytes) {
    return refuse(ReadError::kLineTooLong, "command line too long", false);
  }
  Announcement a;
  if (!in_quote_) {
    const std::string_view command = command_;
    a = literal_announcement(command.substr(line_start_));
  }
  if (!a.found) {
    ReaderEvent e;
    e.status = ReadStatus::kCommand;
    e.command = std::move(command_);
    reset_command();
    return e;
  }
  const bool fatal = a.nonsync;
  if (a.nonsync && a.size > limits_.max_nonsync_literal_bytes) {
    return refuse(ReadError::kLiteralTooLarge,
                  "non-synchronising literal larger than " +
                      std::to_string(limits_.max_nonsync_literal_bytes) + " bytes",
                  true);
  }
  if (a.size > limits_.max_literal_bytes) {
    return refuse(ReadError::kLiteralTooLarge,
                  "literal larger than " + std::to_string(limits_.max_literal_bytes) + " bytes",
                  fatal);
  }
  if (a.size > limits_.max_command_bytes ||
      command_.size() + 2 > limits_.max_command_bytes - a.size) {
    return refuse(ReadError::kCommandTooLarge,
                  "command larger than " + std::to_string(limits_.max_command_bytes) + " bytes",
                  fatal);
  }
  if (!a.nonsync) {
    // Only a synchronising literal can be refused cleanly: its data has not been sent.
    const std::string name = identify(command_).name;
    for (const std::string& refused : refused_literal_commands_) {
      if (detail::iequals(name, refused)) {
        return refuse(ReadError::kLiteralRefused, name + " is not allowed on this server", false);
      }
    }
  }
  command_ += "\r\n";
  literal_left_ = a.size;
  state_ = State::kLiteral;
  in_quote_ = false;
  escaped_ = false;
  if (a.nonsync) {
    return ReaderEvent{};
  }
  ReaderEvent e;
  e.status = ReadStatus::kContinuation;
  e.literal_size = a.size;
  return e;
}

ReaderEvent CommandReader::next() {
  while (in_pos_ < in_.size()) {
    switch (state_) {
      case State::kClosed:
        in_.clear();
        in_pos_ = 0;
        return {};
      case State::kSkipLine: {
        const std::size_t lf = in_.find('\n', in_pos_);
        if (lf == std::string::npos) {
          in_pos_ = in_.size();
        } else {
          in_pos_ = lf + 1;
          state_ = State::kLine;
        }
        break;
      }
      case State::kLiteral: {
        const std::size_t take =
            static_cast<std::size_t>(std::min<std::uint64_t>(literal_left_, in_.size() - in_pos_));
        command_.append(in_, in_pos_, take);
        in_pos_ += take;
        literal_left_ -= take;
        if (literal_left_ == 0) {
          state_ = State::kLine;
          line_start_ = command_.size();
        }
        break;
      }
      case State::kLine: {
        const char c = in_[in_pos_++];
        if (c == '\n') {
          ReaderEvent e = end_of_line();
          if (e.status != ReadStatus::kNeedMore) {
            return e;
          }
          break;
        }
        // One byte of slack for the CR; end_of_line() checks the exact length.
        if (text_bytes_ > limits_.max_line_bytes || command_.size() > limits_.max_command_bytes) {
          const bool line = text_bytes_ > limits_.max_line_bytes;
          ReaderEvent e = refuse(line ? ReadError::kLineTooLong : ReadError::kCommandTooLarge,
                                 line ? "command line too long" : "command too large", false);
          state_ = State::kSkipLine;
          --in_pos_;  // the skip starts with this byte
          return e;
        }
        command_ += c;
        ++text_bytes_;
        if (in_quote_) {
          if (escaped_) {
            escaped_ = false;
          } else if (c == '\\') {
            escaped_ = true;
          } else if (c == '"') {
            in_quote_ = false;
          }
        } else if (c == '"') {
          in_quote_ = true;
        }
        break;
      }
    }
  }
  return {};
}

}  // namespace mailvault::imapd
