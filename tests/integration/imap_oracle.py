"""The shared set-up of the Dovecot-oracle IMAP tests (test_imap_search_oracle,
test_imap_sort_thread_oracle): the same real mail served by a private Dovecot without FTS and by
mailvault's IMAP server, messages matched by the SHA-256 of BODY.PEEK[] (UIDs differ).

Corpus: every message of ../shared/corpora (MANIFEST.tsv) outside the SpamAssassin set plus a
sample of that set, CRLF-normalised and deduplicated (≥ 300 messages), with the same mtime on
both sides so that INTERNALDATE agrees (Dovecot's Maildir and `mailvault import` both take it
from the file's mtime). mailvault gets them through `mailvault import` of a Maildir, and an
auditor user (`audra`) reads `All Mail`; Dovecot serves them in audra's INBOX.

OracleCase is the base class: setUpClass starts both servers with the corpus (subclasses add
`SERVE_ARGS` to `mailvault serve`), connect() gives two imaplib connections with the mailbox
selected read-only, send_command() sends one command with literals and collects its untagged
lines.
"""

import hashlib
import os
import re
import unittest

import dovecot
import harness
import test_ingest_imap

PASSWORD = "audit-pw-3"
SPAMASSASSIN_SAMPLE = 150


class Literal(bytes):
    """A command argument sent as an IMAP synchronising literal."""


def crlf(data):
    return re.sub(rb"\r?\n", b"\r\n", data)


