// The gRPC front end: mailvault.v1.ArchiveService (callback API), grpc.health.v1 and server
// reflection. Handlers never block a gRPC thread: PostgreSQL, blob and Xapian work runs on a
// bounded executor, and the reactor finishes from there.
#pragma once

#include <filesystem>
#include <functional>
#include <memory>
#include <string>

#include "core/accounts/account_store.h"
#include "core/archive/archive.h"
#include "core/base/result.h"
#include "core/users/user_store.h"

namespace mailvault::pg {
class Pool;
}

namespace mailvault::api {

struct ServerOptions {
  std::string listen = "127.0.0.1:50051";
  std::filesystem::path index_dir;
  std::size_t executor_threads = 4;
  std::uint64_t max_message_size = 256ull << 20;
  // AccountService is served when set (borrowed); on_accounts_changed wakes the ingest workers.
  accounts::AccountStore* accounts = nullptr;
  std::function<void()> on_accounts_changed;
  // AdminService (users) is served when set (borrowed).
  users::UserStore* users = nullptr;
};

class Server {
 public:
  virtual ~Server() = default;
  Server() = default;
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;
  Server(Server&&) = delete;
  Server& operator=(Server&&) = delete;

  // The address actually bound (the port is resolved when the listen address used port 0).
  virtual std::string address() const = 0;
  // Stops accepting, finishes in-flight calls (up to a deadline) and waits.
  virtual void shutdown() = 0;
};

Result<std::unique_ptr<Server>> start_server(const ServerOptions& options, pg::Pool& pool,
                                             Archive& archive);

}  // namespace mailvault::api
