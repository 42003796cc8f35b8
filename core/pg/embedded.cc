#include "core/pg/embedded.h"

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <sstream>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "core/base/log.h"
#include "core/pg/pool.h"

namespace mailvault::pg {
namespace {

namespace fs = std::filesystem;

struct RunResult {
  int exit_code = -1;
  std::string output;
};

struct Identity {
  uid_t uid;
  gid_t gid;
  std::string name;
};

// Runs argv, waiting for it; stdout+stderr go to `log`. When `as` is set (we are root), the
// child drops to that user first.
RunResult run(const std::vector<std::string>& argv, const std::optional<Identity>& as,
              const fs::path& log) {
  RunResult result;
  const pid_t pid = ::fork();
  if (pid < 0) {
    result.output = fmt::format("fork failed: {}", std::strerror(errno));
    return result;
  }
  if (pid == 0) {
    const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd >= 0) {
      if (as)
        (void)::fchown(fd, as->uid, as->gid);
      ::dup2(fd, STDOUT_FILENO);
      ::dup2(fd, STDERR_FILENO);
    }
    const int devnull = ::open("/dev/null", O_RDONLY);
    if (devnull >= 0)
      ::dup2(devnull, STDIN_FILENO);
    if (as) {
      if (::setgid(as->gid) != 0 || ::initgroups(as->name.c_str(), as->gid) != 0 ||
          ::setuid(as->uid) != 0) {
        std::fprintf(stderr, "cannot switch to user %s: %s\n", as->name.c_str(),
                     std::strerror(errno));
        ::_exit(126);
      }
    }
    std::vector<char*> args;
    args.reserve(argv.size() + 1);
    for (const auto& a : argv)
      args.push_back(const_cast<char*>(a.c_str()));  // NOLINT
    args.push_back(nullptr);
    ::execv(args[0], args.data());
    std::fprintf(stderr, "cannot run %s: %s\n", args[0], std::strerror(errno));
    ::_exit(127);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  std::ifstream in(log);
  std::stringstream ss;
  ss << in.rdbuf();
  result.output = ss.str();
  return result;
}

std::string tail(const std::string& text, std::size_t max_lines = 8) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty())
      lines.push_back(line);
  }
  std::string out;
  const std::size_t from = lines.size() > max_lines ? lines.size() - max_lines : 0;
  for (std::size_t i = from; i < lines.size(); ++i)
    out += (out.empty() ? "" : " | ") + lines[i];
  return out;
}

Result<fs::path> find_bin_dir() {
  if (const char* env = std::getenv("MAILVAULT_PG_BINDIR"); env != nullptr && *env != '\0') {
    return fs::path(env);
  }
  for (const char* v : {"15", "16", "17", "14", "13"}) {
    fs::path p = fs::path("/usr/lib/postgresql") / v / "bin";
    std::error_code ec;
    if (fs::exists(p / "pg_ctl", ec))
      return p;
  }
  return make_error(Code::kFailedPrecondition,
                    "PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin (install "
                    "postgresql-15, run scripts/install-deps, or set MAILVAULT_PG_BINDIR)");
}

Status chown_tree(const fs::path& p, const Identity& id) {
  if (::chown(p.c_str(), id.uid, id.gid) != 0) {
    return make_error(Code::kPermissionDenied,
                      fmt::format("chown {} to {}: {}", p.string(), id.name, std::strerror(errno)));
  }
  return {};
}

// Every ancestor must let `id` traverse it, or initdb fails with an obscure error.
Status check_reachable(const fs::path& dir, const Identity& id) {
  for (fs::path p = dir; !p.empty() && p != p.root_path(); p = p.parent_path()) {
    struct stat st {};

    if (::stat(p.c_str(), &st) != 0)
      continue;
    const bool ok = st.st_uid == id.uid   ? (st.st_mode & S_IXUSR) != 0
                    : st.st_gid == id.gid ? (st.st_mode & S_IXGRP) != 0
                                          : (st.st_mode & S_IXOTH) != 0;
    if (!ok) {
      return make_error(
          Code::kFailedPrecondition,
          fmt::format("the embedded PostgreSQL runs as user '{}', which cannot enter {} "
                      "(mode {:o}); choose a --data-dir it can reach (e.g. "
                      "/var/lib/mailvault) or run: chmod o+x {}",
                      id.name, p.string(), st.st_mode & 07777, p.string()));
    }
  }
  return {};
}