def oracle_messages():
    msgs = test_ingest_imap.corpus_messages()
    # MANIFEST order: the SpamAssassin set is the large majority; keep every other message and
    # an even sample of it.
    root = harness.corpora_dir()
    with open(os.path.join(root, "MANIFEST.tsv"), encoding="utf-8") as fh:
        next(fh)
        names = [line.split("\t", 1)[0] for line in fh]
    assert len(names) >= len(msgs)
    spam = [m for n, m in zip(names, msgs) if n.startswith("spamassassin")]
    other = [m for n, m in zip(names, msgs) if not n.startswith("spamassassin")]
    step = max(1, len(spam) // SPAMASSASSIN_SAMPLE)
    chosen = other + spam[::step][:SPAMASSASSIN_SAMPLE]
    out, seen = [], set()
    for m in chosen:
        m = crlf(m)
        if not re.match(rb"[!-9;-~]+[ \t]*:", m):
            continue  # not a message (no header field first): mailvault refuses to archive it
        h = hashlib.sha256(m).hexdigest()
        if h not in seen:
            seen.add(h)
            out.append(m)
    return out


def mtime_of(i):
    # 2020-12-01 plus 7 hours per message: spans days and months on both sides of the dates
    # used in the tests, never near midnight (INTERNALDATE days are then zone-proof).
    return 1606824000 + i * 7 * 3600


def set_dovecot_mtimes(dv, user, folder, mtimes):
    """Gives the files of a freshly appended Dovecot folder these mtimes, in UID order."""
    new_dir = os.path.join(dv.folder_path(user, folder), "new")
    names = sorted(os.listdir(new_dir), key=lambda n: (int(n.split(".")[0]),
                                                       int(n.split(".M")[1].split("P")[0])))
    assert len(names) == len(mtimes), (len(names), len(mtimes))
    for n, t in zip(names, mtimes):
        os.utime(os.path.join(new_dir, n), (t, t))


def send_command(m, tag, command, program):
    """Sends `tag command program` on imaplib connection m (Literal pieces as synchronising
    literals); returns (tagged status line, untagged lines without CRLF)."""
    buf = tag + b" " + command
    for arg in program:
        if isinstance(arg, Literal):
            m.send(buf + b" {%d}\r\n" % len(arg))
            cont = m.readline()
            if not cont.startswith(b"+"):
                raise AssertionError("no continuation for a literal: %r" % cont)
            buf = bytes(arg)
        else:
            buf += b" " + arg.encode()
    m.send(buf + b"\r\n")
    untagged = []
    while True:
        line = m.readline().rstrip(b"\r\n")
        if line.startswith(tag + b" "):
            return line, untagged
        untagged.append(line)


def sha_by_uid(m):
    typ, data = m.uid("FETCH", "1:*", "(UID BODY.PEEK[])")
    assert typ == "OK", data
    out = {}
    for item in data:
        if isinstance(item, tuple):
            uid = int(re.search(rb"UID (\d+)", item[0]).group(1))
            out[uid] = hashlib.sha256(item[1]).hexdigest()
    return out


class OracleCase(harness.MailvaultTestCase):
    """Both servers with the corpus; see the module docstring. Subclasses skip themselves when
    Dovecot is missing (@unittest.skipIf(dovecot.dovecot_available(), ...))."""

    SERVE_ARGS = []

    @classmethod
    def setUpClass(cls):
        if harness.corpora_dir() is None:
            raise unittest.SkipTest("real-mail corpora not found (expected $MAILVAULT_SOURCE_DIR/"
                                    "../shared/corpora with MANIFEST.tsv); the oracle needs them")
        cls.msgs = oracle_messages()
        assert len(cls.msgs) >= 300, len(cls.msgs)
        cls.tmp = harness.make_tempdir()
        cls.dv = dovecot.Dovecot(os.path.join(cls.tmp, "dovecot")).start()
        harness.ACTIVE_LOGS.append(("dovecot", cls.dv.log_path))
        cls.dv.add_user("audra", PASSWORD)
        cls.dv.append("audra", "INBOX", cls.msgs)
        set_dovecot_mtimes(cls.dv, "audra", "INBOX", [mtime_of(i) for i in range(len(cls.msgs))])

        maildir = os.path.join(cls.tmp, "in", "maildir")
        for d in ("cur", "new", "tmp"):
            os.makedirs(os.path.join(maildir, d))
        for i, data in enumerate(cls.msgs):
            path = os.path.join(maildir, "cur", "%d.M%dP1.oracle:2," % (1600000000 + i, i))
            with open(path, "wb") as fh:
                fh.write(data)
            os.utime(path, (mtime_of(i), mtime_of(i)))

        cls.pg = harness.Postgres(os.path.join(cls.tmp, "pg")).start()
        cls.dburl = cls.pg.create_database()
        cls.data = os.path.join(cls.tmp, "data")
        cls.server = harness.Server(cls.data, database_url=cls.dburl,
                                    extra_args=["--imap-listen", "127.0.0.1:0"] + cls.SERVE_ARGS)
        try:
            cls.server.start()
            cls.imap_port = cls.server.listen_port()
            r = cls.server.cli("import", maildir, "--json", timeout=harness.slow(600))
            assert r.returncode == 0, r.describe()
            r = harness.run_cli(["user", "add", "audra", "--data-dir", cls.data, "--role",
                                 "auditor", "--password-stdin"], input=(PASSWORD + "\n").encode())
            assert r.returncode == 0, r.describe()
            # With the index complete, BODY and TEXT read only the candidates the index gives
            # (indexer/substring_narrower.h): the search oracle then also checks that narrowing
            # never drops a match.
            harness.wait_index_caught_up_cli(cls.data)
        except Exception:
            cls.server.stop()
            cls.pg.cleanup()
            cls.dv.stop()
            raise

    @classmethod
    def tearDownClass(cls):
        try:
            cls.server.stop_checked()
        finally:
            cls.pg.cleanup()
            cls.dv.stop()
            harness.remove_tree(cls.tmp)

    def mailvault(self):
        """An imaplib connection to mailvault as audra, `All Mail` examined."""
        import imaplib
        mv = imaplib.IMAP4("127.0.0.1", self.imap_port, timeout=120)
        mv.login("audra", PASSWORD)
        typ, data = mv.select('"All Mail"', readonly=True)
        self.assertEqual(typ, "OK", data)
        self.addCleanup(mv.logout)
        return mv

    def connect(self, dovecot_folder="INBOX"):
        mv = self.mailvault()
        dv = self.dv.imap("audra")
        typ, data = dv.select(dovecot_folder, readonly=True)
        self.assertEqual(typ, "OK", data)
        self.addCleanup(dv.logout)
        return mv, dv
