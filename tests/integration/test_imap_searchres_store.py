"""SEARCHRES (RFC 5182), ESEARCH (RFC 4731), SORT/THREAD on a small hand-made thread, and STORE
answered OK without effect (`serve --imap-store-ok`), driven by Python imaplib and raw commands
against one `mailvault serve --imap-listen 127.0.0.1:0 --imap-store-ok`.

Five messages are imported from a Maildir (flags from the file names): a thread "Plan" (p1, a
reply, and a reply whose References name a message that is not archived) and two unrelated
"Budget"/"budget" messages. Messages are named by Message-ID and mapped to UIDs through FETCH.

* CAPABILITY lists ESEARCH SEARCHRES SORT SORT=DISPLAY THREAD=ORDEREDSUBJECT THREAD=REFERENCES.
* ESEARCH: RETURN (MIN MAX COUNT ALL), RETURN () = ALL, no match (COUNT 0 only), sequence-number
  form.
* SEARCHRES: SAVE alone sends no ESEARCH; `$` in SEARCH (with NOT and AND), FETCH, UID FETCH,
  UID SORT and UID THREAD; SAVE with MIN/MAX saves only those; a failed SAVE empties `$`; CLOSE
  and a new EXAMINE reset it.
* SORT (SUBJECT DATE), (REVERSE DATE), (FROM), (DISPLAYFROM); THREAD REFERENCES (the missing
  parent pruned, the two Budget roots gathered under a dummy) and ORDEREDSUBJECT: exact answers.
* STORE/UID STORE (+FLAGS, -FLAGS, FLAGS.SILENT): OK, untagged FETCH with the unchanged flags
  unless .SILENT; later FETCH FLAGS unchanged and the database checksums unchanged. (Without
  --imap-store-ok STORE is NO [CANNOT]: test_imap_server.test_write_commands_refused.)
"""

import imaplib
import os
import re

import harness
from imap_oracle import send_command
from test_imap_server import checksums

PASSWORD = "audra-pw-9"

# (message-id, from, subject, date hh:mm, references, maildir flags)
MESSAGES = [
    ("p1", "Carol <carol@example.org>", "Plan", "10:00", "", "S"),
    ("p2", "Alice <alice@example.org>", "Re: Plan", "11:00", "<p1@x>", "FS"),
    ("b1", "bob@example.org", "Budget", "09:00", "", ""),
    ("p4", "Dave <dave@example.org>", "Re: [team] Plan", "12:00", "<p1@x> <p3@x>", ""),
    ("b2", "Erin <erin@example.org>", "budget", "08:00", "", "R"),
]


def raw_message(mid, sender, subject, hhmm, refs):
    refs_field = b"References: %s\r\n" % refs.encode() if refs else b""
    return (b"From: %s\r\nTo: team@example.org\r\nSubject: %s\r\n"
            b"Date: Wed, 06 Mar 2024 %s:00 +0000\r\nMessage-ID: <%s@x>\r\n%s\r\n"
            b"Body of %s.\r\n" % (sender.encode(), subject.encode(), hhmm.encode(),
                                  mid.encode(), refs_field, mid.encode()))


