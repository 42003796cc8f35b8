// Logging: spdlog, one process-wide logger writing to stderr. Use the MAILVAULT_LOG_* shorthands
// or spdlog's free functions (spdlog::info(...)); both go to the same sink.
#pragma once

#include <string_view>

#include <spdlog/spdlog.h>

namespace mailvault::log {

// Sets the level from a name (trace, debug, info, warn, error, off); returns false if unknown.
bool set_level(std::string_view name);
void init();  // idempotent; pattern "2026-01-01T00:00:00.000Z level message"

}  // namespace mailvault::log