// A live (not zombie) process named postgres/postmaster.
bool process_is_postgres(pid_t pid) {
  {
    // /proc/<pid>/stat: "pid (comm) S ..."; a zombie (Z) or dead (X) process is gone for us,
    // though kill(pid, 0) and `pg_ctl status` still see it until its parent reaps it.
    std::ifstream stat(fmt::format("/proc/{}/stat", pid));
    std::string line;
    std::getline(stat, line);
    const auto close = line.rfind(')');
    if (close == std::string::npos || close + 2 >= line.size())
      return false;
    const char state = line[close + 2];
    if (state == 'Z' || state == 'X')
      return false;
  }
  std::ifstream comm(fmt::format("/proc/{}/comm", pid));
  std::string name;
  std::getline(comm, name);
  return name.rfind("postgres", 0) == 0 || name.rfind("postmaster", 0) == 0;
}

// Lock files left by a crash (postmaster.pid, and the socket's .s.PGSQL.5432.lock) name the
// postmaster's PID. postgres itself copes when that PID is gone, but not when it was reused by
// another program or is a zombie nobody reaped. Remove the file in those cases.
void remove_stale_lock_file(const fs::path& lock_file) {
  std::ifstream in(lock_file);
  if (!in)
    return;
  long pid = 0;
  in >> pid;
  if (pid <= 0)
    return;
  const bool alive = ::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM;
  if (alive && process_is_postgres(static_cast<pid_t>(pid)))
    return;
  std::error_code ec;
  fs::remove(lock_file, ec);
  spdlog::warn("removed stale {} (pid {} is {})", lock_file.string(), pid,
               alive ? "not a running postgres" : "not running");
}

}  // namespace

