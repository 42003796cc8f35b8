// A private Dovecot for the IMAP client tests: runs tests/integration/dovecot.py serve (the one
// launcher of all tests) as a child process and talks to it over its stdin/stdout JSON protocol
// (see the docstring of dovecot.py). One instance per test binary, started on first use; tests
// that need it are skipped, with the reason, when it cannot start (no Dovecot installed).
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <regex>
#include <string>
#include <vector>

extern char** environ;

namespace mailvault::ingest::imap::testing {

class Dovecot {
 public:
  struct Served {
    std::uint32_t uid = 0;
    std::uint64_t size = 0;
    std::string sha256;
  };

  // The shared instance, or nullptr (then `skip_reason()` says why).
  static Dovecot* get() {
    static std::string reason;
    static std::unique_ptr<Dovecot> instance = start(reason);
    skip_reason_ = reason;
    return instance.get();
  }

  static const std::string& skip_reason() { return skip_reason_; }

  ~Dovecot() {
    if (to_child_ >= 0) {
      ::close(to_child_);  // EOF on stdin: dovecot.py stops Dovecot and exits
    }
    if (from_child_ != nullptr) {
      std::fclose(from_child_);
    }
    int status = 0;
    ::waitpid(pid_, &status, 0);
  }

  // One JSON command, one JSON reply line.
  std::string request(const std::string& json) {
    const std::string line = json + "\n";
    if (::write(to_child_, line.data(), line.size()) != static_cast<ssize_t>(line.size())) {
      return "{\"ok\": false, \"error\": \"write to dovecot.py failed\"}";
    }
    return read_line();
  }

  static bool ok(const std::string& reply) { return reply.rfind("{\"ok\": true", 0) == 0; }

  static std::string quote(const std::string& s) {
    std::string out = "\"";
    for (unsigned char c : s) {
      if (c == '"' || c == '\\') {
        out += '\\';
        out += static_cast<char>(c);
      } else if (c < 0x20) {
        char buf[8];
        std::snprintf(buf, sizeof buf, "\\u%04x", c);
        out += buf;
      } else {
        out += static_cast<char>(c);  // UTF-8 passes through (valid JSON)
      }
    }
    return out + "\"";
  }

  std::string add_user(const std::string& user, const std::string& password) {
    return request("{\"cmd\": \"add_user\", \"user\": " + quote(user) +
                   ", \"password\": " + quote(password) + "}");
  }

  std::string create_folder(const std::string& user, const std::string& folder) {
    return request("{\"cmd\": \"create_folder\", \"user\": " + quote(user) +
                   ", \"folder\": " + quote(folder) + "}");
  }

  std::string append_generated(const std::string& user, const std::string& folder, int count,
                               int seed, int size = 600, const std::string& method = "maildir") {
    return request("{\"cmd\": \"append\", \"user\": " + quote(user) +
                   ", \"folder\": " + quote(folder) + ", \"generate\": " + std::to_string(count) +
                   ", \"seed\": " + std::to_string(seed) + ", \"size\": " + std::to_string(size) +
                   ", \"method\": " + quote(method) + "}");
  }

  std::vector<Served> served_messages(const std::string& user, const std::string& folder,
                                      std::uint32_t* uidvalidity = nullptr) {
    const std::string reply = request("{\"cmd\": \"served_messages\", \"user\": " + quote(user) +
                                      ", \"folder\": " + quote(folder) + "}");
    std::vector<Served> out;
    static const std::regex kMessage(
        R"re(\{"uid": (\d+), "size": (\d+), "sha256": "([0-9a-f]{64})"\})re");
    for (auto it = std::sregex_iterator(reply.begin(), reply.end(), kMessage);
         it != std::sregex_iterator(); ++it) {
      out.push_back(
          {static_cast<std::uint32_t>(std::stoul((*it)[1])), std::stoull((*it)[2]), (*it)[3]});
    }
    if (uidvalidity != nullptr) {
      *uidvalidity = static_cast<std::uint32_t>(json_int(reply, "uidvalidity"));
    }
    return out;
  }

  // A proxy to the IMAP port that cuts each connection after `cut_after` bytes downstream.
  int cutting_proxy(std::size_t cut_after) {
    return static_cast<int>(
        json_int(request("{\"cmd\": \"proxy\", \"target\": \"imap\", \"cut_after\": " +
                         std::to_string(cut_after) + "}"),
                 "port"));
  }

  static long long json_int(const std::string& json, const std::string& key) {
    const std::regex re("\"" + key + "\": (-?\\d+)");
    std::smatch m;
    return std::regex_search(json, m, re) ? std::stoll(m[1]) : -1;
  }

  static std::string json_string(const std::string& json, const std::string& key) {
    const std::regex re("\"" + key + "\": \"([^\"]*)\"");
    std::smatch m;
    return std::regex_search(json, m, re) ? std::string(m[1]) : std::string();
  }

  std::uint16_t imap_port = 0;
  std::uint16_t imaps_port = 0;
  std::string ca_file;

 private:
  static std::unique_ptr<Dovecot> start(std::string& reason) {
    const std::string script = std::string(MAILVAULT_TEST_DATA) + "/../integration/dovecot.py";
    if (::access(script.c_str(), R_OK) != 0) {
      reason = "no " + script;
      return nullptr;
    }
    if (::access("/usr/sbin/dovecot", X_OK) != 0) {
      reason = "Dovecot is not installed (/usr/sbin/dovecot)";
      return nullptr;
    }
    char workdir[] = "/tmp/mv-imap-test-XXXXXX";
    if (::mkdtemp(workdir) == nullptr) {
      reason = "mkdtemp failed";
      return nullptr;
    }
    int in_pipe[2];
    int out_pipe[2];
    if (::pipe2(in_pipe, O_CLOEXEC) != 0 || ::pipe2(out_pipe, O_CLOEXEC) != 0) {
      reason = "pipe failed";
      return nullptr;
    }
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, in_pipe[0], 0);
    posix_spawn_file_actions_adddup2(&actions, out_pipe[1], 1);
    std::vector<std::string> args = {"/usr/bin/python3", script,  "serve",
                                     "--workdir",        workdir, "--cleanup"};
    std::vector<char*> argv;
    for (auto& a : args) {
      argv.push_back(a.data());
    }
    argv.push_back(nullptr);
    pid_t pid = 0;
    const int rc = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    ::close(in_pipe[0]);
    ::close(out_pipe[1]);
    if (rc != 0) {
      reason = "cannot run /usr/bin/python3";
      ::close(in_pipe[1]);
      ::close(out_pipe[0]);
      return nullptr;
    }
    std::unique_ptr<Dovecot> d(new Dovecot);
    d->pid_ = pid;
    d->to_child_ = in_pipe[1];
    d->from_child_ = ::fdopen(out_pipe[0], "r");
    const std::string hello = d->read_line();
    if (!d->ok(hello)) {
      reason = "dovecot.py serve failed: " + hello;
      return nullptr;
    }
    d->imap_port = static_cast<std::uint16_t>(json_int(hello, "imap"));
    d->imaps_port = static_cast<std::uint16_t>(json_int(hello, "imaps"));
    d->ca_file = json_string(hello, "ca_file");
    return d;
  }

  Dovecot() = default;

  std::string read_line() {
    std::string out;
    int c;
    while ((c = std::fgetc(from_child_)) != EOF && c != '\n') {
      out.push_back(static_cast<char>(c));
    }
    return out;
  }

  static inline std::string skip_reason_;
  pid_t pid_ = -1;
  int to_child_ = -1;
  FILE* from_child_ = nullptr;
};

}  // namespace mailvault::ingest::imap::testing
