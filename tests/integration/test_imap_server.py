"""The read-only IMAP server (server-imap/session), driven by Python imaplib, raw sockets and curl.

One `mailvault serve --imap-listen 127.0.0.1:0` on a private PostgreSQL; a Maildir (with flags)
and an mbox are imported with `mailvault import`; two users are added with `mailvault user add`:
`alice` (role user, granted alice@example.org) and `audra` (auditor).

* LOGIN works, a wrong password is NO; AUTHENTICATE PLAIN works (imaplib sends a continuation).
* LIST shows All Mail (\\All) and Imported/INBOX, Imported/lists; `LIST "" ""` gives "/".
* EXAMINE and SELECT are read-only (imaplib raises IMAP4.readonly on SELECT's [READ-ONLY]) with
  the right EXISTS, UIDVALIDITY and UIDNEXT; STATUS agrees.
* UID FETCH BODY.PEEK[] is byte-identical to the imported files and to gRPC GetRawMessage;
  RFC822.SIZE is the byte count; FETCH 1:* (FLAGS UID INTERNALDATE) covers every message and
  carries the Maildir flags (from the file names, through `mailvault import` and the Ingest
  RPC); every body read leaves an `imap_fetch` audit row.
* SEARCH LARGER / UID SEARCH UID / SEEN answer the right messages.
* Every write command answers NO and the checksums of messages and placements are unchanged.
* alice sees only mail of her address (and cannot fetch another message by UID); the auditor
  sees everything.
* A 1 MB line and a 100 MB literal announcement are refused (BAD [TOOBIG]) and the same
  connection and the server keep working.
* curl lists the mailboxes over imap:// and fetches a message by UID byte-identical.
* SIGTERM stops the server cleanly (tearDown checks the exit status).
"""

import base64
import hashlib
import imaplib
import os
import re
import socket
import subprocess
import time
import unittest

import harness

PASSWORDS = {"alice": "alice-pw-1", "audra": "audra-pw-2"}


def message(i, to, subject, body_lines=3, extra=b""):
    body = b"".join(b"line %d of message %d\r\n" % (n, i) for n in range(body_lines))
    return (b"From: Sender %d <sender%d@example.net>\r\nTo: %s\r\nSubject: %s\r\n"
            b"Date: Wed, 06 Mar 2024 12:%02d:00 +0000\r\nMessage-ID: <imap-%d@example.net>\r\n%s"
            b"\r\n%s" % (i, i, to, subject, i, i, extra, body))


def checksums(conninfo):
    return harness.query_conninfo(conninfo, """
        SELECT (SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY id), '')) FROM messages t),
               (SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY id), '')) FROM placements t),
               (SELECT count(*) FROM users)""").strip()


