#include "core/base/files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

namespace mailvault {

Status write_file_atomically(const std::filesystem::path& path, std::string_view bytes,
                             mode_t mode) {
  auto tmp = path;
  tmp += ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) {
    return make_error(Code::kUnavailable, fmt::format("cannot create {}: {}", tmp.string(),
                                                      std::strerror(errno)));  // NOLINT
  }
  bool ok = ::fchmod(fd, mode) == 0;
  for (std::string_view rest = bytes; ok && !rest.empty();) {
    const auto n = ::write(fd, rest.data(), rest.size());
    if (n < 0 && errno == EINTR)
      continue;
    ok = n > 0;
    if (ok)
      rest.remove_prefix(static_cast<std::size_t>(n));
  }
  ok = ok && ::fsync(fd) == 0;
  const int saved = errno;
  ::close(fd);
  if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = ok ? errno : saved;
    ::unlink(tmp.c_str());
    return make_error(Code::kUnavailable, fmt::format("cannot write {}: {}", path.string(),
                                                      std::strerror(err)));  // NOLINT
  }
  return {};
}

}  // namespace mailvault
