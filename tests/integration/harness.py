"""Shared machinery of the mailvault integration tests.

Everything here uses Debian's /usr/bin/python3 standard library plus the Debian packages
python3-grpcio, python3-protobuf and python3-grpc-tools.  It provides:

* paths and knobs from the environment (MAILVAULT_BIN, MAILVAULT_SOURCE_DIR,
  MAILVAULT_BUILD_DIR, MAILVAULT_TEST_PROFILE=sanitize, MAILVAULT_TEST_KEEP=1);
* ``Postgres``: a private PostgreSQL 15 cluster (initdb + pg_ctl, Unix socket only, run as the
  ``postgres`` user when we are root) and a ``psql -At`` helper;
* ``Server``: ``mailvault serve`` as a context manager, waiting for ``grpc.address``, with
  ``stop()`` (SIGTERM) and ``kill9()``;
* ``run_cli()`` and friends to run client commands with timeouts;
* ``GrpcClient``: Python stubs generated at test time from proto/mailvault/v1/archive.proto;
* ``MailvaultTestCase``: a unittest base class that prints the server's stderr tail (and other
  registered logs) when a test fails.

All network endpoints are bound to 127.0.0.1; PostgreSQL does not listen on TCP at all.
"""

import contextlib
import hashlib
import json
import os
import pwd
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest

PG_BIN = "/usr/lib/postgresql/15/bin"
PSQL = "/usr/bin/psql"
HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_DIR = os.path.abspath(os.environ.get("MAILVAULT_SOURCE_DIR") or os.path.join(HERE, "..", ".."))
BUILD_DIR = os.environ.get("MAILVAULT_BUILD_DIR", "")
PROFILE = os.environ.get("MAILVAULT_TEST_PROFILE", "")
KEEP = os.environ.get("MAILVAULT_TEST_KEEP", "") not in ("", "0")
LOG_LEVEL = os.environ.get("MAILVAULT_TEST_LOG_LEVEL", "debug")
GEN_CORPUS = os.path.join(SOURCE_DIR, "..", "shared", "bench", "gen_corpus.py")


def sanitized():
    """True under the ASan+UBSan profile (MAILVAULT_TEST_PROFILE=sanitize): 3-5x slower."""
    return PROFILE == "sanitize"


def scale(normal, sanitize):
    """Pick a volume: `normal` for the ordinary build, `sanitize` under the sanitizer profile."""
    return sanitize if sanitized() else normal


def slow(seconds):
    """A timeout in seconds, stretched under the sanitizer profile."""
    return seconds * 5 if sanitized() else seconds


def log(msg):
    sys.stderr.write("[harness %s] %s\n" % (time.strftime("%H:%M:%S"), msg))
    sys.stderr.flush()


def mailvault_bin():
    path = os.environ.get("MAILVAULT_BIN")
    if not path and BUILD_DIR:
        path = os.path.join(BUILD_DIR, "cli", "mailvault")
    if not path:
        raise RuntimeError("MAILVAULT_BIN is not set: point it at the built mailvault executable "
                           "(ctest sets it; by hand: MAILVAULT_BIN=build/<preset>/cli/mailvault)")
    if not os.access(path, os.X_OK):
        raise RuntimeError("MAILVAULT_BIN=%s is not an executable file (build it first)" % path)
    return path


def corpora_dir():
    """$MAILVAULT_SOURCE_DIR/../shared/corpora, or None when it is not there."""
    d = os.path.abspath(os.path.join(SOURCE_DIR, "..", "shared", "corpora"))
    return d if os.path.isfile(os.path.join(d, "MANIFEST.tsv")) else None


def require_corpora(test):
    d = corpora_dir()
    if d is None:
        test.skipTest("real-mail corpora not found at %s (expected $MAILVAULT_SOURCE_DIR/../shared/"
                      "corpora with MANIFEST.tsv); these tests need them" %
                      os.path.abspath(os.path.join(SOURCE_DIR, "..", "shared", "corpora")))
    return d


