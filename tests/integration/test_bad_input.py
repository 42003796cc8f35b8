"""Bad input never takes the service down, and never costs good mail.

One `mailvault import --json` run gets good messages (.eml files and an mbox) together with: a
missing path, 1 MiB of random bytes, a copy of /bin/ls, an empty file, a FIFO, a text file that
is not mail, a truncated mbox (cut in the middle of its last message), a 50 MB message, a message
with 10,000 MIME parts, a message with a 1 MiB header line, and invalid UTF-8 in headers and body.

* Exit status 2; the summary line counts them; every file that is not mail is reported on stderr
  (`  failed: <path>: <reason>`) and in the JSON (`outcome: failed`, `reason`) with the reason
  the contract names (no such file, binary data, empty file, not a regular file, no header fields).
* Everything that is mail is archived byte for byte (the huge, many-part, long-header, bad-UTF-8
  and truncated messages included) and comes back identical (`show --raw` and gRPC).
* The server is still up (`status` answers) and indexes all of it.
* Client errors: a bad query is a one-line error naming the column (exit 1); `show 999999` is
  "not found" (exit 1); an unreachable server is a clear one-line error (exit 1).
"""

import hashlib
import os
import random
import re
import shutil
import unittest

import harness

SUMMARY = re.compile(r"read (\d+) messages: (\d+) stored, (\d+) duplicates, (\d+) failed")
BIG_MB = harness.scale(50, 20)
PARTS = harness.scale(10000, 3000)


def good_message(i):
    return ("From: Good Sender <good%d@example.net>\nTo: bench@example.org\n"
            "Subject: good message number %d\nDate: Wed, 06 Mar 2024 12:%02d:00 +0000\n"
            "Message-ID: <good-%d@example.net>\n\nThis one is fine, number %d.\n" % (i, i, i, i, i)).encode()


def many_parts(n):
    b = "part-boundary-xyz"
    out = [("From: parts@example.net\nTo: bench@example.org\nSubject: %d parts\n"
            "Message-ID: <many-parts@example.net>\nMIME-Version: 1.0\n"
            "Content-Type: multipart/mixed; boundary=\"%s\"\n\npreamble\n" % (n, b))]
    for i in range(n):
        out.append("--%s\nContent-Type: text/plain; charset=us-ascii\n\npart %d\n" % (b, i))
    out.append("--%s--\n" % b)
    return "".join(out).encode()


