#include "core/mime/library.h"

#include <mutex>

#include <gmime/gmime.h>

namespace mailvault::mime {

void ensure_gmime_initialized() noexcept {
  // g_mime_init() is not itself thread-safe (it fills global tables without a lock), and
  // calling it twice only bumps a counter that we would never balance: hence exactly once.
  static std::once_flag once;
  std::call_once(once, [] { g_mime_init(); });
}

}  // namespace mailvault::mime