def sha256_hex(data):
    return hashlib.sha256(data).hexdigest()


def tail_text(path_or_bytes, lines=40, max_bytes=256 * 1024):
    if isinstance(path_or_bytes, (bytes, bytearray)):
        data = bytes(path_or_bytes[-max_bytes:])
    else:
        try:
            with open(path_or_bytes, "rb") as fh:
                fh.seek(0, os.SEEK_END)
                size = fh.tell()
                fh.seek(max(0, size - max_bytes))
                data = fh.read()
        except OSError as e:
            return "(cannot read %s: %s)" % (path_or_bytes, e)
    text = data.decode("utf-8", "replace").splitlines()
    return "\n".join(text[-lines:])


# --------------------------------------------------------------------------------------------
# temporary directories
# --------------------------------------------------------------------------------------------

_postgres_uid = None


def postgres_ids():
    """(uid, gid) of the `postgres` system user when we are root, else None."""
    global _postgres_uid
    if os.geteuid() != 0:
        return None
    if _postgres_uid is None:
        pw = pwd.getpwnam("postgres")
        _postgres_uid = (pw.pw_uid, pw.pw_gid)
    return _postgres_uid


def make_tempdir(prefix="mv-it-"):
    """A fresh directory under /tmp with mode 0755, so the postgres user can traverse it."""
    d = tempfile.mkdtemp(prefix=prefix, dir="/tmp")
    os.chmod(d, 0o755)
    return d


def remove_tree(path):
    if KEEP:
        log("MAILVAULT_TEST_KEEP: leaving %s" % path)
        return
    shutil.rmtree(path, ignore_errors=True)


def run_as_postgres(argv):
    """argv run as the postgres user when we are root (runuser), else as ourselves."""
    if postgres_ids() is not None:
        return ["runuser", "-u", "postgres", "--"] + list(argv)
    return list(argv)


# --------------------------------------------------------------------------------------------
# PostgreSQL
# --------------------------------------------------------------------------------------------

def psql(host, dbname, sql, user="mailvault", timeout=120, check=True):
    """Runs one SQL text with Debian's psql (-X -At, ON_ERROR_STOP); returns stdout as str.

    `host` is the Unix socket directory."""
    cmd = [PSQL, "-X", "-At", "-v", "ON_ERROR_STOP=1", "-h", host, "-U", user, "-d", dbname,
           "-c", sql]
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout,
                       stdin=subprocess.DEVNULL)
    if check and p.returncode != 0:
        raise RuntimeError("psql failed (%d) for %r: %s" % (p.returncode, sql[:200],
                                                            p.stderr.decode("utf-8", "replace")))
    return p.stdout.decode("utf-8", "replace")


