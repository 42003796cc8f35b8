"""kill -9 of the server mid-import loses nothing and duplicates nothing.

A generated Maildir (20,000 messages; 3,000 under the sanitizer profile) is imported while the
server is killed with SIGKILL twice at different points of the import (about 15 % and 55 % of the
messages stored) and once more while only the indexer is still busy. After each kill the server
is restarted on the same data directory and database and the import is run again. In the end:

* `messages` holds exactly one row per distinct source message: count == distinct SHA-256 of the
  files, no SHA-256 twice, every source SHA-256 present, sizes equal, every blob on disk;
* `placements` holds exactly one row per source file (the re-imports added nothing);
* the import that got killed exits 1 with a one-line error; the final one exits 0 with
  stored + duplicates == number of files;
* the index catches up: indexed == messages, backlog 0, and the empty query returns every
  message once.
"""

import hashlib
import os
import re
import subprocess
import time
import unittest

import harness

N = harness.scale(20000, 3000)
SUMMARY = re.compile(r"read (\d+) messages: (\d+) stored, (\d+) duplicates, (\d+) failed")


class CrashSafety(harness.MailvaultTestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = harness.make_tempdir()
        cls.maildir = os.path.join(cls.tmp, "gen")
        harness.generate_corpus(cls.maildir, N, seed=42)
        cls.files = harness.maildir_files(cls.maildir)
        cls.sha = {}
        cls.size = {}
        for f in cls.files:
            with open(f, "rb") as fh:
                data = fh.read()
            cls.sha[f] = hashlib.sha256(data).hexdigest()
            cls.size[cls.sha[f]] = len(data)
        cls.pg = harness.Postgres(os.path.join(cls.tmp, "pg")).start()
        cls.db = cls.pg.create_database()

    @classmethod
    def tearDownClass(cls):
        cls.pg.cleanup()
        harness.remove_tree(cls.tmp)

    def count(self, sql="SELECT count(*) FROM messages"):
        try:
            return int(harness.query_conninfo(self.db, sql, timeout=30).strip() or 0)
        except RuntimeError:
            return 0  # before the migrations ran

    def start_import(self, server):
        argv = [harness.mailvault_bin(), "import", "--data-dir", server.data_dir, self.maildir]
        out = open(os.path.join(self.tmp, "import-%d.err" % time.monotonic_ns()), "w+b")
        return subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=out, stdin=subprocess.DEVNULL), out

    def kill_mid_import(self, server, fraction, label):
        """Runs an import and kills the server once `fraction` of N is stored (or the import ends)."""
        before = self.count()
        proc, err = self.start_import(server)
        target = before + max(1, int((N - before) * fraction))
        deadline = time.monotonic() + harness.slow(600)
        while self.count() < target and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        self.assertIsNone(proc.poll(), "%s: the import ended before the kill point (%d/%d stored)" % (
            label, self.count(), N))
        server.kill9()
        # transactions whose COMMIT was already on its way may still finish: wait until the
        # killed server's database sessions are gone, then count
        harness.wait_for(lambda: self.count(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid()") == 0, harness.slow(60), what="the killed server's sessions to end")
        at_kill = self.count()
        harness.log("%s: killed the server with %d of %d messages stored" % (label, at_kill, N))
        try:
            rc = proc.wait(timeout=harness.slow(120))
        except subprocess.TimeoutExpired:
            proc.kill()
            self.fail("%s: the import client hung after the server died" % label)
        err.seek(0)
        text = err.read().decode("utf-8", "replace")
        err.close()
        self.assertEqual(rc, 1, "%s: a lost server is a fatal error (exit 1); stderr:\n%s" % (label, text))
        self.assertTrue(text.strip(), "%s: no error message" % label)
        self.assertLess(before, at_kill, "%s: nothing was stored before the kill" % label)
        self.assertLess(at_kill, N, "%s: the kill came after the import" % label)
        self.check_consistent(label)
        return at_kill

    def check_consistent(self, label):
        dup = self.count("SELECT count(*) FROM (SELECT sha256 FROM messages GROUP BY sha256 "
                         "HAVING count(*) > 1) d")
        self.assertEqual(dup, 0, "%s: a SHA-256 is stored twice" % label)
        orphans = self.count("SELECT count(*) FROM messages m WHERE NOT EXISTS "
                             "(SELECT 1 FROM placements p WHERE p.message_id = m.id)")
        self.assertEqual(orphans, 0, "%s: messages without a placement" % label)
        unknown = set(harness.query_conninfo(
            self.db, "SELECT encode(sha256, 'hex') FROM messages").split()) - set(self.sha.values())
        self.assertEqual(unknown, set(), "%s: messages that are in no source file" % label)

    def test_kill9_during_import_and_indexing(self):
        data = os.path.join(self.tmp, "data")
        server = harness.Server(data, database_url=self.db)
        server.start()
        try:
            first = self.kill_mid_import(server, 0.15, "kill 1")
            server.start()
            second = self.kill_mid_import(server, 0.5, "kill 2")
            self.assertLess(first, second)
            server.start()
            r = server.cli("import", self.maildir, timeout=harness.slow(1200))
            self.assertCli(r, 0, "the import after two crashes")
            m = SUMMARY.search(r.err)
            self.assertIsNotNone(m, r.err)
            read, stored, dups, failed = map(int, m.groups())
            self.assertEqual(read, len(self.files))
            self.assertEqual(failed, 0)
            self.assertEqual(stored + dups, len(self.files))
            self.assertEqual(stored, len(set(self.sha.values())) - second,
                             "the last import stores exactly what the killed ones did not")

            # kill 3: the import is done, the indexer is (probably) still busy
            st = server.client().status()
            harness.log("kill 3: index backlog %d, indexed %d of %d" % (st.index_backlog, st.indexed, st.messages))
            server.kill9()
            server.start()
            self.verify(server)

            # a clean restart keeps all of it
            self.assertEqual(server.stop(), 0)
            self.assertFalse(os.path.exists(server.address_file), "grpc.address left after SIGTERM")
            server.start()
            self.verify(server)
        finally:
            if server.running():
                server.stop()

    def verify(self, server):
        distinct = set(self.sha.values())
        self.check_consistent("final")
        self.assertEqual(self.count(), len(distinct), "messages rows != distinct source messages")
        in_db = dict(line.split("|") for line in harness.query_conninfo(
            self.db, "SELECT encode(sha256, 'hex'), size FROM messages").split())
        self.assertEqual(set(in_db), distinct, "source messages missing from the archive")
        wrong_size = [s for s, n in in_db.items() if int(n) != self.size[s]]
        self.assertEqual(wrong_size[:5], [], "stored sizes differ")
        # one placement per source file, none twice
        self.assertEqual(self.count("SELECT count(*) FROM placements"), len(self.files))
        self.assertEqual(self.count("SELECT count(DISTINCT location) FROM placements"), len(self.files))
        # every blob is on disk
        blobs = os.path.join(server.data_dir, "blobs")
        missing = [s for s in distinct if not os.path.exists(os.path.join(blobs, s[:2], s[2:4], s))]
        self.assertEqual(missing[:5], [], "%d blobs missing" % len(missing))
        # the index catches up, with one document per message
        with server.client() as c:
            st = harness.wait_index_caught_up(c, timeout=harness.slow(900))
            self.assertEqual(st.messages, len(distinct))
            self.assertEqual(st.indexed, len(distinct))
            self.assertEqual(st.bytes_raw, sum(self.size[s] for s in distinct))
            hits = c.search_all("", page_size=1000)
            self.assertEqual(len(hits), len(distinct))
            self.assertEqual({h.sha256 for h in hits}, distinct)
            # a few round trips after the crashes
            for f in self.files[:: max(1, len(self.files) // 25)]:
                with open(f, "rb") as fh:
                    want = fh.read()
                self.assertEqual(c.get_raw(sha256=self.sha[f]), want)


if __name__ == "__main__":
    unittest.main()
