// Archive metadata of one stored message, as the indexer and the API see it (our own value
// type; rows of PostgreSQL never leave core/).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/base/ids.h"

namespace mailvault {

struct MessageMeta {
  MessageId id{};
  std::string sha256_hex;             // lower-case hex SHA-256 of the exact bytes
  std::uint64_t size = 0;             // RFC822.SIZE: the exact byte count
  std::int64_t archived_at = 0;       // seconds since the epoch (UTC), first time stored
  std::vector<std::string> accounts;  // source accounts it was seen in ("import" for files)
  std::vector<std::string> folders;   // source folders it was seen in
};

}  // namespace mailvault