class Postgres:
    """A private PostgreSQL 15 cluster: initdb into `root`/data, socket in `root`/sock, no TCP."""

    def __init__(self, root=None):
        self._own_root = root is None
        self.root = root or make_tempdir("mv-pg-")
        self.data = os.path.join(self.root, "data")
        self.sock = os.path.join(self.root, "sock")
        self.logfile = os.path.join(self.root, "postgres.log")
        self.user = "mailvault"
        self.running = False

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self):
        ids = postgres_ids()
        os.makedirs(self.sock, exist_ok=True)
        os.chmod(self.root, 0o755)
        if ids is not None:
            for p in (self.root, self.sock):
                os.chown(p, ids[0], ids[1])
        os.chmod(self.sock, 0o755)
        if not os.path.exists(os.path.join(self.data, "PG_VERSION")):
            self._run([os.path.join(PG_BIN, "initdb"), "-D", self.data, "-U", self.user,
                       "--auth=trust", "-E", "UTF8", "--no-locale", "--no-instructions", "-N"],
                      "initdb", timeout=180)
        # fsync off: the tests kill mailvault, never the machine; PostgreSQL itself stays up.
        opts = ("-c listen_addresses='' -k %s -c fsync=off -c full_page_writes=off "
                "-c max_connections=200 -c shared_buffers=128MB" % self.sock)
        self._run([os.path.join(PG_BIN, "pg_ctl"), "start", "-w", "-t", "120", "-D", self.data,
                   "-l", self.logfile, "-o", opts], "pg_ctl start", timeout=180)
        self.running = True
        return self

    def stop(self):
        if not self.running:
            return
        self.running = False
        try:
            self._run([os.path.join(PG_BIN, "pg_ctl"), "stop", "-w", "-t", "60", "-m", "fast",
                       "-D", self.data], "pg_ctl stop", timeout=120)
        except Exception as e:  # noqa: BLE001 - last resort below
            log("pg_ctl stop failed: %s; killing the postmaster" % e)
            pid = self.postmaster_pid()
            if pid:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)

    def cleanup(self):
        self.stop()
        if self._own_root:
            remove_tree(self.root)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.cleanup()
        return False

    def postmaster_pid(self):
        try:
            with open(os.path.join(self.data, "postmaster.pid")) as fh:
                return int(fh.readline().strip())
        except (OSError, ValueError):
            return None

    def _run(self, argv, what, timeout):
        p = subprocess.run(run_as_postgres(argv), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           timeout=timeout, stdin=subprocess.DEVNULL, cwd=self.root)
        if p.returncode != 0:
            raise RuntimeError("%s failed (%d): %s\n--- postgres.log ---\n%s" % (
                what, p.returncode, p.stdout.decode("utf-8", "replace")[-3000:],
                tail_text(self.logfile, 30)))
        return p

    # -- databases -----------------------------------------------------------------------------
    def create_database(self, name=None):
        """Creates a fresh database; returns its libpq conninfo for --database-url."""
        name = name or "mv_%08x" % random.getrandbits(32)
        self.query("CREATE DATABASE %s" % name, dbname="postgres")
        return self.conninfo(name)

    def conninfo(self, dbname):
        return "host=%s dbname=%s user=%s" % (self.sock, dbname, self.user)

    def query(self, sql, dbname="postgres", timeout=120):
        return psql(self.sock, dbname, sql, user=self.user, timeout=timeout)


def conninfo_parts(conninfo):
    """{'host': ..., 'dbname': ..., 'user': ...} from a simple key=value conninfo."""
    out = {}
    for item in conninfo.split():
        k, _, v = item.partition("=")
        out[k] = v.strip("'")
    return out


def query_conninfo(conninfo, sql, timeout=120):
    parts = conninfo_parts(conninfo)
    return psql(parts["host"], parts.get("dbname", "postgres"), sql,
                user=parts.get("user", "mailvault"), timeout=timeout)


# --------------------------------------------------------------------------------------------
# mailvault serve
# --------------------------------------------------------------------------------------------

ACTIVE_LOGS = []  # (label, path) of logs worth printing when a test fails
_log_dir = None


def logs_dir():
    """One directory per test process for server logs; removed at exit (kept with
    MAILVAULT_TEST_KEEP=1). Separate from the data directories so that the logs outlive them."""
    global _log_dir
    if _log_dir is None:
        import atexit
        _log_dir = make_tempdir("mv-logs-")
        atexit.register(remove_tree, _log_dir)
    return _log_dir


class ServerError(RuntimeError):
    pass


# --------------------------------------------------------------------------------------------
# processes
# --------------------------------------------------------------------------------------------

POPEN_PIDS = set()  # children subprocess.Popen waits for itself: never reaped here


def proc_state(pid):
    """(state letter, parent pid) of a process, or None when it does not exist."""
    try:
        with open("/proc/%d/stat" % pid) as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
        return fields[0], int(fields[1])
    except (OSError, IndexError, ValueError):
        return None


