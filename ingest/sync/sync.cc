#include "ingest/sync/sync.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include <fmt/format.h>

extern char** environ;  // NOLINT: POSIX

namespace mailvault::ingest {

net::ConnectOptions connect_options(const accounts::Account& account, const SyncOptions& options) {
  const auto& spec = account.spec;
  net::ConnectOptions o;
  o.host = spec.host;
  o.port = spec.port;
  switch (spec.tls) {
    case accounts::Tls::kImplicit:
      o.tls = net::TlsMode::kImplicit;
      break;
    case accounts::Tls::kStartTls:
      o.tls = net::TlsMode::kStartTls;
      break;
    case accounts::Tls::kNone:
      o.tls = net::TlsMode::kNone;
      break;
  }
  o.verify_peer = spec.verify_tls;
  o.ca_file = spec.ca_file;
  o.connect_timeout = options.connect_timeout;
  o.io_timeout = options.io_timeout;
  return o;
}

Status sync_account(const SyncContext& ctx, SyncReport& report) {
  if (ctx.account.spec.protocol == accounts::Protocol::kPop3)
    return sync_pop3(ctx, report);
  return sync_imap(ctx, report);
}

namespace {

std::string trim_line(std::string s) {
  auto nl = s.find_first_of("\r\n");
  if (nl != std::string::npos)
    s.resize(nl);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
    s.pop_back();
  return s;
}

}  // namespace

Result<std::string> fetch_access_token(const accounts::Secret& secret,
                                       std::chrono::milliseconds timeout) {
  if (secret.token_command.empty()) {
    std::ifstream in{secret.token_file};
    if (!in)
      return make_error(Code::kUnavailable,
                        fmt::format("cannot read the access token file {}", secret.token_file));
    std::string line;
    std::getline(in, line);
    line = trim_line(line);
    if (line.empty())
      return make_error(Code::kUnavailable,
                        fmt::format("the access token file {} is empty", secret.token_file));
    return line;
  }
  int out[2];
  if (::pipe2(out, O_CLOEXEC) != 0)
    return make_error(Code::kInternal, "pipe failed");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  std::string cmd = secret.token_command;
  const char* argv[] = {"/bin/sh", "-c", cmd.c_str(), nullptr};
  pid_t pid = 0;
  int rc = posix_spawn(&pid, "/bin/sh", &actions, nullptr, const_cast<char* const*>(argv),
                       environ);  // NOLINT(cppcoreguidelines-pro-type-const-cast): POSIX API
  posix_spawn_file_actions_destroy(&actions);
  ::close(out[1]);
  if (rc != 0) {
    ::close(out[0]);
    return make_error(Code::kInternal, "cannot start the access token command");
  }
  std::string output;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  bool timed_out = false;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      timed_out = true;
      break;
    }
    pollfd p{out[0], POLLIN, 0};
    int n = ::poll(&p, 1, static_cast<int>(left.count()));
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      timed_out = n == 0;
      break;
    }
    char buf[4096];
    auto got = ::read(out[0], buf, sizeof buf);
    if (got <= 0)
      break;
    output.append(buf, static_cast<std::size_t>(got));
    if (output.size() > (64u << 10))
      break;
  }
  ::close(out[0]);
  if (timed_out)
    ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (timed_out)
    return make_error(Code::kDeadlineExceeded, "the access token command timed out");
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    return make_error(Code::kUnavailable,
                      fmt::format("the access token command failed (exit status {})",
                                  WIFEXITED(status) ? WEXITSTATUS(status) : -1));
  auto token = trim_line(output);
  if (token.empty())
    return make_error(Code::kUnavailable, "the access token command printed nothing");
  return token;
}

}  // namespace mailvault::ingest
