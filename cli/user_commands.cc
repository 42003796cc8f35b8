// `mailvault user add|list|remove`: AdminService over gRPC.
#include <iostream>

#include <fmt/format.h>
#include <grpcpp/grpcpp.h>

#include "cli/client_commands.h"
#include "mailvault/v1/admin.grpc.pb.h"

#include <nlohmann/json.hpp>

namespace mailvault::cli {
namespace {

namespace pb = mailvault::v1;

nlohmann::json user_json(const pb::User& u) {
  return {{"name", u.name()},
          {"role", u.role()},
          {"addresses", std::vector<std::string>(u.addresses().begin(), u.addresses().end())},
          {"accounts", std::vector<std::string>(u.accounts().begin(), u.accounts().end())},
          {"created_at", u.created_at()}};
}

std::string dump(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

int run_user_add(const ClientOptions& client_options, const UserAddOptions& o) {
  if (!o.password_stdin)
    return fail("give the password on stdin with --password-stdin (never on the command line)");
  std::string password;
  std::getline(std::cin, password);
  while (!password.empty() && (password.back() == '\r' || password.back() == '\n'))
    password.pop_back();
  if (password.empty())
    return fail("the password on stdin is empty");
  auto client = Client::connect(client_options);
  if (!client)
    return fail(client.error());
  auto stub = pb::AdminService::NewStub(client->channel());
  pb::CreateUserRequest req;
  req.set_name(o.name);
  req.set_role(o.role);
  req.set_password(password);
  for (const auto& a : o.addresses)
    req.add_addresses(a);
  for (const auto& a : o.accounts)
    req.add_accounts(a);
  grpc::ClientContext ctx;
  client->prepare(ctx, 60);
  pb::User resp;
  auto status = stub->CreateUser(&ctx, req, &resp);
  if (!status.ok())
    return fail(status.error_message());
  if (o.json)
    std::cout << dump(user_json(resp)) << "\n";
  else
    std::cout << fmt::format("user {} added (role {})\n", resp.name(), resp.role());
  return 0;
}

int run_user_list(const ClientOptions& client_options, bool json) {
  auto client = Client::connect(client_options);
  if (!client)
    return fail(client.error());
  auto stub = pb::AdminService::NewStub(client->channel());
  grpc::ClientContext ctx;
  client->prepare(ctx, 60);
  pb::ListUsersResponse resp;
  auto status = stub->ListUsers(&ctx, pb::ListUsersRequest{}, &resp);
  if (!status.ok())
    return fail(status.error_message());
  for (const auto& u : resp.users()) {
    if (json) {
      std::cout << dump(user_json(u)) << "\n";
      continue;
    }
    std::cout << fmt::format("{}  {}", u.name(), u.role());
    if (!u.addresses().empty())
      std::cout << fmt::format("  addresses: {}", fmt::join(u.addresses(), ", "));
    if (!u.accounts().empty())
      std::cout << fmt::format("  accounts: {}", fmt::join(u.accounts(), ", "));
    std::cout << "\n";
  }
  return 0;
}

int run_user_remove(const ClientOptions& client_options, const std::string& name) {
  auto client = Client::connect(client_options);
  if (!client)
    return fail(client.error());
  auto stub = pb::AdminService::NewStub(client->channel());
  grpc::ClientContext ctx;
  client->prepare(ctx, 60);
  pb::DeleteUserRequest req;
  req.set_name(name);
  pb::DeleteUserResponse resp;
  auto status = stub->DeleteUser(&ctx, req, &resp);
  if (!status.ok())
    return fail(status.error_message());
  std::cout << fmt::format("user {} removed\n", name);
  return 0;
}

}  // namespace mailvault::cli