def set_child_subreaper(on):
    """prctl(PR_SET_CHILD_SUBREAPER): orphaned descendants (e.g. a postmaster whose pg_ctl
    exited) become children of this process instead of PID 1, so the tests can reap them, or
    deliberately leave them as zombies, deterministically."""
    import ctypes  # noqa: PLC0415
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(36, 1 if on else 0, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER)")


def reap_zombies(pids=None):
    """waitpid() every zombie child of this process (only those in `pids` when given) that
    subprocess does not manage; returns the pids reaped."""
    me = os.getpid()
    reaped = []
    candidates = pids if pids is not None else [int(p) for p in os.listdir("/proc") if p.isdigit()]
    for pid in candidates:
        if pid in POPEN_PIDS:
            continue
        st = proc_state(pid)
        if st and st[0] == "Z" and st[1] == me:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, os.WNOHANG)
                reaped.append(pid)
    return reaped


def wait_processes_gone(pids, timeout=30, reap=True):
    """Waits until none of `pids` exists (zombie children of ours are reaped when `reap`);
    returns those still there at the timeout."""
    deadline = time.monotonic() + timeout
    while True:
        if reap:
            reap_zombies(list(pids))
        alive = [p for p in pids if proc_state(p) is not None]
        if not alive or time.monotonic() > deadline:
            return alive
        time.sleep(0.05)


