// Small file helpers shared by the places that write secrets and credentials (master key, admin
// token, TLS key): a file is replaced whole or not at all, with the mode it must have from its
// first byte on disk.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <string_view>

#include "core/base/result.h"

namespace mailvault {

// Writes `bytes` to `<path>.tmp` created with `mode` (and fchmod'ed to it, whatever the umask),
// fsyncs it and renames it over `path`. kUnavailable naming the file and the errno text on any
// failure (the temp file is removed). Thread-safe for distinct paths.
Status write_file_atomically(const std::filesystem::path& path, std::string_view bytes,
                             mode_t mode);

}  // namespace mailvault
