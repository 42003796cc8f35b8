// Shared pieces of the `mailvault` command line: data directory resolution and the gRPC client
// connection used by every client subcommand.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "core/base/result.h"

namespace grpc {
class Channel;
class ClientContext;
}  // namespace grpc

namespace mailvault::cli {

// --data-dir, else $MAILVAULT_DATA_DIR, else /var/lib/mailvault (root) or
// $XDG_DATA_HOME/mailvault (~/.local/share/mailvault).
std::filesystem::path default_data_dir();

struct ClientOptions {
  std::string data_dir;
  std::string server;  // --server / MAILVAULT_SERVER; else <data-dir>/grpc.address
  std::string token;   // --token / MAILVAULT_TOKEN; else <data-dir>/admin.token
};

class Client {
 public:
  // Resolves address and token and waits (up to 5 s) for the server to be reachable.
  static Result<Client> connect(const ClientOptions& options);

  std::shared_ptr<grpc::Channel> channel() const { return channel_; }

  // Sets the bearer token (and a deadline, if `timeout_s` > 0) on a call's context.
  void prepare(grpc::ClientContext& ctx, int timeout_s = 0) const;

  const std::string& address() const { return address_; }

 private:
  std::shared_ptr<grpc::Channel> channel_;
  std::string address_;
  std::string token_;
};

// Prints "mailvault: <message>" to stderr and returns the exit status for it.
int fail(const Error& error);
int fail(const std::string& message);

bool stdout_is_terminal();
bool stderr_is_terminal();

}  // namespace mailvault::cli
