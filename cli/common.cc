#include "cli/common.h"

#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <iostream>

#include <fmt/format.h>
#include <grpcpp/grpcpp.h>

namespace mailvault::cli {

namespace fs = std::filesystem;

fs::path default_data_dir() {
  if (const char* env = std::getenv("MAILVAULT_DATA_DIR"); env != nullptr && *env != '\0')
    return env;
  if (::geteuid() == 0)
    return "/var/lib/mailvault";
  if (const char* xdg = std::getenv("XDG_DATA_HOME"); xdg != nullptr && *xdg != '\0') {
    return fs::path(xdg) / "mailvault";
  }
  const char* home = std::getenv("HOME");
  return fs::path(home != nullptr ? home : ".") / ".local/share/mailvault";
}

namespace {
std::string first_line(const fs::path& p) {
  std::ifstream in(p);
  std::string line;
  std::getline(in, line);
  while (!line.empty() && (line.back() == '\r' || line.back() == ' '))
    line.pop_back();
  return line;
}
}  // namespace

Result<Client> Client::connect(const ClientOptions& options) {
  const fs::path data_dir =
      options.data_dir.empty() ? default_data_dir() : fs::path(options.data_dir);
  Client c;
  c.address_ = options.server;
  if (c.address_.empty()) {
    if (const char* env = std::getenv("MAILVAULT_SERVER"); env != nullptr)
      c.address_ = env;
  }
  if (c.address_.empty())
    c.address_ = first_line(data_dir / "grpc.address");
  if (c.address_.empty())
    c.address_ = "127.0.0.1:50051";
  c.token_ = options.token;
  if (c.token_.empty()) {
    if (const char* env = std::getenv("MAILVAULT_TOKEN"); env != nullptr)
      c.token_ = env;
  }
  if (c.token_.empty()) {
    std::error_code ec;
    const fs::path token_file = data_dir / "admin.token";
    if (!fs::exists(token_file, ec)) {
      return make_error(Code::kUnauthenticated,
                        fmt::format("no API token: pass --token, set MAILVAULT_TOKEN, or point "
                                    "--data-dir at the server's data directory ({} not found)",
                                    token_file.string()));
    }
    c.token_ = first_line(token_file);
    if (c.token_.empty()) {
      return make_error(Code::kPermissionDenied,
                        fmt::format("cannot read the API token from {}", token_file.string()));
    }
  }
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(512 << 20);
  args.SetMaxSendMessageSize(512 << 20);
  c.channel_ = grpc::CreateCustomChannel(c.address_, grpc::InsecureChannelCredentials(), args);
  if (!c.channel_->WaitForConnected(std::chrono::system_clock::now() + std::chrono::seconds(5))) {
    return make_error(Code::kUnavailable,
                      fmt::format("cannot reach the mailvault server at {} (is `mailvault serve` "
                                  "running? use --server or --data-dir)",
                                  c.address_));
  }
  return c;
}

void Client::prepare(grpc::ClientContext& ctx, int timeout_s) const {
  ctx.AddMetadata("authorization", "Bearer " + token_);
  if (timeout_s > 0) {
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(timeout_s));
  }
}

int fail(const Error& error) {
  std::cerr << "mailvault: " << error.message << '\n';
  return 1;
}

int fail(const std::string& message) {
  std::cerr << "mailvault: " << message << '\n';
  return 1;
}

bool stdout_is_terminal() {
  return ::isatty(STDOUT_FILENO) == 1;
}

bool stderr_is_terminal() {
  return ::isatty(STDERR_FILENO) == 1;
}

}  // namespace mailvault::cli
