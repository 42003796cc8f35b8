// mailvault.v1.AdminService: users of the archive (create, list, delete). Admin tokens only;
// work runs on the caller's executor.
#pragma once

#include <memory>

#include "core/base/thread_pool.h"
#include "core/users/user_store.h"

namespace grpc {
class Service;
}

namespace mailvault::api {

class Authenticator;

std::unique_ptr<grpc::Service> make_admin_service(users::UserStore& store, Authenticator& auth,
                                                  ThreadPool& executor);

}  // namespace mailvault::api
