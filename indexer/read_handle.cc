#include "indexer/read_handle.h"

#include <system_error>

#include "indexer/schema.h"

namespace mailvault::index {

Result<bool> ReadHandle::ensure_open() {
  if (db_) {
    return true;
  }
  std::error_code ec;
  if (!std::filesystem::exists(dir_, ec)) {
    return false;
  }
  Result<bool> opened = xapian_try(context_, [&]() -> Result<bool> {
    Xapian::Database d(dir_.string());
    const std::string schema = d.get_metadata(std::string(kSchemaVersionKey));
    if (schema.empty() && d.get_doccount() == 0) {
      return false;  // being created
    }
    if (schema != std::to_string(kSchemaVersion)) {
      return Error{Code::kFailedPrecondition,
                   context_ + " has schema version " + (schema.empty() ? "(none)" : schema) +
                       " but this mailvault uses " + std::to_string(kSchemaVersion) +
                       ": run `mailvault reindex` to rebuild it"};
    }
    db_ = std::move(d);
    ++generation_;
    return true;
  });
  if (!opened && opened.error().code == Code::kNotFound) {
    return false;  // no database here yet
  }
  return opened;
}

}  // namespace mailvault::index
