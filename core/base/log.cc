#include "core/base/log.h"

#include <mutex>
#include <string>

#include <spdlog/sinks/stdout_color_sinks.h>

namespace mailvault::log {

void init() {
  static std::once_flag once;
  std::call_once(once, [] {
    auto logger = spdlog::stderr_color_mt("mailvault");
    logger->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %^%l%$ %v", spdlog::pattern_time_type::utc);
    spdlog::set_default_logger(logger);
  });
}

bool set_level(std::string_view name) {
  const auto level = spdlog::level::from_str(std::string{name});
  if (level == spdlog::level::off && name != "off")
    return false;
  spdlog::set_level(level);
  return true;
}

}  // namespace mailvault::log