class Server:
    """`mailvault serve` on `data_dir` (created 0755 if missing), gRPC on 127.0.0.1:<free>.

    With `database_url` None the server runs its embedded PostgreSQL."""

    _counter = 0

    def __init__(self, data_dir, database_url=None, roles=None, extra_args=(), env=None,
                 log_dir=None, log_level=None):
        self.data_dir = data_dir
        # Without the api role there is no grpc.address to wait for: start() waits for the
        # "mailvault serving" log line instead (and leaves another server's address file alone).
        self.api = roles is None or "api" in roles.split(",")
        self.imap = roles is None or "imap" in roles.split(",")
        self.database_url = database_url
        self.roles = roles
        self.extra_args = list(extra_args)
        self.env = dict(os.environ)
        self.env.pop("MAILVAULT_DATABASE_URL", None)
        self.env.pop("MAILVAULT_SERVER", None)
        self.env.pop("MAILVAULT_TOKEN", None)
        if env:
            self.env.update(env)
        self.log_dir = log_dir or logs_dir()
        self.log_level = log_level or LOG_LEVEL
        self.proc = None
        self.logfile = None
        self.address = None
        self.token = None
        self.starts = 0
        self._log_fh = None

    @property
    def address_file(self):
        return os.path.join(self.data_dir, "grpc.address")

    @property
    def token_file(self):
        return os.path.join(self.data_dir, "admin.token")

    def command(self):
        cmd = [mailvault_bin()]
        if "--log-level" not in self.extra_args:
            cmd += ["--log-level", self.log_level]
        cmd += ["serve", "--data-dir", self.data_dir, "--grpc-listen", "127.0.0.1:0"]
        if "--imap-listen" not in self.extra_args:
            cmd += ["--imap-listen", "127.0.0.1:0"]  # never the fixed default port in tests
        if self.database_url:
            cmd += ["--database-url", self.database_url]
        if self.roles:
            cmd += ["--roles", self.roles]
        return cmd + self.extra_args

    def start(self, timeout=None):
        timeout = timeout or slow(120)
        if self.proc is not None and self.proc.poll() is None:
            raise ServerError("server already running")
        os.makedirs(self.data_dir, exist_ok=True)
        parent = os.path.dirname(os.path.abspath(self.data_dir))
        if parent.startswith("/tmp/"):
            os.chmod(parent, 0o755)
        # A kill -9 leaves the address files behind; wait for the ones this start writes.
        stale = ([self.address_file] if self.api else []) + (
            [os.path.join(self.data_dir, n) for n in ("imap.address", "imaps.address")]
            if self.imap else [])
        for path in stale:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)
        Server._counter += 1
        self.starts += 1
        self.logfile = os.path.join(self.log_dir, "serve-%d-%d.log" % (os.getpid(), Server._counter))
        self._log_fh = open(self.logfile, "wb")
        ACTIVE_LOGS.append(("mailvault serve (%s)" % self.data_dir, self.logfile))
        self.proc = subprocess.Popen(self.command(), stdout=self._log_fh, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, env=self.env, cwd=self.log_dir,
                                     start_new_session=True)
        POPEN_PIDS.add(self.proc.pid)
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                self._close_log()
                raise ServerError("mailvault serve exited with %s before listening:\n%s" % (
                    self.proc.returncode, self.log_tail()))
            if not self.api:
                with open(self.logfile, "rb") as fh:
                    if b"mailvault serving" in fh.read():
                        return self
                addr = None
            else:
                addr = _read_first_line(self.address_file)
            if addr and os.path.exists(self.token_file):
                self.address = addr
                self.token = _read_first_line(self.token_file)
                break
            if time.monotonic() > deadline:
                tail = self.log_tail()
                self.kill9()
                raise ServerError("mailvault serve did not write %s within %ds:\n%s" % (
                    self.address_file, timeout, tail))
            time.sleep(0.05)
        if not self.address.startswith("127.0.0.1:"):
            raise ServerError("grpc.address is %r, expected 127.0.0.1:<port>" % self.address)
        return self

    def listen_port(self, name="imap.address", timeout=None):
        """The port of the address this server writes to <data-dir>/<name> once it listens
        (imap.address, imaps.address); waits for the file. The address must be 127.0.0.1."""
        path = os.path.join(self.data_dir, name)
        addr = wait_for(lambda: _read_first_line(path), timeout or slow(60), what=name)
        host, _, port = addr.rpartition(":")
        assert host == "127.0.0.1", addr
        return int(port)

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    SANITIZER_MARKS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:",
                       "WARNING: ThreadSanitizer")

    def sanitizer_reports(self):
        """Lines of the server log where a sanitizer reported something."""
        if not self.logfile or not os.path.exists(self.logfile):
            return []
        return [ln for ln in self.log_text().splitlines() if any(m in ln for m in self.SANITIZER_MARKS)]

    def stop_checked(self, timeout=None):
        """stop(), and raise ServerError unless the shutdown was clean: exit status 0 and no
        sanitizer report in the log (used by tearDown, so leaks and UB surface as errors)."""
        rc = self.stop(timeout)
        reports = self.sanitizer_reports()
        if rc not in (0, None) or reports:
            raise ServerError("mailvault serve did not shut down cleanly (exit %s)%s\n%s" % (
                rc, "; sanitizer: " + reports[0] if reports else "", self.log_tail(60)))
        return rc

    def stop(self, timeout=None):
        """SIGTERM and wait; returns the exit status (negative: killed by that signal)."""
        timeout = timeout or slow(60)
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                log("mailvault serve did not stop within %ds after SIGTERM; SIGKILL\n%s" % (
                    timeout, self.log_tail(15)))
                self.proc.kill()
                self.proc.wait()
                self._close_log()
                raise ServerError("mailvault serve ignored SIGTERM for %ds" % timeout)
        self._close_log()
        return self.proc.returncode

    def kill9(self):
        """SIGKILL the server process (only it: the embedded postmaster is not touched)."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()
        self._close_log()
        return self.proc.returncode

    def _close_log(self):
        if self._log_fh is not None:
            self._log_fh.close()
            self._log_fh = None

    def log_tail(self, lines=40):
        if not self.logfile:
            return "(no log)"
        return tail_text(self.logfile, lines)

    def log_text(self):
        with open(self.logfile, "rb") as fh:
            return fh.read().decode("utf-8", "replace")

    def __enter__(self):
        if not self.running():
            self.start()
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is not None:
            log("server log tail (%s) after %s:\n%s" % (self.logfile, exc_type.__name__, self.log_tail()))
        try:
            self.stop()
        except ServerError as e:
            log(str(e))
        return False

    # -- clients -------------------------------------------------------------------------------
    def client(self):
        return GrpcClient(self.address, self.token)

    def cli(self, *args, **kw):
        """Runs `mailvault <args> --data-dir D` (client subcommands)."""
        args = list(args)
        return run_cli(args[:1] + ["--data-dir", self.data_dir] + args[1:], **kw)


def _read_first_line(path):
    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except OSError:
        return None
    if not data.endswith(b"\n"):
        return None  # not completely written yet
    return data.split(b"\n", 1)[0].decode().strip() or None


# --------------------------------------------------------------------------------------------
# CLI
# --------------------------------------------------------------------------------------------

class CliResult:
    def __init__(self, argv, returncode, stdout, stderr, seconds):
        self.argv = argv
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr
        self.seconds = seconds

    @property
    def out(self):
        return self.stdout.decode("utf-8", "replace")

    @property
    def err(self):
        return self.stderr.decode("utf-8", "replace")

    def json_lines(self):
        out = []
        for line in self.stdout.splitlines():
            line = line.strip()
            if line:
                out.append(json.loads(line))
        return out

    def json(self):
        return json.loads(self.stdout)

    def describe(self, max_chars=4000):
        return "$ %s\nexit %s after %.1fs\n--- stderr ---\n%s\n--- stdout (head) ---\n%s" % (
            " ".join(self.argv), self.returncode, self.seconds, self.err[-max_chars:],
            self.out[:max_chars])


def run_cli(args, timeout=None, env=None, input=None, check=None):
    """Runs `mailvault ARGS`; returns a CliResult. `check`: the exit status expected (raises
    AssertionError with the output when it differs)."""
    timeout = timeout or slow(300)
    argv = [mailvault_bin()] + [str(a) for a in args]
    e = dict(os.environ)
    for k in ("MAILVAULT_DATABASE_URL", "MAILVAULT_SERVER", "MAILVAULT_TOKEN"):
        e.pop(k, None)
    if env:
        e.update(env)
    t0 = time.monotonic()
    try:
        p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout,
                           env=e, input=input, stdin=None if input is not None else subprocess.DEVNULL)
    except subprocess.TimeoutExpired as ex:
        raise AssertionError("timed out after %ss: %s\n--- stderr ---\n%s" % (
            timeout, " ".join(argv), (ex.stderr or b"").decode("utf-8", "replace")[-3000:]))
    r = CliResult(argv, p.returncode, p.stdout, p.stderr, time.monotonic() - t0)
    if check is not None and r.returncode != check:
        raise AssertionError("expected exit %s\n%s" % (check, r.describe()))
    return r


def wait_for(predicate, timeout, interval=0.25, what="condition"):
    """Polls predicate() until it returns a truthy value; returns it, or raises AssertionError."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        last = predicate()
        if last:
            return last
        if time.monotonic() > deadline:
            raise AssertionError("timed out after %ss waiting for %s" % (timeout, what))
        time.sleep(interval)