class ImapSearchResStore(harness.MailvaultTestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = harness.make_tempdir()
        cls.pg = harness.Postgres(os.path.join(cls.tmp, "pg")).start()
        cls.dburl = cls.pg.create_database()
        cls.data = os.path.join(cls.tmp, "data")
        cls.server = harness.Server(cls.data, database_url=cls.dburl,
                                    extra_args=["--imap-listen", "127.0.0.1:0",
                                                "--imap-store-ok"])
        try:
            cls.server.start()
            cls.imap_port = cls.server.listen_port()
            maildir = os.path.join(cls.tmp, "maildir")
            for d in ("cur", "new", "tmp"):
                os.makedirs(os.path.join(maildir, d))
            for n, (mid, sender, subject, hhmm, refs, flags) in enumerate(MESSAGES):
                name = "17000000%02d.M%dP1.host:2,%s" % (n, n, flags)
                with open(os.path.join(maildir, "cur", name), "wb") as fh:
                    fh.write(raw_message(mid, sender, subject, hhmm, refs))
            r = cls.server.cli("import", maildir, "--json", timeout=harness.slow(300))
            assert r.returncode == 0, r.describe()
            r = harness.run_cli(["user", "add", "audra", "--data-dir", cls.data, "--role",
                                 "auditor", "--password-stdin"], input=(PASSWORD + "\n").encode())
            assert r.returncode == 0, r.describe()
        except Exception:
            cls.server.stop()
            cls.pg.cleanup()
            raise

    @classmethod
    def tearDownClass(cls):
        try:
            cls.server.stop_checked()
        finally:
            cls.pg.cleanup()
            harness.remove_tree(cls.tmp)

    def setUp(self):
        self.m = imaplib.IMAP4("127.0.0.1", self.imap_port, timeout=30)
        self.addCleanup(self.m.logout)
        self.m.login("audra", PASSWORD)
        typ, data = self.m.select('"All Mail"', readonly=True)
        self.assertEqual((typ, data), ("OK", [b"5"]))
        # Message-ID -> UID and sequence number.
        typ, data = self.m.fetch("1:*", "(UID BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])")
        self.assertEqual(typ, "OK", data)
        self.uid, self.seq = {}, {}
        for item in data:
            if isinstance(item, tuple):
                seq, uid = map(int, re.match(rb"(\d+) \(UID (\d+)", item[0]).groups())
                mid = re.search(rb"<(\w+)@x>", item[1]).group(1).decode()
                self.uid[mid], self.seq[mid] = uid, seq
        self.assertEqual(set(self.uid), {m[0] for m in MESSAGES})
        self.tag = 0

    def cmd(self, command, *args):
        """Sends a raw command; returns (status line, untagged lines)."""
        self.tag += 1
        status, lines = send_command(self.m, b"r%d" % self.tag, command.encode(), list(args))
        return status, lines

    def uids(self, *mids):
        return [self.uid[m] for m in mids]

    def esearch(self, command, *args):
        status, lines = self.cmd(command, *args)
        self.assertIn(b" OK ", status + b" ")
        found = [line for line in lines if line.startswith(b"* ESEARCH")]
        self.assertLessEqual(len(found), 1, lines)
        if not found:
            return None
        return re.sub(rb'^\* ESEARCH \(TAG "r\d+"\) ?', b"", found[0]).decode()

    def search(self, command, *args):
        status, lines = self.cmd(command, *args)
        self.assertIn(b" OK ", status + b" ", (command, args, status))
        return sorted(int(x) for line in lines if line.startswith(b"* SEARCH")
                      for x in line.split()[2:])

    def numbers(self, prefix, command, *args):
        status, lines = self.cmd(command, *args)
        self.assertIn(b" OK ", status + b" ", (command, args, status))
        return [int(x) for line in lines if line.startswith(prefix) for x in line.split()[2:]]

    def test_capabilities(self):
        typ, data = self.m.capability()
        caps = data[0].split()
        for cap in (b"ESEARCH", b"SEARCHRES", b"SORT", b"SORT=DISPLAY", b"THREAD=REFERENCES",
                    b"THREAD=ORDEREDSUBJECT"):
            self.assertIn(cap, caps)

    def test_esearch(self):
        plan = sorted(self.uids("p1", "p2", "p4"))
        got = self.esearch("UID SEARCH", "RETURN", "(MIN MAX COUNT ALL)", "SUBJECT", "plan")
        parts = got.split()
        self.assertEqual(parts[:7], ["UID", "MIN", str(plan[0]), "MAX", str(plan[-1]), "COUNT",
                                     "3"])
        self.assertEqual(parts[7], "ALL")
        self.assertEqual(expand(parts[8]), plan)
        got = self.esearch("UID SEARCH", "RETURN", "()", "FROM", "erin")
        self.assertEqual(got, "UID ALL %d" % self.uid["b2"])
        self.assertEqual(self.esearch("UID SEARCH", "RETURN", "(MIN COUNT)", "FROM", "nobody"),
                         "UID COUNT 0")
        self.assertEqual(self.esearch("SEARCH", "RETURN", "(MAX)", "SUBJECT", "budget"),
                         "MAX %d" % max(self.seq["b1"], self.seq["b2"]))

    def test_searchres(self):
        self.assertEqual(self.search("SEARCH", "$"), [])  # nothing saved yet
        self.assertIsNone(self.esearch("SEARCH", "RETURN", "(SAVE)", "SUBJECT", "plan"))
        self.assertEqual(self.search("UID SEARCH", "$"), sorted(self.uids("p1", "p2", "p4")))
        self.assertEqual(self.search("UID SEARCH", "NOT", "$"), sorted(self.uids("b1", "b2")))
        self.assertEqual(self.search("UID SEARCH", "$", "FROM", "dave"), self.uids("p4"))
        typ, data = self.m.fetch("$", "(UID)")
        self.assertEqual(typ, "OK", data)
        self.assertEqual(sorted(int(re.search(rb"UID (\d+)", d).group(1)) for d in data),
                         sorted(self.uids("p1", "p2", "p4")))
        typ, data = self.m.uid("FETCH", "$", "(FLAGS)")
        self.assertEqual(len(data), 3, data)
        self.assertEqual(self.numbers(b"* SORT", "UID SORT", "(DATE)", "UTF-8", "$"),
                         self.uids("p1", "p2", "p4"))
        status, lines = self.cmd("UID THREAD", "REFERENCES", "UTF-8", "$")
        self.assertEqual(lines, [b"* THREAD (%d (%d)(%d))" % tuple(self.uids("p1", "p2", "p4"))])
        # SAVE with MIN saves the minimum only, and sends what else was asked.
        got = self.esearch("UID SEARCH", "RETURN", "(SAVE MIN)", "SUBJECT", "budget")
        b_min = min(self.uids("b1", "b2"))
        self.assertEqual(got, "UID MIN %d" % b_min)
        self.assertEqual(self.search("UID SEARCH", "$"), [b_min])
        # A failed SAVE leaves $ empty.
        status, _ = self.cmd("SEARCH", "RETURN", "(SAVE)", "CHARSET", "KOI8-R", "ALL")
        self.assertIn(b"NO [BADCHARSET", status)
        self.assertEqual(self.search("SEARCH", "$"), [])
        # CLOSE and EXAMINE reset it.
        self.esearch("SEARCH", "RETURN", "(SAVE)", "ALL")
        self.assertEqual(len(self.search("SEARCH", "$")), 5)
        self.m.close()
        self.m.select('"All Mail"', readonly=True)
        self.assertEqual(self.search("SEARCH", "$"), [])

    def test_sort_and_thread(self):
        self.assertEqual(self.numbers(b"* SORT", "UID SORT", "(SUBJECT DATE)", "UTF-8", "ALL"),
                         self.uids("b2", "b1", "p1", "p2", "p4"))
        self.assertEqual(self.numbers(b"* SORT", "UID SORT", "(REVERSE DATE)", "UTF-8", "ALL"),
                         self.uids("p4", "p2", "p1", "b1", "b2"))
        self.assertEqual(self.numbers(b"* SORT", "UID SORT", "(FROM)", "UTF-8", "ALL"),
                         self.uids("p2", "b1", "p1", "p4", "b2"))
        # Display names (bob has none: his address) with the subject as a second key.
        self.assertEqual(self.numbers(b"* SORT", "UID SORT", "(DISPLAYFROM)", "UTF-8", "ALL"),
                         self.uids("p2", "b1", "p1", "p4", "b2"))
        self.assertEqual(self.numbers(b"* SORT", "SORT", "(REVERSE SUBJECT DATE)", "UTF-8",
                                      "SUBJECT", "plan"),
                         [self.seq[m] for m in ("p1", "p2", "p4")])
        status, lines = self.cmd("UID THREAD", "REFERENCES", "UTF-8", "ALL")
        self.assertEqual(lines, [b"* THREAD ((%d)(%d))(%d (%d)(%d))" %
                                 tuple(self.uids("b2", "b1", "p1", "p2", "p4"))])
        status, lines = self.cmd("UID THREAD", "ORDEREDSUBJECT", "UTF-8", "ALL")
        self.assertEqual(lines, [b"* THREAD (%d %d)(%d (%d)(%d))" %
                                 tuple(self.uids("b2", "b1", "p1", "p2", "p4"))])
        status, lines = self.cmd("THREAD", "REFERENCES", "UTF-8", "FROM", "nobody")
        self.assertEqual(lines, [b"* THREAD"])

    def flags(self):
        typ, data = self.m.uid("FETCH", "1:*", "(FLAGS)")
        self.assertEqual(typ, "OK", data)
        return sorted(data)

    def test_store_answers_ok_without_effect(self):
        before_db = checksums(self.dburl)
        before = self.flags()
        p1 = self.seq["p1"]
        typ, data = self.m.store(str(p1), "+FLAGS", "(\\Deleted \\Answered)")
        self.assertEqual(typ, "OK", data)
        self.assertEqual(data, [b"%d (FLAGS (\\Seen))" % p1])
        status, lines = self.cmd("UID STORE", str(self.uid["b1"]), "FLAGS", "(\\Seen)")
        self.assertIn(b" OK ", status)
        self.assertEqual(lines, [b"* %d FETCH (UID %d FLAGS ())" % (self.seq["b1"],
                                                                  self.uid["b1"])])
        status, lines = self.cmd("STORE", "1:*", "-FLAGS.SILENT", "(\\Seen)")
        self.assertIn(b" OK ", status)
        self.assertEqual(lines, [])
        self.assertEqual(self.flags(), before)
        self.assertEqual(checksums(self.dburl), before_db)
        # Other writes stay refused.
        status, _ = self.cmd("COPY", "1", "Imported")
        self.assertIn(b"NO [CANNOT]", status)


def expand(sequence_set):
    out = []
    for part in sequence_set.split(","):
        lo, _, hi = part.partition(":")
        out.extend(range(int(lo), int(hi or lo) + 1))
    return out
