"""`mailvault serve` without --database-url runs its own PostgreSQL, privately and robustly.

* Fresh data directory: initdb, ready, a client imports messages; PostgreSQL listens on the
  Unix socket D/postgres/run/.s.PGSQL.5432 only (no TCP socket of any postgres process in
  /proc/net/tcp{,6}, nothing in `ss -ltnp`, empty listen address in postmaster.pid).
* SIGTERM: exit 0, grpc.address removed, the postmaster and every postgres process of that data
  directory gone, postmaster.pid removed. A restart keeps the data.
* Crash: kill -9 of mailvault alone (the postmaster survives and is reused); kill -9 of mailvault
  AND the postmaster leaving a stale postmaster.pid; and a postmaster.pid that names a live
  process which is not postgres (this test itself): every restart recovers, and the messages
  are still there.
* `mailvault migrate` is idempotent (embedded and external database); `mailvault reindex` with
  the server stopped rebuilds an index with every message.
"""

import glob
import os
import re
import signal
import subprocess
import unittest

import harness


def message(i, tag="embedded"):
    return ("From: Sender %d <s%d@example.net>\nTo: bench@example.org\nSubject: %s test %d\n"
            "Date: Thu, 07 Mar 2024 09:%02d:00 +0000\nMessage-ID: <%s-%d@example.net>\n\n"
            "body of %s message %d\n" % (i, i, tag, i, i % 60, tag, i, tag, i)).encode()


def postgres_pids(pgdata):
    """PIDs of the processes of the PostgreSQL cluster in `pgdata`: the postmaster named in
    postmaster.pid (if alive and postgres) and every process whose parent is it, plus any
    process whose command line names the directory."""
    pids = set()
    for p in glob.glob("/proc/[0-9]*"):
        pid = int(p.rsplit("/", 1)[1])
        try:
            with open(p + "/cmdline", "rb") as fh:
                cmd = fh.read().replace(b"\0", b" ")
            with open(p + "/comm") as fh:
                comm = fh.read().strip()
        except OSError:
            continue
        if pgdata.encode() in cmd and comm.startswith(("postgres", "postmaster")):
            pids.add(pid)
    master = read_pid(os.path.join(pgdata, "postmaster.pid"))
    for p in glob.glob("/proc/[0-9]*/stat"):
        try:
            with open(p) as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        child = int(p.split("/")[2])
        if master and int(fields[1]) == master and _comm(child).startswith(("postgres", "postmaster")):
            pids.add(child)
    if master and _comm(master).startswith(("postgres", "postmaster")):
        pids.add(master)
    pids.discard(os.getpid())
    return pids


def _comm(pid):
    try:
        with open("/proc/%d/comm" % pid) as fh:
            return fh.read().strip()
    except OSError:
        return ""


def read_pid(path):
    try:
        with open(path) as fh:
            return int(fh.readline().strip())
    except (OSError, ValueError):
        return None


def socket_inodes(pids):
    out = set()
    for pid in pids:
        for fd in glob.glob("/proc/%d/fd/*" % pid):
            try:
                target = os.readlink(fd)
            except OSError:
                continue
            m = re.match(r"socket:\[(\d+)\]", target)
            if m:
                out.add(m.group(1))
    return out


def tcp_listen_inodes():
    out = {}
    for f in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(f) as fh:
                next(fh)
                for line in fh:
                    cols = line.split()
                    if cols[3] == "0A":  # LISTEN
                        out[cols[9]] = (f, cols[1])
        except OSError:
            pass
    return out