# --------------------------------------------------------------------------------------------
# gRPC
# --------------------------------------------------------------------------------------------

_stubs = None
_stubs_lock = threading.Lock()
_stub_dir = None


def stubs():
    """(archive_pb2, archive_pb2_grpc), generated once per process into a temporary directory."""
    global _stubs, _stub_dir
    with _stubs_lock:
        if _stubs is not None:
            return _stubs
        _stub_dir = tempfile.mkdtemp(prefix="mv-stubs-", dir="/tmp")
        proto_root = os.path.join(SOURCE_DIR, "proto")
        cmd = [sys.executable if sys.executable.startswith("/usr/bin/") else "/usr/bin/python3",
               "-m", "grpc_tools.protoc", "-I", proto_root, "--python_out=" + _stub_dir,
               "--grpc_python_out=" + _stub_dir, "mailvault/v1/archive.proto"]
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120)
        if p.returncode != 0:
            raise RuntimeError("protoc failed: %s" % p.stdout.decode("utf-8", "replace"))
        sys.path.insert(0, _stub_dir)
        import importlib
        pb2 = importlib.import_module("mailvault.v1.archive_pb2")
        pb2_grpc = importlib.import_module("mailvault.v1.archive_pb2_grpc")
        _stubs = (pb2, pb2_grpc)
        import atexit
        atexit.register(shutil.rmtree, _stub_dir, True)
        return _stubs