def long_header(size):
    rng = random.Random(3)
    words = " ".join("w%05d" % rng.randrange(100000) for _ in range(size // 7))
    return ("From: long@example.net\nTo: bench@example.org\nSubject: " + words +
            "\nMessage-ID: <long-header@example.net>\n\nshort body\n").encode()


def huge_message(mb):
    rng = random.Random(5)
    line = b" ".join(b"%08x" % rng.getrandbits(32) for _ in range(8)) + b"\n"
    body = line * (mb * 1024 * 1024 // len(line) + 1)
    return (b"From: huge@example.net\nTo: bench@example.org\nSubject: huge\n"
            b"Message-ID: <huge@example.net>\nContent-Type: text/plain\n\n" + body)


def bad_utf8():
    return (b"From: =?utf-8?q?Bad_=FF=FE?= <bad\xff@example.net>\nTo: bench@example.org\n"
            b"Subject: caf\xc3 \xff\xfe broken \xed\xa0\x80 surrogate\n"
            b"Message-ID: <bad-utf8@example.net>\nMIME-Version: 1.0\n"
            b"Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n"
            b"body with \xc0\xaf overlong, \xff bytes, \xe2\x82 truncated and fine words\n")


class BadInput(harness.MailvaultTestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = harness.make_tempdir()
        cls.pg = harness.Postgres(os.path.join(cls.tmp, "pg")).start()
        cls.server = harness.Server(os.path.join(cls.tmp, "data"), database_url=cls.pg.create_database())
        try:
            cls.server.start()
        except Exception:
            cls.pg.cleanup()
            raise
        cls.client = cls.server.client()

    @classmethod
    def tearDownClass(cls):
        cls.client.close()
        try:
            cls.server.stop_checked()
        finally:
            cls.pg.cleanup()
            harness.remove_tree(cls.tmp)

    def write(self, name, data):
        path = os.path.join(self.inputs, name)
        with open(path, "wb") as fh:
            fh.write(data)
        return path

    def test_mixed_import(self):
        self.inputs = os.path.join(self.tmp, "in")
        os.makedirs(self.inputs, exist_ok=True)
        good = [self.write("good%d.eml" % i, good_message(i)) for i in range(3)]
        mbox_msgs = [good_message(10 + i) for i in range(3)]
        good_mbox = self.write("good.mbox", b"".join(
            b"From sender@example.net Wed Mar  6 12:00:00 2024\n" + m + b"\n" for m in mbox_msgs))
        # truncated: the last message is cut in the middle of its body
        trunc_msgs = [good_message(20), good_message(21)]
        trunc_data = b"".join(b"From x@example.net Wed Mar  6 12:00:00 2024\n" + m + b"\n" for m in trunc_msgs)
        trunc_data += b"From x@example.net Wed Mar  6 12:00:00 2024\n" + good_message(22)[:-12]
        truncated = self.write("truncated.mbox", trunc_data)
        missing = os.path.join(self.inputs, "does-not-exist.eml")
        rnd = random.Random(11)
        random_bin = self.write("random.bin", bytes(rnd.getrandbits(8) for _ in range(1 << 20)))
        ls_copy = os.path.join(self.inputs, "ls-copy")
        shutil.copyfile("/bin/ls", ls_copy)
        empty = self.write("empty.eml", b"")
        notmail = self.write("notes.txt", b"# shopping list\n- milk\n- eggs\n")
        fifo = os.path.join(self.inputs, "a-fifo")
        os.mkfifo(fifo)
        big = self.write("huge.eml", huge_message(BIG_MB))
        parts = self.write("parts.eml", many_parts(PARTS))
        longh = self.write("long-header.eml", long_header(1 << 20))
        badu = self.write("bad-utf8.eml", bad_utf8())

        mail_files = good + [big, parts, longh, badu]
        bad_files = {missing: "no such file", random_bin: "binary", ls_copy: "binary", empty: "empty",
                     fifo: "regular file", notmail: "header"}
        args = (good + [good_mbox, truncated, missing, random_bin, ls_copy, empty, notmail, fifo, big,
                        parts, longh, badu])
        r = self.server.cli("import", *args, "--json", timeout=harness.slow(900))
        self.assertCli(r, 2, "some inputs failed: exit status 2")
        self.assertTrue(self.server.running(), "the server died:\n" + self.server.log_tail())
        records = r.json_lines()
        by_path = {}
        for rec in records:
            by_path.setdefault(rec["path"], []).append(rec)

        # -- the bad ones: a clear reason on stderr and in the JSON ----------------------------
        failed_lines = [ln for ln in r.err.splitlines() if ln.startswith("  failed: ")]
        for path, word in bad_files.items():
            with self.subTest(bad=os.path.basename(path)):
                recs = by_path.get(path, [])
                self.assertEqual(len(recs), 1, "one JSON record for %s: %r" % (path, recs))
                self.assertEqual(recs[0]["outcome"], "failed")
                self.assertIn(word, recs[0].get("reason", "").lower())
                line = [ln for ln in failed_lines if ln.startswith("  failed: %s: " % path)]
                self.assertEqual(len(line), 1, "stderr line for %s in:\n%s" % (path, r.err))
                self.assertIn(word, line[0].lower())
        m = SUMMARY.search(r.err)
        self.assertIsNotNone(m, r.err)
        read, stored, dups, failed = map(int, m.groups())
        self.assertEqual(failed, len(bad_files))

        # -- everything that is mail is stored and comes back identical --------------------------
        expected = {}
        for p in mail_files:
            with open(p, "rb") as fh:
                expected[(p, None)] = fh.read()
        for i, msg in enumerate(mbox_msgs):
            expected[(good_mbox, None, i)] = msg
        for i, msg in enumerate(trunc_msgs + [good_message(22)[:-12]]):
            expected[(truncated, None, i)] = msg
        self.assertEqual(stored, len(expected))
        self.assertEqual(read, len(expected) + len(bad_files))
        for p in mail_files:
            recs = by_path.get(p, [])
            self.assertEqual([x["outcome"] for x in recs], ["stored"], "%s: %r" % (p, recs))
            self.assertEqual(recs[0]["sha256"], hashlib.sha256(expected[(p, None)]).hexdigest())
            self.assertNotIn("offset", recs[0])
        for path, msgs in ((good_mbox, mbox_msgs), (truncated, trunc_msgs + [good_message(22)[:-12]])):
            recs = sorted(by_path.get(path, []), key=lambda x: x["offset"])
            self.assertEqual([x["outcome"] for x in recs], ["stored"] * len(msgs), path)
            with open(path, "rb") as fh:
                data = fh.read()
            for rec, msg in zip(recs, msgs):
                self.assertEqual(rec["sha256"], hashlib.sha256(msg).hexdigest(), "%s#%d" % (path, rec["offset"]))
                self.assertEqual(data[rec["offset"]:rec["offset"] + len(msg)], msg)

        ids = {rec["path"] + "#" + str(rec.get("offset")): rec["id"] for rec in records if "id" in rec}
        for p in (big, parts, longh, badu):
            with open(p, "rb") as fh:
                want = fh.read()
            msg_id = ids[p + "#None"]
            got = self.client.get_raw(msg_id, timeout=harness.slow(300))
            self.assertEqual(len(got), len(want), p)
            self.assertTrue(got == want, "%s: GetRawMessage bytes differ" % p)
            shown = self.server.cli("show", str(msg_id), "--raw", timeout=harness.slow(300))
            self.assertCli(shown)
            self.assertTrue(shown.stdout == want, "%s: `show --raw` bytes differ" % p)

        # -- the server is fine and indexes all of it ----------------------------------------------
        st = harness.wait_index_caught_up(self.client, timeout=harness.slow(600))
        self.assertEqual(st.messages, len(expected))
        status = self.server.cli("status", "--json")
        self.assertCli(status)
        self.assertEqual(status.json()["messages"], len(expected))
        # the odd messages are searchable
        self.assertEqual({h.id for h in self.client.search_all("msgid:many-parts@example.net")},
                         {ids[parts + "#None"]})
        self.assertEqual({h.id for h in self.client.search_all("subject:w%05d" % random.Random(3).randrange(100000))},
                         {ids[longh + "#None"]})
        self.assertEqual({h.id for h in self.client.search_all("msgid:bad-utf8@example.net")},
                         {ids[badu + "#None"]})
        self.assertEqual({h.id for h in self.client.search_all("from:huge@example.net")}, {ids[big + "#None"]})
        # `show --json` of a good message
        good_id = ids[good[0] + "#None"]
        shown = self.server.cli("show", str(good_id), "--json")
        self.assertCli(shown)
        j = shown.json()
        self.assertEqual((j["id"], j["sha256"], j["subject"], j["message_id"], j["size"]),
                         (good_id, hashlib.sha256(good_message(0)).hexdigest(), "good message number 0",
                          "good-0@example.net", len(good_message(0))))
        self.assertIn("This one is fine, number 0.", j["text"])
        # a GetMessage of the bad-UTF-8 message is valid UTF-8 everywhere (protobuf strings)
        m = self.client.get_message(ids[badu + "#None"])
        self.assertIn("surrogate", m.summary.subject)
        self.assertIn("fine words", m.text)
        m = self.client.get_message(ids[parts + "#None"])
        self.assertIn("part 9", m.text)

    # -- client-side errors ---------------------------------------------------------------------
    def test_bad_query_is_one_line_with_column(self):
        for query, column in (("(unbalanced", 1), ("alpha )", 7), ("alpha beta from:", None)):
            r = self.server.cli("search", query)
            self.assertCli(r, 1, "query %r" % query)
            lines = r.err.strip().splitlines()
            self.assertEqual(len(lines), 1, "one line on stderr for %r:\n%s" % (query, r.err))
            self.assertIn("column %d" % column if column else "column ", lines[0])
            self.assertEqual(r.stdout, b"")

    def test_bad_sort_option(self):
        r = self.server.cli("search", "x", "--sort", "sideways")
        self.assertCli(r, 1)
        self.assertEqual(len(r.err.strip().splitlines()), 1, r.err)
        self.assertIn("sideways", r.err)

    def test_show_unknown_id(self):
        for args in (["show", "999999"], ["show", "999999", "--raw"], ["show", "999999", "--json"]):
            r = self.server.cli(*args)
            self.assertCli(r, 1, " ".join(args))
            lines = r.err.strip().splitlines()
            self.assertEqual(len(lines), 1, r.err)
            self.assertRegex(lines[0].lower(), r"not found|no message")
            self.assertIn("999999", lines[0])

    def test_unreachable_server(self):
        import socket
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()  # nothing listens there now
        for cmd in (["status"], ["search", "x"], ["show", "1"], ["import", self.tmp]):
            r = harness.run_cli(cmd + ["--server", "127.0.0.1:%d" % port, "--token", "x"], timeout=60)
            self.assertCli(r, 1, " ".join(cmd))
            lines = r.err.strip().splitlines()
            self.assertEqual(len(lines), 1, r.err)
            self.assertIn("127.0.0.1:%d" % port, lines[0])
            self.assertRegex(lines[0].lower(), r"reach|connect|unavailable")
        # a data dir without a running server: no token file -> clear error too
        empty = os.path.join(self.tmp, "nothing-here")
        os.makedirs(empty, exist_ok=True)
        r = harness.run_cli(["status", "--data-dir", empty], timeout=60)
        self.assertCli(r, 1)
        self.assertEqual(len(r.err.strip().splitlines()), 1, r.err)

    def test_log_level_after_the_subcommand(self):
        # The contract: `mailvault serve --data-dir D ... [--log-level debug]` (and the same for
        # client commands): --log-level is accepted after the subcommand name too.
        with self.subTest("serve ... --log-level debug"):
            other = harness.Server(os.path.join(self.tmp, "data-loglevel"),
                                   database_url=self.pg.create_database(), extra_args=["--log-level", "debug"])
            try:
                other.start()
                self.assertCli(other.cli("status", "--json"), 0)
            finally:
                other.stop()
        with self.subTest("status ... --log-level debug"):
            r = harness.run_cli(["status", "--data-dir", self.server.data_dir, "--log-level", "debug"], timeout=60)
            self.assertCli(r, 0, "`status ... --log-level debug`")

    def test_wrong_token(self):
        r = harness.run_cli(["status", "--server", self.server.address, "--token", "wrong"], timeout=60)
        self.assertCli(r, 1)
        self.assertEqual(len(r.err.strip().splitlines()), 1, r.err)
        self.assertRegex(r.err.lower(), r"not authori[sz]ed|unauthenticated|token")


if __name__ == "__main__":
    unittest.main()
