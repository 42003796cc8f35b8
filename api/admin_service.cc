#include "api/admin_service.h"

#include "api/auth.h"
#include "mailvault/v1/admin.grpc.pb.h"

namespace mailvault::api {
namespace {

namespace pb = mailvault::v1;

void fill_user(const users::User& u, pb::User* out) {
  out->set_id(u.id);
  out->set_name(u.spec.name);
  out->set_role(u.spec.role);
  for (const auto& a : u.spec.addresses)
    out->add_addresses(a);
  for (const auto& a : u.spec.accounts)
    out->add_accounts(a);
  out->set_created_at(u.created_at);
}

class AdminServiceImpl final : public pb::AdminService::CallbackService {
 public:
  AdminServiceImpl(users::UserStore& store, Authenticator& auth, ThreadPool& executor)
      : store_(store), auth_(auth), executor_(executor) {}

  grpc::ServerUnaryReactor* CreateUser(grpc::CallbackServerContext* ctx,
                                       const pb::CreateUserRequest* req, pb::User* resp) override {
    return run(ctx, [this, req, resp]() -> Status {
      users::UserSpec spec;
      spec.name = req->name();
      spec.role = req->role().empty() ? "user" : req->role();
      spec.addresses.assign(req->addresses().begin(), req->addresses().end());
      spec.accounts.assign(req->accounts().begin(), req->accounts().end());
      auto user = store_.add(spec, req->password());
      if (!user)
        return user.error();
      fill_user(*user, resp);
      return ok_status();
    });
  }

  grpc::ServerUnaryReactor* ListUsers(grpc::CallbackServerContext* ctx,
                                      const pb::ListUsersRequest* /*req*/,
                                      pb::ListUsersResponse* resp) override {
    return run(ctx, [this, resp]() -> Status {
      auto list = store_.list();
      if (!list)
        return list.error();
      for (const auto& u : *list)
        fill_user(u, resp->add_users());
      return ok_status();
    });
  }

  grpc::ServerUnaryReactor* DeleteUser(grpc::CallbackServerContext* ctx,
                                       const pb::DeleteUserRequest* req,
                                       pb::DeleteUserResponse* /*resp*/) override {
    return run(ctx, [this, req]() -> Status { return store_.remove(req->name()); });
  }

 private:
  template <typename F>
  grpc::ServerUnaryReactor* run(grpc::CallbackServerContext* ctx, F&& body) {
    auto* reactor = ctx->DefaultReactor();
    executor_.submit([this, ctx, reactor, body = std::forward<F>(body)]() mutable {
      auto who = auth_.check(ctx);
      if (!who) {
        reactor->Finish(to_status(who.error()));
        return;
      }
      if (who->role != "admin") {
        reactor->Finish(
            to_status(make_error(Code::kPermissionDenied, "user management needs an admin token")));
        return;
      }
      auto st = body();
      reactor->Finish(st ? grpc::Status::OK : to_status(st.error()));
    });
    return reactor;
  }

  users::UserStore& store_;
  Authenticator& auth_;
  ThreadPool& executor_;
};

}  // namespace

std::unique_ptr<grpc::Service> make_admin_service(users::UserStore& store, Authenticator& auth,
                                                  ThreadPool& executor) {
  return std::make_unique<AdminServiceImpl>(store, auth, executor);
}

}  // namespace mailvault::api
