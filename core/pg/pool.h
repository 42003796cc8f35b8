// PostgreSQL access: a pool of libpqxx connections (6.4 API). A connection is never shared
// between threads; a Lease returns it to the pool on destruction, or drops it if it broke.
// <pqxx/pqxx> is included by core/pg and the store modules only.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include <pqxx/pqxx>

#include "core/base/result.h"

namespace mailvault::pg {

class Pool {
 public:
  // Connects once to validate `url`; kUnavailable with libpq's reason when it cannot.
  static Result<std::unique_ptr<Pool>> open(std::string url, std::size_t max_connections);

  class Lease {
   public:
    Lease(Pool* pool, std::unique_ptr<pqxx::connection> conn)
        : pool_(pool), conn_(std::move(conn)) {}

    ~Lease();
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    Lease(Lease&& other) noexcept = default;
    Lease& operator=(Lease&&) = delete;

    pqxx::connection& conn() { return *conn_; }

   private:
    Pool* pool_;
    std::unique_ptr<pqxx::connection> conn_;
  };

  // Blocks until a connection is free; throws pqxx::broken_connection if none can be made.
  Lease acquire();

  const std::string& url() const { return url_; }

  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;
  Pool(Pool&&) = delete;
  Pool& operator=(Pool&&) = delete;
  ~Pool() = default;

 private:
  Pool(std::string url, std::size_t max) : url_(std::move(url)), max_(max) {}

  void give_back(std::unique_ptr<pqxx::connection> conn);

  std::string url_;
  std::size_t max_;
  std::mutex mu_;
  std::condition_variable available_;
  std::vector<std::unique_ptr<pqxx::connection>> idle_;
  std::size_t open_ = 0;
};

// Thrown inside a transaction body to roll it back with a specific code (e.g. a lost lease):
// write()/read() turn it into that Error.
class Abort : public std::runtime_error {
 public:
  Abort(Code code, const std::string& message) : std::runtime_error(message), code_(code) {}

  Code code() const noexcept { return code_; }

 private:
  Code code_;
};

// Converts a libpqxx exception to an Error (the one boundary for libpqxx exceptions).
Error to_error(const std::exception& e, std::string_view what);

// Runs body(tx) in a read-write transaction, committing at the end; retries up to 3 times on
// serialization failures and broken connections (body must be idempotent). Exceptions become
// Errors here.
template <typename F>
auto write(Pool& pool, std::string_view name, F&& body)
    -> Result<decltype(body(std::declval<pqxx::work&>()))> {
  using T = decltype(body(std::declval<pqxx::work&>()));
  for (int attempt = 1;; ++attempt) {
    try {
      auto lease = pool.acquire();
      pqxx::work tx{lease.conn(), std::string{name}};
      if constexpr (std::is_void_v<T>) {
        body(tx);
        tx.commit();
        return Result<void>{};
      } else {
        T value = body(tx);
        tx.commit();
        return value;
      }
    } catch (const pqxx::transaction_rollback& e) {
      if (attempt >= 3)
        return to_error(e, name);
    } catch (const pqxx::broken_connection& e) {
      if (attempt >= 3)
        return to_error(e, name);
    } catch (const std::exception& e) {
      return to_error(e, name);
    }
  }
}

// Like write() with a read-only transaction and no retries.
template <typename F>
auto read(Pool& pool, std::string_view name, F&& body)
    -> Result<decltype(body(std::declval<pqxx::read_transaction&>()))> {
  using T = decltype(body(std::declval<pqxx::read_transaction&>()));
  try {
    auto lease = pool.acquire();
    pqxx::read_transaction tx{lease.conn(), std::string{name}};
    if constexpr (std::is_void_v<T>) {
      body(tx);
      return Result<void>{};
    } else {
      return T(body(tx));
    }
  } catch (const std::exception& e) {
    return to_error(e, name);
  }
}

// bytea helpers (libpqxx 6.4 binarystring / escape).
std::string bytea_literal(pqxx::transaction_base& tx, std::string_view bytes);

}  // namespace mailvault::pg