def grpc_module():
    import grpc  # noqa: PLC0415 - the Debian package python3-grpcio
    return grpc


class GrpcClient:
    """The Python gRPC client of mailvault.v1.ArchiveService (stubs generated from the proto)."""

    MAX_MESSAGE = 600 << 20

    def __init__(self, address, token):
        grpc = grpc_module()
        self.pb2, pb2_grpc = stubs()
        self.address = address
        self.token = token
        self.channel = grpc.insecure_channel(address, options=[
            ("grpc.max_receive_message_length", self.MAX_MESSAGE),
            ("grpc.max_send_message_length", self.MAX_MESSAGE),
            ("grpc.enable_http_proxy", 0)])
        self.stub = pb2_grpc.ArchiveServiceStub(self.channel)

    def close(self):
        self.channel.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def metadata(self, token=None):
        token = self.token if token is None else token
        return [("authorization", "Bearer " + token)] if token else []

    def status(self, timeout=30):
        return self.stub.GetStatus(self.pb2.GetStatusRequest(), metadata=self.metadata(), timeout=timeout)

    def search(self, query, page_size=0, page_token="", sort=0, timeout=120):
        req = self.pb2.SearchRequest(query=query, page_size=page_size, page_token=page_token, sort=sort)
        return self.stub.Search(req, metadata=self.metadata(), timeout=timeout)

    def search_all(self, query, sort=0, page_size=1000, timeout=120, max_pages=100000):
        """Every hit of `query`, walking the pages; returns the list of MessageSummary."""
        out = []
        token = ""
        for _ in range(max_pages):
            resp = self.search(query, page_size=page_size, page_token=token, sort=sort, timeout=timeout)
            out.extend(resp.results)
            token = resp.next_page_token
            if not token:
                return out
        raise AssertionError("search %r: more than %d pages" % (query, max_pages))

    def get_message(self, msg_id, timeout=60):
        return self.stub.GetMessage(self.pb2.GetMessageRequest(id=msg_id), metadata=self.metadata(),
                                    timeout=timeout)

    def get_raw_chunks(self, msg_id=0, sha256="", timeout=120):
        req = self.pb2.GetRawMessageRequest(id=msg_id, sha256=sha256)
        return list(self.stub.GetRawMessage(req, metadata=self.metadata(), timeout=timeout))

    def get_raw(self, msg_id=0, sha256="", timeout=120):
        return b"".join(c.data for c in self.get_raw_chunks(msg_id, sha256, timeout))

    def ingest(self, items, timeout=300, token=None):
        """items: raw bytes or (raw, location) pairs or IngestRequest; returns IngestResponse."""
        pb2 = self.pb2

        def gen():
            for it in items:
                if isinstance(it, (bytes, bytearray)):
                    yield pb2.IngestRequest(raw=bytes(it))
                elif isinstance(it, tuple):
                    yield pb2.IngestRequest(raw=it[0], location=it[1])
                else:
                    yield it
        return self.stub.Ingest(gen(), metadata=self.metadata(token), timeout=timeout)


