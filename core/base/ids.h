// Strong types for identifiers so that one kind of number cannot be passed for another.
#pragma once

#include <cstdint>

namespace mailvault {

// Archive-wide message identifier: the `messages.id` primary key (one per distinct SHA-256).
enum class MessageId : std::int64_t {};

constexpr std::int64_t to_int(MessageId id) noexcept {
  return static_cast<std::int64_t>(id);
}

}  // namespace mailvault
