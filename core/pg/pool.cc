#include "core/pg/pool.h"

#include <fmt/format.h>

namespace mailvault::pg {

Result<std::unique_ptr<Pool>> Pool::open(std::string url, std::size_t max_connections) {
  std::unique_ptr<Pool> pool(new Pool(std::move(url), max_connections == 0 ? 1 : max_connections));
  try {
    auto conn = std::make_unique<pqxx::connection>(pool->url_);
    pool->idle_.push_back(std::move(conn));
    pool->open_ = 1;
  } catch (const std::exception& e) {
    return make_error(Code::kUnavailable,
                      fmt::format("cannot connect to PostgreSQL: {}", e.what()));
  }
  return pool;
}

Pool::Lease::~Lease() {
  if (conn_ && pool_ != nullptr)
    pool_->give_back(std::move(conn_));
}

Pool::Lease Pool::acquire() {
  std::unique_lock lock(mu_);
  for (;;) {
    if (!idle_.empty()) {
      auto conn = std::move(idle_.back());
      idle_.pop_back();
      return Lease(this, std::move(conn));
    }
    if (open_ < max_) {
      ++open_;
      lock.unlock();
      try {
        return Lease(this, std::make_unique<pqxx::connection>(url_));
      } catch (...) {
        lock.lock();
        --open_;
        available_.notify_one();
        throw;
      }
    }
    available_.wait(lock);
  }
}

void Pool::give_back(std::unique_ptr<pqxx::connection> conn) {
  std::lock_guard lock(mu_);
  if (conn->is_open()) {
    idle_.push_back(std::move(conn));
  } else {
    --open_;  // broken: dropped, a new one is made on demand
  }
  available_.notify_one();
}

Error to_error(const std::exception& e, std::string_view what) {
  if (const auto* abort = dynamic_cast<const Abort*>(&e); abort != nullptr) {
    return make_error(abort->code(), abort->what());
  }
  if (dynamic_cast<const pqxx::broken_connection*>(&e) != nullptr) {
    return make_error(Code::kUnavailable,
                      fmt::format("{}: database connection lost: {}", what, e.what()));
  }
  if (dynamic_cast<const pqxx::unique_violation*>(&e) != nullptr) {
    return make_error(Code::kAlreadyExists, fmt::format("{}: {}", what, e.what()));
  }
  if (dynamic_cast<const pqxx::transaction_rollback*>(&e) != nullptr) {
    return make_error(Code::kAborted, fmt::format("{}: {}", what, e.what()));
  }
  return make_error(Code::kInternal, fmt::format("{}: {}", what, e.what()));
}

std::string bytea_literal(pqxx::transaction_base& tx, std::string_view bytes) {
  return tx.esc_raw(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
}

}  // namespace mailvault::pg