class RawClient:
    """A line-level IMAP client on a plain socket, for what imaplib will not send."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        self.buf = b""
        self.greeting = self.line()

    def line(self):
        while b"\r\n" not in self.buf:
            data = self.sock.recv(65536)
            if not data:
                raise ConnectionError("server closed the connection")
            self.buf += data
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def send(self, data):
        self.sock.sendall(data)

    def command(self, tag, text):
        """Sends `tag text`, returns the lines up to and including the tagged one."""
        self.send(tag + b" " + text + b"\r\n")
        return self.until(tag)

    def until(self, tag):
        lines = []
        while True:
            ln = self.line()
            lines.append(ln)
            if ln.startswith(tag + b" "):
                return lines

    def close(self):
        self.sock.close()


class ImapServer(harness.MailvaultTestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = harness.make_tempdir()
        cls.pg = harness.Postgres(os.path.join(cls.tmp, "pg")).start()
        cls.dburl = cls.pg.create_database()
        cls.data = os.path.join(cls.tmp, "data")
        cls.server = harness.Server(cls.data, database_url=cls.dburl,
                                    extra_args=["--imap-listen", "127.0.0.1:0",
                                                "--imap-max-connections", "20"])
        try:
            cls.server.start()
            cls.imap_port = cls.server.listen_port()
            cls._import_mail()
            cls._add_users()
        except Exception:
            cls.server.stop()
            cls.pg.cleanup()
            raise
        cls.client = cls.server.client()

    @classmethod
    def tearDownClass(cls):
        cls.client.close()
        try:
            cls.server.stop_checked()
            assert not os.path.exists(os.path.join(cls.data, "imap.address"))
        finally:
            cls.pg.cleanup()
            harness.remove_tree(cls.tmp)

    @classmethod
    def _import_mail(cls):
        src = os.path.join(cls.tmp, "in")
        maildir = os.path.join(src, "maildir")
        for d in ("cur", "new", "tmp"):
            os.makedirs(os.path.join(maildir, d))
        cls.raw = {}  # sha256 -> bytes
        cls.alice_msgs = set()  # sha256 of the messages alice may see
        big_extra = b"X-Padding: " + b"p" * 70 + b"\r\n"
        maildir_msgs = [
            (message(1, b"Alice <alice@example.org>", b"for alice one"), ":2,S"),
            (message(2, b"bob@example.org", b"for bob"), ":2,FS"),
            (message(3, b"carol@example.org", b"for carol", body_lines=4000), ""),  # ~100 KB
            (message(4, b"bob@example.org, ALICE@example.org", b"both"), ":2,RS"),
        ]
        for n, (raw, info) in enumerate(maildir_msgs):
            sub = "cur" if info else "new"
            with open(os.path.join(maildir, sub, "17000000%02d.M%dP1.host%s" % (n, n, info)), "wb") as fh:
                fh.write(raw)
        mbox_msgs = [message(5, b"dave@example.org", b"list mail", extra=big_extra),
                     message(6, b"alice@example.org", b"alice on a list")]
        with open(os.path.join(src, "lists.mbox"), "wb") as fh:
            for raw in mbox_msgs:
                fh.write(b"From sender@example.net Wed Mar  6 12:00:00 2024\n" +
                         raw.replace(b"\r\n", b"\n") + b"\n")
        all_raw = [m for m, _ in maildir_msgs] + [m.replace(b"\r\n", b"\n") for m in mbox_msgs]
        for raw in all_raw:
            h = harness.sha256_hex(raw)
            cls.raw[h] = raw
            if b"alice@example.org" in raw.lower().split(b"\n\n")[0].split(b"\r\n\r\n")[0]:
                cls.alice_msgs.add(h)
        r = cls.server.cli("import", maildir, os.path.join(src, "lists.mbox"), "--json",
                           timeout=harness.slow(300))
        assert r.returncode == 0, r.describe()
        rows = harness.query_conninfo(cls.dburl, "SELECT id, encode(sha256, 'hex') FROM messages")
        cls.ids = {}  # sha256 -> messages.id
        for line in rows.split():
            i, h = line.split("|")
            cls.ids[h] = int(i)
        assert set(cls.ids) == set(cls.raw), (sorted(cls.ids), sorted(cls.raw))
        assert len(cls.alice_msgs) == 3, len(cls.alice_msgs)
        # `mailvault import` carries the Maildir flags (file name info ":2,FS") to placements.

    @classmethod
    def _add_users(cls):
        for name, role, extra in (("alice", "user", ["--address", "alice@example.org"]),
                                  ("audra", "auditor", [])):
            r = harness.run_cli(["user", "add", name, "--data-dir", cls.data, "--role", role,
                                 "--password-stdin"] + extra,
                                input=(PASSWORDS[name] + "\n").encode())
            assert r.returncode == 0, r.describe()

    def imap(self, user="audra"):
        m = imaplib.IMAP4("127.0.0.1", self.imap_port, timeout=30)
        self.addCleanup(self._logout, m)
        if user:
            m.login(user, PASSWORDS[user])
        return m

    @staticmethod
    def _logout(m):
        try:
            m.logout()
        except Exception:
            pass

    def fetch_uid_body(self, m, uid):
        typ, data = m.uid("FETCH", str(uid), "(BODY.PEEK[] RFC822.SIZE)")
        self.assertEqual(typ, "OK", data)
        parts = [d for d in data if isinstance(d, tuple)]
        if not parts:
            return None, None
        size = int(re.search(rb"RFC822\.SIZE (\d+)", parts[0][0] + b" ".join(
            d for d in data if isinstance(d, bytes))).group(1))
        return parts[0][1], size

    # -- tests ----------------------------------------------------------------------------------

    def test_greeting_and_login(self):
        m = imaplib.IMAP4("127.0.0.1", self.imap_port, timeout=30)
        self.addCleanup(self._logout, m)
        self.assertIn(b"[CAPABILITY IMAP4rev1", m.welcome)
        self.assertIn("AUTH=PLAIN", m.capabilities)
        t0 = time.monotonic()
        with self.assertRaises(imaplib.IMAP4.error) as cm:
            m.login("alice", "wrong password")
        self.assertIn("AUTHENTICATIONFAILED", str(cm.exception))
        self.assertGreaterEqual(time.monotonic() - t0, 1.5)  # the failed-login delay
        typ, _ = m.login("alice", PASSWORDS["alice"])
        self.assertEqual(typ, "OK")
        typ, data = m.noop()
        self.assertEqual(typ, "OK")

    def test_authenticate_plain_continuation(self):
        m = imaplib.IMAP4("127.0.0.1", self.imap_port, timeout=30)
        self.addCleanup(self._logout, m)
        # imaplib never uses SASL-IR: the response goes on a continuation line.
        typ, _ = m.authenticate("PLAIN", lambda _: b"\0audra\0" + PASSWORDS["audra"].encode())
        self.assertEqual(typ, "OK")

    def test_list(self):
        m = self.imap()
        typ, data = m.list()
        self.assertEqual(typ, "OK")
        self.assertIn(b'(\\HasNoChildren \\All) "/" "All Mail"', data)
        self.assertIn(b'(\\HasNoChildren) "/" Imported/INBOX', data)
        self.assertIn(b'(\\HasNoChildren) "/" Imported/lists', data)
        self.assertIn(b'(\\Noselect \\HasChildren) "/" Imported', data)
        typ, data = m.list('""', '""')
        self.assertEqual(data, [b'(\\Noselect) "/" ""'])
        typ, data = m.list('""', "%")
        self.assertNotIn(b'(\\HasNoChildren) "/" Imported/INBOX', data)
        typ, data = m._simple_command("NAMESPACE")
        self.assertEqual(typ, "OK")

    def test_examine_select_status(self):
        m = self.imap()
        typ, data = m.select('"All Mail"', readonly=True)
        self.assertEqual((typ, data), ("OK", [b"6"]))
        uidvalidity = int(m.untagged_responses["UIDVALIDITY"][0])
        uidnext = int(m.untagged_responses["UIDNEXT"][0])
        self.assertGreater(uidvalidity, 0)
        self.assertGreater(uidnext, max(self.ids.values()))
        self.assertIn("READ-ONLY", m.untagged_responses)  # from the tagged OK [READ-ONLY]
        m.close()
        # SELECT answers [READ-ONLY] too, which imaplib reports as IMAP4.readonly.
        with self.assertRaises(imaplib.IMAP4.readonly):
            m.select('"All Mail"')
        m.untagged_responses.pop("READ-ONLY", None)  # or imaplib refuses every later command
        m.is_readonly = True
        typ, data = m.status("Imported/INBOX", "(MESSAGES UIDVALIDITY UIDNEXT UNSEEN)")
        self.assertEqual(typ, "OK")
        self.assertIn(b"MESSAGES 4", data[0])
        self.assertIn(b"UIDVALIDITY %d" % uidvalidity, data[0])
        self.assertIn(b"UNSEEN 1", data[0])
        typ, data = m.select("Imported/lists", readonly=True)
        self.assertEqual((typ, data), ("OK", [b"2"]))
        typ, data = m.select("No/Such", readonly=True)
        self.assertEqual(typ, "NO")

    def test_uid_fetch_is_byte_identical(self):
        m = self.imap()
        m.select('"All Mail"', readonly=True)
        for h, mid in self.ids.items():
            body, size = self.fetch_uid_body(m, mid)  # All Mail: UID = messages.id
            self.assertEqual(body, self.raw[h], "uid %d" % mid)
            self.assertEqual(size, len(self.raw[h]))
            self.assertEqual(self.client.get_raw(mid), body)
        audit = harness.query_conninfo(
            self.dburl, "SELECT count(DISTINCT message_id) FROM audit_log "
                        "WHERE action = 'imap_fetch' AND actor = 'audra'").strip()
        self.assertEqual(int(audit), len(self.ids))

    def test_fetch_sections(self):
        m = self.imap()
        m.select("Imported/INBOX", readonly=True)
        typ, data = m.fetch("1", "(BODY.PEEK[HEADER] BODY.PEEK[TEXT] BODY[]<0.10> RFC822.HEADER)")
        self.assertEqual(typ, "OK", data)
        raw = self.raw_of_seq(m, 1)
        header, _, text = raw.partition(b"\r\n\r\n")
        parts = [d for d in data if isinstance(d, tuple)]
        got = {re.search(rb"(BODY\[[A-Z]*\](<\d+>)?|RFC822\.HEADER) \{\d+\}$", p[0]).group(1): p[1]
               for p in parts}
        self.assertEqual(got[b"BODY[HEADER]"], header + b"\r\n\r\n")
        self.assertEqual(got[b"BODY[TEXT]"], text)
        self.assertEqual(got[b"BODY[]<0>"], raw[:10])
        self.assertEqual(got[b"RFC822.HEADER"], header + b"\r\n\r\n")

    def raw_of_seq(self, m, seq):
        typ, data = m.fetch(str(seq), "(BODY.PEEK[])")
        return data[0][1]

    def test_fetch_all_flags_uid_internaldate(self):
        m = self.imap()
        typ, data = m.select("Imported/INBOX", readonly=True)
        typ, data = m.fetch("1:*", "(FLAGS UID INTERNALDATE)")
        self.assertEqual(typ, "OK")
        self.assertEqual(len(data), 4, data)
        flags = {}
        for line in data:
            mm = re.match(rb'(\d+) \(FLAGS \(([^)]*)\) UID (\d+) INTERNALDATE "([^"]+)"\)',
                          line)
            self.assertIsNotNone(mm, line)
            flags[int(mm.group(3))] = mm.group(2)
            imaplib.Internaldate2tuple(b'INTERNALDATE "' + mm.group(4) + b'"')
        self.assertEqual(sorted(flags.values()),
                         sorted([b"\\Seen", b"\\Flagged \\Seen", b"", b"\\Answered \\Seen"]))
        uids = sorted(flags)
        self.assertEqual(uids, sorted(set(uids)))

    def test_search(self):
        m = self.imap()
        m.select('"All Mail"', readonly=True)
        big = [h for h, r in self.raw.items() if len(r) > 50000]
        typ, data = m.uid("SEARCH", "LARGER", "50000")
        self.assertEqual(data[0].split(), [str(self.ids[h]).encode() for h in big])
        lo, hi = sorted(self.ids.values())[1], sorted(self.ids.values())[3]
        typ, data = m.uid("SEARCH", "UID", "%d:%d" % (lo, hi))
        self.assertEqual([int(x) for x in data[0].split()],
                         [i for i in sorted(self.ids.values()) if lo <= i <= hi])
        typ, data = m.search(None, "NOT", "SMALLER", "1")
        self.assertEqual(data[0].split(), [b"1", b"2", b"3", b"4", b"5", b"6"])
        typ, data = m.search(None, "SENTON", "6-Mar-2024")
        self.assertEqual(len(data[0].split()), 6)
        m.select("Imported/INBOX", readonly=True)
        typ, data = m.search(None, "UNSEEN")
        self.assertEqual(len(data[0].split()), 1)
        typ, data = m.search(None, "FLAGGED")
        self.assertEqual(len(data[0].split()), 1)
        # Text keys: case-insensitive substring of the decoded field, over this mailbox only.
        m.select('"All Mail"', readonly=True)
        import email
        import email.header

        def subject_of(raw):
            v = email.message_from_bytes(raw).get("Subject", "")
            return str(email.header.make_header(email.header.decode_header(v))) if v else ""

        for needle in ("alice", "ALIC", "e"):
            want = sorted(self.ids[h] for h, r in self.raw.items()
                          if needle.lower() in subject_of(r).lower())
            typ, data = m.uid("SEARCH", "SUBJECT", needle)
            self.assertEqual(typ, "OK", data)
            self.assertEqual(sorted(int(x) for x in data[0].split()), want, needle)

    def test_write_commands_refused(self):
        before = checksums(self.dburl)
        m = self.imap()
        m.select('"All Mail"', readonly=True)
        for call in (lambda: m.store("1", "+FLAGS", "(\\Seen)"),
                     lambda: m.uid("STORE", "1:*", "+FLAGS.SILENT", "(\\Deleted)"),
                     lambda: m.copy("1:*", "Imported/INBOX"),
                     lambda: m.uid("MOVE", "1:*", "Imported/INBOX"),
                     lambda: m.expunge(),
                     lambda: m.create("New"),
                     lambda: m.delete("Imported/INBOX"),
                     lambda: m.rename("Imported/INBOX", "Other"),
                     lambda: m.subscribe("Imported/INBOX"),
                     lambda: m.unsubscribe("Imported/INBOX")):
            typ, data = call()
            self.assertEqual(typ, "NO", data)
            self.assertIn(b"CANNOT", data[0])
        try:  # refused at the literal's announcement: NO [CANNOT] instead of "+"
            typ, data = m.append("Imported/INBOX", None, None, b"Subject: x\r\n\r\nhi\r\n")
            self.assertEqual(typ, "NO", data)
        except imaplib.IMAP4.error:
            pass
        typ, _ = m.noop()
        self.assertEqual(typ, "OK")
        typ, data = m.select('"All Mail"', readonly=True)
        self.assertEqual(data, [b"6"])
        self.assertEqual(checksums(self.dburl), before)

    def test_user_sees_only_their_mail(self):
        m = self.imap("alice")
        typ, data = m.select('"All Mail"', readonly=True)
        self.assertEqual(data, [str(len(self.alice_msgs)).encode()])
        typ, data = m.uid("SEARCH", "ALL")
        self.assertEqual(sorted(int(x) for x in data[0].split()),
                         sorted(self.ids[h] for h in self.alice_msgs))
        for h, mid in self.ids.items():
            body, _ = self.fetch_uid_body(m, mid)
            if h in self.alice_msgs:
                self.assertEqual(body, self.raw[h])
            else:
                self.assertIsNone(body, "alice fetched message %d" % mid)
        typ, data = m.list()
        names = b" ".join(data)
        self.assertIn(b"Imported/lists", names)  # message 6 is to alice
        a = self.imap("audra")
        typ, data = a.select('"All Mail"', readonly=True)
        self.assertEqual(data, [b"6"])

    def test_hostile_input(self):
        c = RawClient(self.imap_port)
        self.addCleanup(c.close)
        self.assertTrue(c.greeting.startswith(b"* OK [CAPABILITY"))
        c.send(b"a1 NOOP " + b"x" * (1 << 20) + b"\r\n")
        lines = c.until(b"a1")
        self.assertTrue(lines[-1].startswith(b"a1 BAD [TOOBIG]"), lines)
        lines = c.command(b"a2", b"LOGIN {104857600}")
        self.assertTrue(lines[-1].startswith(b"a2 BAD [TOOBIG]"), lines)
        lines = c.command(b"a3", b"NOOP")
        self.assertEqual(lines[-1], b"a3 OK NOOP completed")
        lines = c.command(b"a4", b"LOGIN audra " + PASSWORDS["audra"].encode())
        self.assertTrue(lines[-1].startswith(b"a4 OK"), lines)
        lines = c.command(b"a5", b'EXAMINE "All Mail"')
        self.assertIn(b"* 6 EXISTS", lines)
        lines = c.command(b"a6", b"FROBNICATE")
        self.assertTrue(lines[-1].startswith(b"a6 BAD"), lines)
        lines = c.command(b"a7", b"SEARCH (((((ALL")
        self.assertTrue(lines[-1].startswith(b"a7 BAD"), lines)
        # a non-synchronising literal beyond LITERAL- is fatal: answered, then closed
        c.send(b"a8 LOGIN {100000+}\r\n")
        lines = [c.line(), c.line()]
        self.assertTrue(lines[0].startswith(b"a8 BAD [TOOBIG]"), lines)
        self.assertTrue(lines[1].startswith(b"* BYE"), lines)
        # the server still serves others
        m = self.imap()
        typ, _ = m.select('"All Mail"', readonly=True)
        self.assertEqual(typ, "OK")

    def test_curl(self):
        url = "imap://127.0.0.1:%d/" % self.imap_port
        auth = "audra:" + PASSWORDS["audra"]
        p = subprocess.run(["curl", "-sS", "--max-time", "60", url, "-u", auth],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=90)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn(b'"All Mail"', p.stdout)
        self.assertIn(b"Imported/INBOX", p.stdout)
        h, mid = sorted(self.ids.items(), key=lambda kv: kv[1])[2]
        p = subprocess.run(["curl", "-sS", "--max-time", "60",
                            "%sAll%%20Mail;UID=%d" % (url, mid), "-u", auth],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=90)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout, self.raw[h])


class ImapServerLimits(harness.MailvaultTestCase):
    """--imap-idle-timeout and --imap-max-connections, on a server of their own."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = harness.make_tempdir()
        cls.pg = harness.Postgres(os.path.join(cls.tmp, "pg")).start()
        cls.data = os.path.join(cls.tmp, "data")
        cls.server = harness.Server(cls.data, database_url=cls.pg.create_database(),
                                    roles="api,imap",
                                    extra_args=["--imap-listen", "127.0.0.1:0",
                                                "--imap-idle-timeout", "1",
                                                "--imap-max-connections", "2"])
        try:
            cls.server.start()
            cls.imap_port = cls.server.listen_port()
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

    def test_idle_timeout_and_connection_limit(self):
        a, b = RawClient(self.imap_port), RawClient(self.imap_port)
        self.addCleanup(a.close)
        self.addCleanup(b.close)
        self.assertTrue(a.greeting.startswith(b"* OK") and b.greeting.startswith(b"* OK"))
        c = RawClient(self.imap_port)  # the third: over the limit
        self.addCleanup(c.close)
        self.assertTrue(c.greeting.startswith(b"* BYE"), c.greeting)
        t0 = time.monotonic()
        self.assertTrue(a.line().startswith(b"* BYE Autologout"))
        self.assertLess(time.monotonic() - t0, 10)
        with self.assertRaises(ConnectionError):
            a.line()
        # the slots are free again once the idle sessions are gone
        b.line()
        def fresh_greeting_ok():
            d = RawClient(self.imap_port)
            try:
                return d.greeting.startswith(b"* OK")
            finally:
                d.close()

        harness.wait_for(fresh_greeting_ok, 10, what="a free connection slot")


if __name__ == "__main__":
    unittest.main()
