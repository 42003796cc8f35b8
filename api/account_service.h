// mailvault.v1.AccountService: accounts of the ingest workers (create, list, get, delete,
// sync now, history). Admin tokens only. Work runs on the caller-provided executor, never on a
// gRPC thread.
#pragma once

#include <functional>
#include <memory>

#include "core/accounts/account_store.h"
#include "core/base/thread_pool.h"

namespace grpc {
class Service;
}

namespace mailvault::pg {
class Pool;
}

namespace mailvault::api {

class Authenticator;

// `on_change` is called after a create or a sync request (wakes this process's ingest workers).
std::unique_ptr<grpc::Service> make_account_service(accounts::AccountStore& store,
                                                    Authenticator& auth, ThreadPool& executor,
                                                    std::function<void()> on_change);

}  // namespace mailvault::api
