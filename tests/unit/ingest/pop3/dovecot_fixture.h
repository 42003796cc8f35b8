// A private Dovecot for C++ tests: runs `tests/integration/dovecot.py serve` (Debian's
// /usr/bin/python3) as a child process, reads its JSON line (ports, CA file, log), and sends it
// JSON commands over its stdin (append, served_messages, kill_pop3_processes, proxy, ...; see
// the docstring of dovecot.py). Closing stdin stops Dovecot and removes its directory.
//
//   std::string why;
//   auto dv = testing::DovecotServer::launch({"alice:pw"}, {}, why);
//   if (!dv) GTEST_SKIP() << why;            // Dovecot not installed
//   dv->call({{"cmd", "append"}, {"user", "alice"}, {"folder", "INBOX"}, {"generate", 10}});
//
// Not thread-safe; one owner.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

extern char** environ;  // NOLINT(readability-redundant-declaration)

namespace mailvault::ingest::testing {

class DovecotServer {
 public:
  struct Options {
    bool wrong_cert = false;
    bool apop = true;
  };

  // Starts Dovecot with `users` ("name:password"). nullptr with `skip_reason` set when
  // Dovecot, the POP3/IMAP daemons, openssl or /usr/bin/python3 are not installed; throws
  // std::runtime_error (with the harness's error and log path) when it is installed but does
  // not start.
  static std::unique_ptr<DovecotServer> launch(const std::vector<std::string>& users,
                                               Options options, std::string& skip_reason) {
    for (const char* path : {"/usr/bin/python3", "/usr/sbin/dovecot", "/usr/lib/dovecot/pop3",
                             "/usr/lib/dovecot/imap", "/usr/bin/openssl"}) {
      if (::access(path, X_OK) != 0) {
        skip_reason = std::string(path) +
                      " is not installed: these tests need Dovecot (dovecot-imapd, "
                      "dovecot-pop3d), openssl and Debian's python3 (scripts/install-deps)";
        return nullptr;
      }
    }
    const std::string script = script_path();
    if (::access(script.c_str(), R_OK) != 0) {
      skip_reason = "the Dovecot harness is not at " + script;
      return nullptr;
    }
    std::string workdir = (std::filesystem::temp_directory_path() / "mv-dovecot-XXXXXX").string();
    if (::mkdtemp(workdir.data()) == nullptr) {
      throw std::runtime_error("mkdtemp failed");
    }
    std::vector<std::string> args = {"/usr/bin/python3", script,  "serve",
                                     "--workdir",        workdir, "--cleanup"};
    for (const std::string& u : users) {
      args.emplace_back("--user");
      args.push_back(u);
    }
    if (options.wrong_cert) {
      args.emplace_back("--wrong-cert");
    }
    if (!options.apop) {
      args.emplace_back("--no-apop");
    }
    std::unique_ptr<DovecotServer> server(new DovecotServer());
    server->spawn(args);
    server->info_ = nlohmann::json::parse(server->read_line(std::chrono::seconds(120)));
    if (!server->info_.value("ok", false)) {
      throw std::runtime_error("dovecot.py serve failed: " + server->info_.dump());
    }
    return server;
  }

  DovecotServer(const DovecotServer&) = delete;
  DovecotServer& operator=(const DovecotServer&) = delete;
  DovecotServer(DovecotServer&&) = delete;
  DovecotServer& operator=(DovecotServer&&) = delete;

  ~DovecotServer() {
    if (to_child_ >= 0) {
      ::close(to_child_);  // EOF: serve stops Dovecot and removes the workdir
    }
    if (from_child_ >= 0) {
      ::close(from_child_);
    }
    if (pid_ > 0) {
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
      int status = 0;
      while (::waitpid(pid_, &status, WNOHANG) == 0) {
        if (std::chrono::steady_clock::now() > deadline) {
          ::kill(pid_, SIGKILL);
          ::waitpid(pid_, &status, 0);
          break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
    }
  }

  // One command; the reply object. Throws std::runtime_error when it says ok=false.
  nlohmann::json call(const nlohmann::json& command) {
    const std::string line = command.dump() + "\n";
    std::size_t done = 0;
    while (done < line.size()) {
      const ssize_t n = ::write(to_child_, line.data() + done, line.size() - done);
      if (n < 0 && errno == EINTR) {
        continue;
      }
      if (n <= 0) {
        throw std::runtime_error("dovecot.py is gone (write to its stdin failed)");
      }
      done += static_cast<std::size_t>(n);
    }
    auto reply = nlohmann::json::parse(read_line(std::chrono::seconds(600)));
    if (!reply.value("ok", false)) {
      throw std::runtime_error("dovecot.py " + command.value("cmd", std::string("?")) +
                               " failed: " + reply.dump() + " (log: " + log() + ")");
    }
    return reply;
  }

  [[nodiscard]] const nlohmann::json& info() const { return info_; }

  // "imap", "imaps", "pop3", "pop3s".
  [[nodiscard]] std::uint16_t port(const char* name) const {
    return info_.at(name).get<std::uint16_t>();
  }

  [[nodiscard]] std::string ca_file() const { return info_.at("ca_file").get<std::string>(); }

  [[nodiscard]] std::string log() const { return info_.value("log", std::string()); }

  static std::string script_path() {
    return (std::filesystem::path(MAILVAULT_TEST_DATA) / ".." / "integration" / "dovecot.py")
        .lexically_normal()
        .string();
  }

 private:
  DovecotServer() = default;

  void spawn(const std::vector<std::string>& args) {
    int in_pipe[2];
    int out_pipe[2];
    if (::pipe2(in_pipe, O_CLOEXEC) != 0 || ::pipe2(out_pipe, O_CLOEXEC) != 0) {
      throw std::runtime_error("pipe2 failed");
    }
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, in_pipe[0], 0);
    posix_spawn_file_actions_adddup2(&actions, out_pipe[1], 1);
    std::vector<char*> argv;
    argv.reserve(args.size() + 1);
    for (const std::string& a : args) {
      argv.push_back(
          const_cast<char*>(a.c_str()));  // NOLINT(cppcoreguidelines-pro-type-const-cast)
    }
    argv.push_back(nullptr);
    const int rc = ::posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    ::close(in_pipe[0]);
    ::close(out_pipe[1]);
    to_child_ = in_pipe[1];
    from_child_ = out_pipe[0];
    if (rc != 0) {
      pid_ = -1;
      throw std::runtime_error("posix_spawn of " + args[0] + " failed");
    }
  }

  std::string read_line(std::chrono::seconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (true) {
      if (const auto nl = pending_.find('\n'); nl != std::string::npos) {
        std::string line = pending_.substr(0, nl);
        pending_.erase(0, nl + 1);
        return line;
      }
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) {
        throw std::runtime_error("dovecot.py did not answer within " +
                                 std::to_string(timeout.count()) + " s");
      }
      pollfd p{from_child_, POLLIN, 0};
      const int ready = ::poll(&p, 1, static_cast<int>(left.count()));
      if (ready < 0 && errno == EINTR) {
        continue;
      }
      if (ready <= 0) {
        continue;
      }
      char buf[65536];
      const ssize_t n = ::read(from_child_, buf, sizeof buf);
      if (n < 0 && errno == EINTR) {
        continue;
      }
      if (n <= 0) {
        throw std::runtime_error("dovecot.py exited (see its stderr above)");
      }
      pending_.append(buf, static_cast<std::size_t>(n));
    }
  }

  pid_t pid_ = -1;
  int to_child_ = -1;
  int from_child_ = -1;
  std::string pending_;
  nlohmann::json info_;
};

}  // namespace mailvault::ingest::testing
