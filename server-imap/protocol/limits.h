// Limits that protect the IMAP server from hostile or broken clients. One struct, shared by the
// command reader (bytes on the wire) and the command parser (structure of a command), so that a
// configuration file can set them in one place.
#pragma once

#include <cstddef>
#include <cstdint>

namespace mailvault::imapd {

struct Limits {
  // Bytes of command text outside literals, summed over every line of one command (a command
  // with literals spans several lines). Longer commands are refused and the reader skips to the
  // end of the line without buffering it.
  std::size_t max_line_bytes = std::size_t{64} * 1024;

  // Largest literal the reader accepts. Larger synchronising literals are refused at their
  // announcement ({n}), before the client sends a byte of them. A read-only server has no use
  // for large literals (it refuses APPEND), so 1 MiB is plenty for search strings.
  std::uint64_t max_literal_bytes = std::uint64_t{1024} * 1024;

  // Largest non-synchronising literal ({n+}). 4096 is RFC 7888 LITERAL-; a server that
  // advertises LITERAL+ sets this to max_literal_bytes. A larger non-synchronising literal is
  // fatal: the client sends the data without waiting, so the stream cannot be resynchronised.
  std::uint64_t max_nonsync_literal_bytes = 4096;

  // Whole command: line text plus every literal.
  std::uint64_t max_command_bytes = std::uint64_t{2} * 1024 * 1024;

  // Parenthesised lists nested inside one another (search keys, fetch items, ID, generic
  // extension values).
  int max_nesting = 64;

  // Search keys nested through OR, NOT and parentheses together. Bounds the recursion of the
  // search-key parser and of every visitor over the resulting tree.
  int max_search_depth = 256;

  // Arguments (atoms, strings, numbers, list elements, search keys) in one command.
  std::size_t max_arguments = 10000;
};

}  // namespace mailvault::imapd
