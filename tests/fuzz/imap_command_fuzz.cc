// libFuzzer entry point for the IMAP protocol layer (server-imap/protocol/).
// Build and run: scripts/fuzz (the `fuzz` preset: clang-14, -fsanitize=fuzzer,address,undefined).
//
// The input is a client byte stream. Properties checked (std::abort() on violation):
//   - CommandReader: the events are the same whether the stream is fed at once or in chunks
//     (of 1 to 13 bytes, from the input size); nothing stays buffered after the events.
//   - parse_command: no crash; a parsed command's sequence sets resolve to sorted, disjoint
//     ranges inside [1, largest]; FETCH response names and search trees render.
//   - ResponseWriter: every string argument written by the writer parses back to itself.
//   - Modified UTF-7: a name that decodes re-encodes to the same bytes (the encoding is
//     canonical), and any bytes encode to something that decodes.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/base/mutf7.h"
#include "server-imap/protocol/command_parser.h"
#include "server-imap/protocol/command_reader.h"
#include "server-imap/protocol/response_writer.h"
#include "server-imap/protocol/search_keys.h"
#include "server-imap/protocol/sequence_set.h"

namespace {

using namespace mailvault::imapd;
using mailvault::mutf7_decode;
using mailvault::mutf7_encode;

void check(bool ok) {
  if (!ok) {
    std::abort();
  }
}

std::string describe(const ReaderEvent& e) {
  std::string s(1, static_cast<char>('0' + static_cast<int>(e.status)));
  s += static_cast<char>('0' + static_cast<int>(e.error));
  s += e.fatal ? 'F' : '-';
  s += std::to_string(e.literal_size);
  s += '|';
  s += e.tag;
  s += '|';
  s += e.command_name;
  s += '|';
  s += e.command;
  return s;
}

std::vector<std::string> read_all(std::string_view input, const Limits& limits, std::size_t chunk,
                                  std::vector<std::string>* commands) {
  CommandReader reader(limits);
  std::vector<std::string> events;
  for (std::size_t i = 0; i < input.size(); i += chunk) {
    reader.feed(input.substr(i, chunk));
    for (ReaderEvent e = reader.next(); e.status != ReadStatus::kNeedMore; e = reader.next()) {
      if (e.status == ReadStatus::kCommand) {
        check(e.command.size() <= limits.max_command_bytes + limits.max_line_bytes);
        if (commands != nullptr) {
          commands->push_back(e.command);
        }
      }
      events.push_back(describe(e));
    }
    check(reader.buffered() == 0);
  }
  return events;
}

template <typename N>
void check_ranges(const std::vector<NumberRange<N>>& ranges, std::uint32_t largest) {
  std::uint32_t previous_last = 0;
  bool first = true;
  for (const auto& r : ranges) {
    const auto a = static_cast<std::uint32_t>(r.first);
    const auto b = static_cast<std::uint32_t>(r.last);
    check(a >= 1 && a <= b && b <= largest);
    check(first || a > previous_last + 1 || previous_last == 0xffffffffU);
    previous_last = b;
    first = false;
  }
}

void check_set(const SequenceSet& set) {
  if (set.is_saved()) {
    return;
  }
  for (const std::uint32_t largest : {0U, 1U, 7U, 0xffffffffU}) {
    if (set.is_uid()) {
      check_ranges(set.resolve(Uid{largest}), largest);
    } else {
      check_ranges(set.resolve(SeqNum{largest}), largest);
    }
  }
  (void)set.to_string();
}

// A string written by ResponseWriter must parse back as the same astring.
void round_trip(const std::string& s) {
  if (s.find('\0') != std::string::npos) {
    return;  // only literal8 may carry NUL, and LOGIN does not take one
  }
  for (const bool utf8 : {false, true}) {
    ResponseWriter w(WriterOptions{utf8, 64});
    w.string(s);
    const ParseResult r = parse_command("a LOGIN " + w.take() + " x");
    const auto* cmd = std::get_if<Command>(&r);
    check(cmd != nullptr);
    check(std::get<LoginCommand>(cmd->args).user == s);
  }
}

void inspect(const Command& cmd) {
  check(cmd.spec != nullptr);
  std::visit(
      [](const auto& args) {
        using T = std::decay_t<decltype(args)>;
        if constexpr (std::is_same_v<T, FetchCommand>) {
          check_set(args.set);
          for (const FetchItem& item : args.items) {
            check(!response_name(item).empty());
          }
        } else if constexpr (std::is_same_v<T, SearchCommand> || std::is_same_v<T, SortCommand> ||
                             std::is_same_v<T, ThreadCommand>) {
          check(!to_string(args.program.key).empty());
        } else if constexpr (std::is_same_v<T, LoginCommand>) {
          round_trip(args.user);
          round_trip(args.password);
        } else if constexpr (std::is_same_v<T, SelectCommand> ||
                             std::is_same_v<T, ExamineCommand> ||
                             std::is_same_v<T, StatusCommand>) {
          const std::string encoded = mutf7_encode(args.mailbox);
          check(mutf7_decode(encoded).has_value());
          if (const auto decoded = mutf7_decode(args.mailbox); decoded.has_value()) {
            check(mutf7_encode(*decoded) == args.mailbox);
          }
          round_trip(args.mailbox);
        } else if constexpr (std::is_same_v<T, CopyCommand> || std::is_same_v<T, MoveCommand> ||
                             std::is_same_v<T, StoreCommand>) {
          check_set(args.set);
        }
      },
      cmd.args);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // Seeds are plain client streams; the chunk size comes from the length, not from a byte.
  const std::size_t chunk = 1 + size % 13;
  const std::string_view input(reinterpret_cast<const char*>(data), size);

  // Default limits, and small ones so that every limit is reached by short inputs.
  Limits small;
  small.max_line_bytes = 200;
  small.max_literal_bytes = 100;
  small.max_nonsync_literal_bytes = 50;
  small.max_command_bytes = 400;
  small.max_nesting = 8;
  small.max_search_depth = 16;
  small.max_arguments = 40;
  for (const Limits& limits : {Limits{}, small}) {
    std::vector<std::string> commands;
    const std::vector<std::string> whole = read_all(input, limits, input.size() + 1, &commands);
    check(whole == read_all(input, limits, chunk, nullptr));
    for (const std::string& text : commands) {
      const ParseResult r = parse_command(text, limits);
      if (const auto* cmd = std::get_if<Command>(&r)) {
        inspect(*cmd);
      } else {
        const auto& e = std::get<CommandError>(r);
        check(!e.message.empty() && e.offset <= text.size());
        check(e.message.find_first_of("\r\n") == std::string::npos);
      }
    }
  }
  // The whole input as a mailbox name.
  if (const auto decoded = mutf7_decode(input); decoded.has_value()) {
    check(mutf7_encode(*decoded) == input);
  }
  return 0;
}