Result<std::unique_ptr<EmbeddedPostgres>> EmbeddedPostgres::start(const fs::path& data_dir) {
  auto bin = find_bin_dir();
  if (!bin)
    return bin.error();
  std::unique_ptr<EmbeddedPostgres> pg(new EmbeddedPostgres());
  pg->bin_dir_ = *bin;
  pg->root_ = fs::absolute(data_dir) / "postgres";
  const fs::path data = pg->root_ / "data";
  const fs::path run_dir = pg->root_ / "run";
  const fs::path log_file = pg->root_ / "postgres.log";
  const fs::path cmd_log = pg->root_ / "pg_ctl.log";

  if ((run_dir / ".s.PGSQL.5432").string().size() >= 107) {
    return make_error(Code::kInvalidArgument,
                      fmt::format("--data-dir {} is too long for a Unix socket path (limit about "
                                  "80 characters)",
                                  data_dir.string()));
  }

  std::optional<Identity> as;
  if (::geteuid() == 0) {
    const char* env = std::getenv("MAILVAULT_PG_USER");
    const std::string user = env != nullptr && *env != '\0' ? env : "postgres";
    const passwd* pw = ::getpwnam(user.c_str());
    if (pw == nullptr) {
      return make_error(
          Code::kFailedPrecondition,
          fmt::format("running as root, the embedded PostgreSQL needs an unprivileged "
                      "user '{}', which does not exist (install postgresql-15 or set "
                      "MAILVAULT_PG_USER)",
                      user));
    }
    as = Identity{pw->pw_uid, pw->pw_gid, user};
    pg->run_as_ = user;
  }

  std::error_code ec;
  fs::create_directories(pg->root_, ec);
  fs::create_directories(run_dir, ec);
  if (ec) {
    return make_error(Code::kUnavailable,
                      fmt::format("cannot create {}: {}", pg->root_.string(), ec.message()));
  }
  fs::permissions(pg->root_, fs::perms::owner_all, ec);
  fs::permissions(run_dir, fs::perms::owner_all, ec);
  if (as) {
    // data-dir: root-owned, group of the postgres user may traverse (0710); postgres/ is theirs.
    const fs::path top = fs::absolute(data_dir);
    if (::chown(top.c_str(), 0, as->gid) != 0 || ::chmod(top.c_str(), 0710) != 0) {
      return make_error(Code::kPermissionDenied,
                        fmt::format("cannot set up {}: {}", top.string(), std::strerror(errno)));
    }
    if (auto st = check_reachable(top.parent_path(), *as); !st)
      return st.error();
    for (const auto& p : {pg->root_, run_dir}) {
      if (auto st = chown_tree(p, *as); !st)
        return st.error();
    }
  }

  const std::string pg_ctl = (pg->bin_dir_ / "pg_ctl").string();
  if (!fs::exists(data / "PG_VERSION", ec)) {
    spdlog::info("initialising embedded PostgreSQL in {}", data.string());
    fs::remove_all(data, ec);  // a half-done initdb from an interrupted first start
    auto r = run({(pg->bin_dir_ / "initdb").string(), "-D", data.string(), "-U", "mailvault",
                  "--auth=trust", "-E", "UTF8", "--no-locale", "--no-instructions"},
                 as, cmd_log);
    if (r.exit_code != 0) {
      return make_error(Code::kUnavailable,
                        fmt::format("initdb failed ({}): {}", r.exit_code, tail(r.output)));
    }
    std::ofstream conf(data / "postgresql.conf", std::ios::app);
    conf << "\n# mailvault embedded defaults: Unix socket only, private socket directory\n"
         << "listen_addresses = ''\n"
         << "unix_socket_directories = '" << run_dir.string() << "'\n"
         << "unix_socket_permissions = 0700\n"
         << "max_connections = 60\n"
         << "shared_buffers = 128MB\n"
         << "logging_collector = off\n";
  }

  remove_stale_lock_file(data / "postmaster.pid");
  remove_stale_lock_file(run_dir / ".s.PGSQL.5432.lock");
  auto status = run({pg_ctl, "status", "-D", data.string()}, as, cmd_log);
  if (status.exit_code == 0) {
    spdlog::info("embedded PostgreSQL already running (left by an earlier run); reusing it");
  } else {
    pg->started_here_ = true;
    auto r = run({pg_ctl, "start", "-w", "-t", "120", "-D", data.string(), "-l", log_file.string()},
                 as, cmd_log);
    if (r.exit_code != 0) {
      std::ifstream lf(log_file);
      std::stringstream ss;
      ss << lf.rdbuf();
      return make_error(Code::kUnavailable, fmt::format("embedded PostgreSQL did not start: {} {}",
                                                        tail(r.output, 3), tail(ss.str(), 5)));
    }
  }
  pg->running_ = true;

  // Wait until it accepts connections, then make sure the mailvault database exists.
  const std::string base = fmt::format("host='{}' user=mailvault", run_dir.string());
  for (int attempt = 0;; ++attempt) {
    try {
      pqxx::connection c(base + " dbname=postgres");
      pqxx::nontransaction nt(c);
      if (nt.exec("SELECT 1 FROM pg_database WHERE datname = 'mailvault'").empty()) {
        nt.exec0("CREATE DATABASE mailvault");
      }
      break;
    } catch (const std::exception& e) {
      if (attempt >= 100) {
        return make_error(
            Code::kUnavailable,
            fmt::format("embedded PostgreSQL does not accept connections: {}", e.what()));
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
  pg->conninfo_ = base + " dbname=mailvault";
  spdlog::info("embedded PostgreSQL ready (socket in {})", run_dir.string());
  return pg;
}

void EmbeddedPostgres::stop() {
  if (!running_ || !started_here_)
    return;
  running_ = false;
  std::optional<Identity> as;
  if (!run_as_.empty()) {
    if (const passwd* pw = ::getpwnam(run_as_.c_str()); pw != nullptr) {
      as = Identity{pw->pw_uid, pw->pw_gid, run_as_};
    }
  }
  auto r = run(
      {(bin_dir_ / "pg_ctl").string(), "stop", "-w", "-m", "fast", "-D", (root_ / "data").string()},
      as, root_ / "pg_ctl.log");
  if (r.exit_code != 0) {
    spdlog::warn("stopping embedded PostgreSQL: {}", tail(r.output, 3));
  } else {
    spdlog::info("embedded PostgreSQL stopped");
  }
}

EmbeddedPostgres::~EmbeddedPostgres() {
  stop();
}

}  // namespace mailvault::pg