def wait_index_caught_up(client, timeout=None, expect_messages=None):
    """Polls GetStatus until index_backlog == 0 and indexed == messages; returns the Status."""
    timeout = timeout or slow(300)
    deadline = time.monotonic() + timeout
    last = None
    while True:
        try:
            last = client.status()
            ok = last.index_backlog == 0 and last.indexed == last.messages
            if expect_messages is not None:
                ok = ok and last.messages == expect_messages
            if ok:
                return last
        except Exception as e:  # noqa: BLE001 - transient while the server starts
            last = e
        if time.monotonic() > deadline:
            raise AssertionError("index did not catch up within %ss; last status: %s" % (timeout, last))
        time.sleep(0.5)


def wait_index_caught_up_cli(data_dir, timeout=None):
    """Same, through `mailvault status --json`; returns its JSON object."""
    timeout = timeout or slow(300)
    deadline = time.monotonic() + timeout
    last = None
    while True:
        r = run_cli(["status", "--data-dir", data_dir, "--json"], timeout=60)
        if r.returncode == 0:
            last = r.json()
            if last.get("index_backlog") == 0 and last.get("indexed") == last.get("messages"):
                return last
        else:
            last = r.describe()
        if time.monotonic() > deadline:
            raise AssertionError("index did not catch up within %ss; last status: %s" % (timeout, last))
        time.sleep(0.5)


# --------------------------------------------------------------------------------------------
# generated corpora
# --------------------------------------------------------------------------------------------

def generate_corpus(maildir, n, seed=42, timeout=900):
    """Runs shared/bench/gen_corpus.py into `maildir` (a Maildir); returns its manifest dict."""
    if not os.path.isfile(GEN_CORPUS):
        raise unittest.SkipTest("corpus generator not found at %s" % os.path.abspath(GEN_CORPUS))
    manifest = maildir.rstrip("/") + ".manifest.json"
    t0 = time.monotonic()
    p = subprocess.run(["/usr/bin/python3", GEN_CORPUS, "--maildir", maildir, "--n", str(n),
                        "--seed", str(seed), "--manifest", manifest, "--procs", str(os.cpu_count() or 2)],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
    if p.returncode != 0:
        raise RuntimeError("gen_corpus.py failed: %s" % p.stderr.decode("utf-8", "replace")[-3000:])
    log("generated %d messages into %s in %.1fs" % (n, maildir, time.monotonic() - t0))
    with open(manifest) as fh:
        return json.load(fh)


def maildir_files(maildir):
    out = []
    for sub in ("cur", "new"):
        d = os.path.join(maildir, sub)
        if os.path.isdir(d):
            out += [os.path.join(d, f) for f in sorted(os.listdir(d)) if not f.startswith(".")]
    return out


# --------------------------------------------------------------------------------------------
# unittest base
# --------------------------------------------------------------------------------------------

class MailvaultTestCase(unittest.TestCase):
    """Prints the tails of the logs in ACTIVE_LOGS when a test fails."""

    maxDiff = 4000

    def setUp(self):
        super().setUp()
        self._logs_before = len(ACTIVE_LOGS)
        self.addCleanup(self._diagnostics_if_failed)

    def _diagnostics_if_failed(self):
        outcome = getattr(self, "_outcome", None)
        if outcome is None or getattr(outcome, "success", True):
            return
        seen = set()
        # the logs of this test, and of servers shared by the class (started earlier)
        for label, path in reversed(ACTIVE_LOGS):
            if path in seen or not os.path.exists(path):
                continue
            seen.add(path)
            sys.stderr.write("\n===== %s: %s (last lines) =====\n%s\n" % (label, path, tail_text(path, 40)))
            if len(seen) >= 4:
                break
        sys.stderr.flush()

    def assertCli(self, result, code=0, msg=""):
        if result.returncode != code:
            self.fail("%sexpected exit %d\n%s" % (msg + "\n" if msg else "", code, result.describe()))