class EmbeddedPostgres(harness.MailvaultTestCase):
    def setUp(self):
        super().setUp()
        self.tmp = harness.make_tempdir()
        self.addCleanup(harness.remove_tree, self.tmp)
        self.data = os.path.join(self.tmp, "data")
        self.pgdata = os.path.join(self.data, "postgres", "data")
        self.sock = os.path.join(self.data, "postgres", "run")
        # Orphaned postgres processes become our children (not PID 1's): we reap them, so a
        # killed postmaster is gone when we say so, on any machine.
        harness.set_child_subreaper(True)
        self.addCleanup(harness.set_child_subreaper, False)
        self.addCleanup(self.kill_leftovers)

    def kill_leftovers(self):
        pids = postgres_pids(self.pgdata)
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        harness.wait_processes_gone(pids, timeout=30)
        harness.reap_zombies()

    def import_messages(self, server, start, n, tag="embedded"):
        d = os.path.join(self.tmp, "in-%s-%d" % (tag, start))
        os.makedirs(d, exist_ok=True)
        for i in range(start, start + n):
            with open(os.path.join(d, "m%d.eml" % i), "wb") as fh:
                fh.write(message(i, tag))
        r = server.cli("import", d, "--json")
        self.assertCli(r, 0)
        outs = [x["outcome"] for x in r.json_lines()]
        self.assertEqual(outs, ["stored"] * n)

    def sql(self, query):
        return harness.psql(self.sock, "mailvault", query).strip()

    def message_count(self, server):
        with server.client() as c:
            st = harness.wait_index_caught_up(c, timeout=harness.slow(120))
            return st.messages, {h.message_id for h in c.search_all("")}

    def wait_gone(self, pids, timeout=30):
        return harness.wait_processes_gone(pids, timeout=timeout)

    # ------------------------------------------------------------------------------------------
    def test_fresh_start_private_socket_stop_restart(self):
        server = harness.Server(self.data)
        server.start(timeout=harness.slow(180))
        try:
            self.assertTrue(os.path.exists(os.path.join(self.pgdata, "PG_VERSION")), "no initdb")
            self.assertTrue(os.path.exists(os.path.join(self.sock, ".s.PGSQL.5432")),
                            "no Unix socket at %s/.s.PGSQL.5432" % self.sock)
            self.assertEqual(os.stat(server.token_file).st_mode & 0o777, 0o600, "admin.token mode")
            self.import_messages(server, 0, 5)
            self.assertEqual(self.sql("SELECT count(*) FROM messages"), "5")

            # -- no TCP ------------------------------------------------------------------------
            pids = postgres_pids(self.pgdata)
            master = read_pid(os.path.join(self.pgdata, "postmaster.pid"))
            self.assertIn(master, pids, "postmaster.pid names no running postgres")
            self.assertGreaterEqual(len(pids), 2, "postmaster and its helpers")
            listening = tcp_listen_inodes()
            ours = socket_inodes(pids)
            self.assertEqual({i: listening[i] for i in ours if i in listening}, {},
                             "a postgres process listens on TCP")
            ss = subprocess.run(["ss", "-ltnpH"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
            for line in ss.stdout.decode().splitlines():
                for pid in pids:
                    self.assertNotIn("pid=%d," % pid, line, "ss -ltnp shows postgres listening: " + line)
            with open(os.path.join(self.pgdata, "postmaster.pid")) as fh:
                lines = fh.read().split("\n")
            self.assertEqual(lines[4].strip(), self.sock, "postmaster.pid socket directory")
            self.assertEqual(lines[5].strip(), "", "postmaster.pid listen address should be empty")
            # the socket directory is private
            self.assertEqual(os.stat(self.sock).st_mode & 0o077, 0, "socket directory open to others")

            # -- SIGTERM stops everything ---------------------------------------------------------
            self.assertEqual(server.stop(), 0)
            self.assertFalse(os.path.exists(server.address_file), "grpc.address left behind")
            self.assertEqual(self.wait_gone(pids), [], "postgres processes left after SIGTERM")
            self.assertEqual(postgres_pids(self.pgdata), set())
            self.assertFalse(os.path.exists(os.path.join(self.pgdata, "postmaster.pid")),
                             "postmaster.pid left after a clean stop")

            # -- restart keeps the data ---------------------------------------------------------
            server.start(timeout=harness.slow(180))
            count, ids = self.message_count(server)
            self.assertEqual(count, 5)
            self.assertEqual(ids, {"embedded-%d@example.net" % i for i in range(5)})
            self.import_messages(server, 5, 2)
            self.assertEqual(self.message_count(server)[0], 7)
        finally:
            if server.running():
                server.stop()

    def test_crash_recovery(self):
        server = harness.Server(self.data)
        server.start(timeout=harness.slow(180))
        try:
            self.import_messages(server, 0, 4)

            # 1. kill -9 mailvault only: the postmaster lives on and is reused
            master = read_pid(os.path.join(self.pgdata, "postmaster.pid"))
            server.kill9()
            self.assertTrue(os.path.exists("/proc/%d" % master), "postmaster died with mailvault")
            server.start(timeout=harness.slow(180))
            self.assertEqual(self.message_count(server)[0], 4)
            self.import_messages(server, 4, 2)

            # 2. kill -9 mailvault AND the postmaster: stale postmaster.pid
            pids = postgres_pids(self.pgdata)
            master = read_pid(os.path.join(self.pgdata, "postmaster.pid"))
            server.kill9()
            os.kill(master, signal.SIGKILL)
            self.assertEqual(self.wait_gone(pids), [], "postgres backends did not exit after the postmaster died")
            self.assertTrue(os.path.exists(os.path.join(self.pgdata, "postmaster.pid")), "pid file should be stale")
            server.start(timeout=harness.slow(180))
            count, ids = self.message_count(server)
            self.assertEqual(count, 6)
            self.assertEqual(ids, {"embedded-%d@example.net" % i for i in range(6)})
            self.import_messages(server, 6, 2)

            # 3. again, and the stale pid file names a live process that is not postgres
            pids = postgres_pids(self.pgdata)
            master = read_pid(os.path.join(self.pgdata, "postmaster.pid"))
            server.kill9()
            os.kill(master, signal.SIGKILL)
            self.assertEqual(self.wait_gone(pids), [])
            pidfile = os.path.join(self.pgdata, "postmaster.pid")
            with open(pidfile) as fh:
                lines = fh.read().split("\n")
            lines[0] = str(os.getpid())
            st = os.stat(pidfile)
            with open(pidfile, "w") as fh:
                fh.write("\n".join(lines))
            os.chown(pidfile, st.st_uid, st.st_gid)
            server.start(timeout=harness.slow(180))
            count, ids = self.message_count(server)
            self.assertEqual(count, 8)
            self.assertEqual(ids, {"embedded-%d@example.net" % i for i in range(8)})
            self.assertIn("stale", server.log_text(), "the server should say it removed a stale pid file")
            self.assertTrue(os.path.exists("/proc/%d" % os.getpid()))
        finally:
            if server.running():
                server.stop()

    def test_restart_while_killed_postmaster_is_unreaped(self):
        # A postmaster killed with -9 stays a zombie until its parent reaps it (PID 1 of a
        # container may take seconds; here the test holds it). postmaster.pid still names it and
        # kill(pid, 0) succeeds on a zombie, so `pg_ctl status` calls it running: the restart
        # must not try to reuse it.
        server = harness.Server(self.data)
        server.start(timeout=harness.slow(180))
        master = None
        try:
            self.import_messages(server, 0, 3, tag="zombie")
            pids = postgres_pids(self.pgdata)
            master = read_pid(os.path.join(self.pgdata, "postmaster.pid"))
            self.assertEqual(harness.proc_state(master)[1], os.getpid(), "postmaster should be our child")
            server.kill9()
            os.kill(master, signal.SIGKILL)
            harness.wait_for(lambda: harness.proc_state(master)[0] == "Z", 10, what="postmaster zombie")
            self.assertEqual(self.wait_gone(pids - {master}), [], "backends did not exit")
            self.assertEqual(harness.proc_state(master)[0], "Z")
            server.start(timeout=harness.slow(180))
            count, ids = self.message_count(server)
            self.assertEqual(count, 3)
        finally:
            if server.running():
                server.stop()
            if master:
                harness.wait_processes_gone([master], timeout=5)

    def test_migrate_idempotent_and_reindex(self):
        # embedded: migrate on a fresh data dir (starts and stops its own PostgreSQL), twice
        for attempt in (1, 2):
            r = harness.run_cli(["migrate", "--data-dir", self.data], timeout=harness.slow(300))
            self.assertCli(r, 0, "migrate #%d" % attempt)
            self.assertEqual(postgres_pids(self.pgdata), set(), "migrate left PostgreSQL running")
        server = harness.Server(self.data)
        server.start(timeout=harness.slow(180))
        try:
            self.import_messages(server, 0, 6, tag="mig")
            schema = self.schema_fingerprint(lambda q: self.sql(q))
            # migrate while the server runs: the running PostgreSQL is used, nothing changes
            r = harness.run_cli(["migrate", "--data-dir", self.data], timeout=harness.slow(300))
            self.assertCli(r, 0)
            self.assertEqual(self.schema_fingerprint(lambda q: self.sql(q)), schema)
            self.assertEqual(self.message_count(server)[0], 6)
            self.assertEqual(server.stop(), 0)
            # reindex with the server stopped: a new index with every message
            r = harness.run_cli(["reindex", "--data-dir", self.data], timeout=harness.slow(600))
            self.assertCli(r, 0)
            self.assertEqual(postgres_pids(self.pgdata), set(), "reindex left PostgreSQL running")
            server.start(timeout=harness.slow(180))
            count, ids = self.message_count(server)
            self.assertEqual(count, 6)
            self.assertEqual(ids, {"mig-%d@example.net" % i for i in range(6)})
            with server.client() as c:
                self.assertEqual(c.status().indexed, 6)
                self.assertEqual(len(c.search_all("subject:mig")), 6)
        finally:
            if server.running():
                server.stop()

        # external database: migrate twice, same schema both times
        with harness.Postgres(os.path.join(self.tmp, "ext")) as pg:
            url = pg.create_database()
            fps = []
            for attempt in (1, 2, 3):
                r = harness.run_cli(["migrate", "--data-dir", os.path.join(self.tmp, "d2"), "--database-url", url],
                                    timeout=harness.slow(300))
                self.assertCli(r, 0, "migrate --database-url #%d" % attempt)
                fps.append(self.schema_fingerprint(lambda q: harness.query_conninfo(url, q).strip()))
            self.assertEqual(fps[0], fps[1])
            self.assertEqual(fps[1], fps[2])
            self.assertFalse(os.path.exists(os.path.join(self.tmp, "d2", "postgres")),
                             "with --database-url no embedded PostgreSQL is created")

    @staticmethod
    def schema_fingerprint(q):
        cols = q("SELECT md5(string_agg(table_name || '.' || column_name || ':' || data_type, ',' "
                 "ORDER BY table_name, ordinal_position)) FROM information_schema.columns "
                 "WHERE table_schema = 'public'")
        idx = q("SELECT md5(string_agg(indexdef, ',' ORDER BY indexname)) FROM pg_indexes "
                "WHERE schemaname = 'public'")
        mig = q("SELECT string_agg(t::text, ',') FROM (SELECT * FROM schema_migrations ORDER BY 1) t")
        return cols, idx, mig


if __name__ == "__main__":
    unittest.main()
