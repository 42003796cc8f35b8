"""Every real message of shared/corpora goes in and comes back byte for byte.

1. `mailvault import <every corpus folder> --json`: the messages reported are exactly those an
   independent walk of the folders finds (Maildir cur/new, never tmp; .eml files whole; mbox
   files split by the From_/empty-line/Content-Length rules, re-implemented in mailoracle.py),
   with the SHA-256 of the bytes that walk cuts out; no message is rejected or failed, those the
   MANIFEST tags malformed* included; each distinct SHA-256 is stored exactly once.
2. Every stored message comes back from gRPC GetRawMessage (Python client) byte-identical:
   single files equal the whole file, mbox messages are the file's bytes at `offset`.
3. Importing the same folders again stores nothing, and the `messages` and `placements` tables
   are unchanged (md5 of their full contents).
4. `mailvault status --json` reaches indexed == messages with an empty backlog; the message
   count and byte total equal those of the distinct messages.
"""

import collections
import concurrent.futures
import os
import re
import threading
import unittest

import harness
import mailoracle

SUMMARY = re.compile(r"read (\d+) messages: (\d+) stored, (\d+) duplicates, (\d+) failed")


def table_digest(server_db, table):
    return harness.query_conninfo(
        server_db, "SELECT count(*) || ':' || coalesce(md5(string_agg(t::text, E'\\n' ORDER BY t.id)), '') "
                   "FROM %s t" % table).strip()


class CorpusRoundtrip(harness.MailvaultTestCase):
    state = {}

    @classmethod
    def setUpClass(cls):
        cls.corpora = harness.corpora_dir()
        if cls.corpora is None:
            return
        cls.tmp = harness.make_tempdir()
        cls.pg = harness.Postgres(os.path.join(cls.tmp, "pg"))
        cls.pg.start()
        cls.db = cls.pg.create_database()
        cls.server = harness.Server(os.path.join(cls.tmp, "data"), database_url=cls.db)
        try:
            cls.server.start()
        except Exception:
            cls.pg.cleanup()
            raise
        cls.client = cls.server.client()
        cls.inputs = [os.path.join(cls.corpora, d) for d in sorted(os.listdir(cls.corpora))
                      if os.path.isdir(os.path.join(cls.corpora, d))]
        cls.expected, cls.expected_problems = mailoracle.expected_import(cls.inputs)

    @classmethod
    def tearDownClass(cls):
        if getattr(cls, "corpora", None) is None:
            return
        cls.client.close()
        try:
            cls.server.stop_checked()
        finally:
            cls.pg.cleanup()
            harness.remove_tree(cls.tmp)

    def setUp(self):
        super().setUp()
        harness.require_corpora(self)

    # ------------------------------------------------------------------------------------------
    def test_1_import_and_raw_roundtrip(self):
        expected = self.expected
        self.assertGreater(len(expected), 3000, "the independent walk found too few messages")
        r = self.server.cli("import", *self.inputs, "--json", timeout=harness.slow(900))
        self.assertCli(r, 0, "importing the corpora must not fail any message")
        m = SUMMARY.search(r.err)
        self.assertIsNotNone(m, "no summary line on stderr:\n" + r.err[-2000:])
        read, stored, dups, failed = map(int, m.groups())
        records = r.json_lines()

        # -- the set of messages is the independent one ------------------------------------------
        by_key = {}
        for rec in records:
            key = (rec["path"], rec.get("offset"))
            self.assertNotIn(key, by_key, "message reported twice: %r" % (key,))
            by_key[key] = rec
        missing = sorted(set(expected) - set(by_key), key=str)
        extra = sorted(set(by_key) - set(expected), key=str)
        self.assertEqual(([], []), (missing[:20], extra[:20]),
                         "import found other messages than the independent walk "
                         "(%d missing, %d extra)" % (len(missing), len(extra)))
        self.assertEqual(read, len(expected), "summary 'read' count")
        self.assertEqual(failed, 0, "summary 'failed' count")
        bad = [rec for rec in records if rec["outcome"] not in ("stored", "duplicate")]
        self.assertEqual([], bad[:20], "%d messages rejected/failed" % len(bad))

        # per mbox file: the message count equals the independent split
        per_file = collections.Counter(p for (p, off) in by_key if off is not None)
        for path in sorted({p for (p, off) in expected if off is not None}):
            with open(path, "rb") as fh:
                want = len(mailoracle.split_mbox(fh.read()))
            self.assertEqual(per_file[path], want, "messages found in mbox %s" % path)

        # -- hashes: the bytes mailvault stored are the bytes the independent split cut ---------
        wrong = []
        for key, rec in by_key.items():
            if rec.get("sha256") != harness.sha256_hex(expected[key]):
                wrong.append((key, rec.get("sha256")))
        self.assertEqual([], wrong[:10], "%d messages stored with other bytes than the source" % len(wrong))

        # -- exactly one 'stored' per distinct SHA-256; duplicates point at it -------------------
        by_sha = collections.defaultdict(list)
        for rec in records:
            by_sha[rec["sha256"]].append(rec)
        self.assertEqual(stored, len(by_sha), "stored count != distinct SHA-256 count")
        self.assertEqual(dups, len(records) - len(by_sha))
        for sha, recs in by_sha.items():
            kinds = collections.Counter(x["outcome"] for x in recs)
            self.assertEqual(kinds["stored"], 1, "sha256 %s: outcomes %s" % (sha, dict(kinds)))
            ids = {x["id"] for x in recs if "id" in x}
            self.assertEqual(len(ids), 1, "sha256 %s: ids %s" % (sha, ids))

        # -- malformed messages from the MANIFEST are among them ---------------------------------
        malformed = []
        with open(os.path.join(self.corpora, "MANIFEST.tsv"), encoding="utf-8") as fh:
            next(fh)
            for line in fh:
                cols = line.rstrip("\n").split("\t")
                if any(t.startswith("malformed") for t in cols[2].split(",")):
                    malformed.append(cols[0])
        self.assertGreater(len(malformed), 30)
        for entry in malformed:
            path, _, nth = entry.partition("#")
            path = os.path.join(self.corpora, path)
            if nth:
                offsets = sorted(off for (p, off) in by_key if p == path)
                self.assertGreaterEqual(len(offsets), int(nth), "malformed %s not imported" % entry)
            else:
                self.assertIn((path, None), by_key, "malformed %s not imported" % entry)
                self.assertIn(by_key[(path, None)]["outcome"], ("stored", "duplicate"))

        # -- every message back through GetRawMessage, byte-identical ---------------------------
        sources = {}
        for key, rec in by_key.items():
            if "id" in rec:
                sources.setdefault(rec["id"], (key, rec["sha256"]))

        local = threading.local()
        clients = []

        def fetch(item):
            msg_id, (key, sha) = item
            if not hasattr(local, "client"):
                local.client = harness.GrpcClient(self.server.address, self.server.token)
                clients.append(local.client)
            return msg_id, key, sha, local.client.get_raw(msg_id)

        problems = []
        file_cache = {}
        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            for msg_id, (path, off), sha, raw in pool.map(fetch, sorted(sources.items()), chunksize=16):
                if harness.sha256_hex(raw) != sha:
                    problems.append("id %d (%s#%s): GetRawMessage sha256 %s != %s" % (
                        msg_id, path, off, harness.sha256_hex(raw), sha))
                    continue
                if off is None:
                    with open(path, "rb") as fh:
                        whole = fh.read()
                    if whole != raw:
                        problems.append("id %d: %s differs from the file" % (msg_id, path))
                else:
                    if path not in file_cache:
                        with open(path, "rb") as fh:
                            file_cache[path] = fh.read()
                    if not file_cache[path].startswith(raw, off):
                        problems.append("id %d: bytes at %s#%d differ" % (msg_id, path, off))
        for c in clients:
            c.close()
        self.assertEqual([], problems[:10], "%d messages did not round-trip" % len(problems))
        self.assertEqual(len(sources), len(by_sha))

        # a few by SHA-256 instead of id
        for sha in sorted(by_sha)[:5]:
            raw = self.client.get_raw(sha256=sha)
            self.assertEqual(harness.sha256_hex(raw), sha)

        self.state["records"] = records
        self.state["by_sha"] = by_sha
        self.state["sizes"] = {harness.sha256_hex(v): len(v) for v in expected.values()}

    def test_2_reimport_changes_nothing(self):
        if "records" not in self.state:
            self.skipTest("needs test_1")
        before = {t: table_digest(self.db, t) for t in ("messages", "placements")}
        r = self.server.cli("import", *self.inputs, "--json", timeout=harness.slow(900))
        self.assertCli(r, 0)
        m = SUMMARY.search(r.err)
        self.assertIsNotNone(m, r.err[-2000:])
        read, stored, dups, failed = map(int, m.groups())
        self.assertEqual((read, stored, dups, failed), (len(self.expected), 0, len(self.expected), 0),
                         "second import of the same corpus")
        outcomes = collections.Counter(rec["outcome"] for rec in r.json_lines())
        self.assertEqual(dict(outcomes), {"duplicate": len(self.expected)})
        after = {t: table_digest(self.db, t) for t in ("messages", "placements")}
        self.assertEqual(before, after, "re-importing changed the messages/placements tables")

    def test_3_index_catches_up(self):
        if "records" not in self.state:
            self.skipTest("needs test_1")
        st = harness.wait_index_caught_up_cli(self.server.data_dir, timeout=harness.slow(600))
        distinct = len(self.state["by_sha"])
        self.assertEqual(st["messages"], distinct)
        self.assertEqual(st["indexed"], distinct)
        self.assertEqual(st["index_backlog"], 0)
        self.assertEqual(st["bytes_raw"], sum(self.state["sizes"].values()))
        self.assertGreater(st["bytes_stored"], 0)
        self.assertEqual(st["server"], self.server.address)
        self.assertEqual(int(harness.query_conninfo(self.db, "SELECT count(*) FROM messages")), distinct)
        self.assertEqual(int(harness.query_conninfo(
            self.db, "SELECT count(*) FROM (SELECT sha256 FROM messages GROUP BY sha256 HAVING count(*) > 1) d")), 0)
        # every message can be found: the empty query walks the whole archive
        hits = self.client.search_all("")
        self.assertEqual(len(hits), distinct)
        self.assertEqual({h.sha256 for h in hits}, set(self.state["by_sha"]))


if __name__ == "__main__":
    unittest.main()
