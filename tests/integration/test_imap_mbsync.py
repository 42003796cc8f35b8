"""mbsync (isync, Debian's `mbsync`) pulls every mailbox of mailvault's read-only IMAP server into a
local Maildir, end to end.

A generated corpus sample (shared/bench/gen_corpus.py, seed 42) plus a few hand-made CRLF
messages is imported with `mailvault import` as a Maildir++ store (INBOX, `.Archive`,
`.Lists.Debian`) and an mbox (`notes.mbox`), one message being in two folders; an auditor (who
sees everything) runs `mbsync -a` with `Sync Pull`, `Create Near`, `Patterns *`, `Expunge None`,
plaintext LOGIN on 127.0.0.1 (`SSLType None`) into an empty Maildir (`SubFolders Verbatim`).

* mbsync exits 0; every selectable mailbox of `LIST "" *` (All Mail and each Imported/<folder>)
  arrives as a Maildir folder with as many files as EXAMINE says it has messages;
* every file is byte-identical to the message's GetRawMessage bytes (messages are matched by
  SHA-256) except for what mbsync itself does, which is checked exactly: it inserts one
  `X-TUID:` line at the end of the header (without_tuid()) and stores LF line endings, so a
  CRLF message arrives with its CRs removed (maildir_form());
* a second run is a no-op that also succeeds, and nothing in the archive changed;
* the commands mbsync sent (from its -Dn protocol trace) are read-only ones: no STORE, APPEND,
  EXPUNGE or CREATE reached the server (logged with MAILVAULT_TEST_LOG_LEVEL=debug for review).
"""

import collections
import hashlib
import imaplib
import os
import re
import shutil
import subprocess
import unittest

import harness
from test_imap_server import checksums, message

PASSWORD = "mbsync-auditor-pw"
MBSYNC = shutil.which("mbsync")
SAMPLE = 120  # generated messages


TUID = re.compile(rb"X-TUID: [A-Za-z0-9+/]{12}\r?\n(?=\r?\n)")


def maildir_form(raw):
    """What mbsync writes for `raw` in a Maildir, minus its X-TUID line: LF line endings
    (isync's Maildir driver stores LF; the IMAP driver sends and receives CRLF)."""
    return raw.replace(b"\r\n", b"\n")


def without_tuid(local):
    """`local` (a file mbsync wrote) without the one `X-TUID: <12 characters>` line mbsync adds
    at the end of the header of every message it copies (its marker for finding the copy after an
    interrupted run; isync 1.4 has no setting to omit it). None when that line is not there."""
    stripped, n = TUID.subn(b"", local, count=1)
    return stripped if n == 1 else None


def write_maildir(path, messages):
    for d in ("cur", "new", "tmp"):
        os.makedirs(os.path.join(path, d), exist_ok=True)
    for i, raw in enumerate(messages):
        with open(os.path.join(path, "cur", "17100000%03d.M%dP1.mbsync:2,S" % (i, i)), "wb") as fh:
            fh.write(raw)


@unittest.skipIf(MBSYNC is None, "mbsync (Debian package isync) is not installed")
class ImapMbsync(harness.MailvaultTestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = harness.make_tempdir()
        gen = os.path.join(cls.tmp, "gen")
        harness.generate_corpus(gen, SAMPLE)
        generated = []
        for path in harness.maildir_files(gen):
            with open(path, "rb") as fh:
                generated.append(fh.read())
        crlf = [message(i, b"someone@example.org", b"crlf message %d" % i) for i in range(4)]
        store = os.path.join(cls.tmp, "in", "store")
        # INBOX: a third of the sample and the CRLF messages; Archive and Lists/Debian: the rest,
        # with the first generated message also in Archive (two placements, once in All Mail).
        third = len(generated) // 3
        folders = {
            "INBOX": generated[:third] + crlf,
            "Archive": generated[third:2 * third] + generated[:1],
            "Lists/Debian": generated[2 * third:-10],
        }
        write_maildir(store, folders["INBOX"])
        write_maildir(os.path.join(store, ".Archive"), folders["Archive"])
        write_maildir(os.path.join(store, ".Lists.Debian"), folders["Lists/Debian"])
        mbox = os.path.join(cls.tmp, "in", "notes.mbox")
        folders["notes"] = []
        with open(mbox, "wb") as fh:
            for raw in generated[-10:]:
                raw = raw.replace(b"\r\n", b"\n")
                if raw.startswith(b"From ") or b"\nFrom " in raw:
                    continue  # would need From_-quoting; keep the mbox trivially exact
                fh.write(b"From sender@example.net Wed Mar  6 12:00:00 2024\n" + raw +
                         (b"" if raw.endswith(b"\n") else b"\n") + b"\n")
                folders["notes"].append(raw if raw.endswith(b"\n") else raw + b"\n")
        cls.folders = {"Imported/" + k: v for k, v in folders.items()}
        cls.all_mail = {hashlib.sha256(m).hexdigest() for v in folders.values() for m in v}

        cls.pg = harness.Postgres(os.path.join(cls.tmp, "pg")).start()
        cls.dburl = cls.pg.create_database()
        cls.data = os.path.join(cls.tmp, "data")
        cls.server = harness.Server(cls.data, database_url=cls.dburl,
                                    extra_args=["--imap-listen", "127.0.0.1:0"])
        try:
            cls.server.start()
            cls.imap_port = cls.server.listen_port()
            r = cls.server.cli("import", store, mbox, "--json", timeout=harness.slow(600))
            assert r.returncode == 0, r.describe()
            r = harness.run_cli(["user", "add", "audra", "--data-dir", cls.data, "--role",
                                 "auditor", "--password-stdin"], input=(PASSWORD + "\n").encode())
            assert r.returncode == 0, r.describe()
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
        finally:
            cls.pg.cleanup()
            harness.remove_tree(cls.tmp)

    def mbsyncrc(self, target):
        rc = os.path.join(self.tmp, "mbsyncrc")
        with open(rc, "w") as fh:
            fh.write(f"""IMAPAccount mailvault
Host 127.0.0.1
Port {self.imap_port}
User audra
Pass {PASSWORD}
SSLType None
AuthMechs LOGIN

IMAPStore far
Account mailvault

MaildirStore near
Path {target}/
Inbox {target}/INBOX
SubFolders Verbatim

Channel archive
Far :far:
Near :near:
Patterns *
Create Near
Sync Pull
Expunge None
CopyArrivalDate yes
SyncState *
""")
        return rc

    def run_mbsync(self, rc):
        p = subprocess.run([MBSYNC, "-Dn", "-c", rc, "-a"], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=harness.slow(300))
        out = p.stdout.decode("utf-8", "replace")
        self.assertEqual(p.returncode, 0, out[-4000:])
        # -Dn traces every command sent as "... >>> <tag> <command>" (LOGIN's password masked)
        return [ln.split(">>> ", 1)[1] for ln in out.splitlines() if ">>> " in ln]

    def visible_mailboxes(self):
        m = imaplib.IMAP4("127.0.0.1", self.imap_port, timeout=60)
        self.addCleanup(m.logout)
        m.login("audra", PASSWORD)
        typ, data = m.list('""', "*")
        self.assertEqual(typ, "OK", data)
        boxes = {}
        for line in data:
            flags, name = re.match(rb'\(([^)]*)\) (?:"/"|NIL) (.*)$', line).groups()
            name = name.decode().strip('"')
            if b"\\Noselect" in flags or b"\\NonExistent" in flags:
                continue
            typ, n = m.select('"%s"' % name, readonly=True)
            self.assertEqual(typ, "OK", n)
            boxes[name] = int(n[0])
        return boxes

    def local_messages(self, target, mailbox):
        out = []
        for sub in ("cur", "new"):
            d = os.path.join(target, mailbox, sub)
            for f in sorted(os.listdir(d)) if os.path.isdir(d) else []:
                with open(os.path.join(d, f), "rb") as fh:
                    out.append(fh.read())
        return out

    def test_mbsync_pull_is_byte_identical(self):
        before = checksums(self.dburl)
        boxes = self.visible_mailboxes()
        self.assertEqual(set(boxes), {"All Mail"} | set(self.folders))
        self.assertEqual(boxes["All Mail"], len(self.all_mail))
        for name, msgs in self.folders.items():
            self.assertEqual(boxes[name], len(msgs), name)

        # Every archived message as GetRawMessage returns it, by SHA-256 of those bytes.
        archive = {h: self.client.get_raw(sha256=h) for h in self.all_mail}
        for h, raw in archive.items():
            self.assertEqual(hashlib.sha256(raw).hexdigest(), h)
        by_local_form = {maildir_form(raw): h for h, raw in archive.items()}
        self.assertEqual(len(by_local_form), len(archive))

        target = os.path.join(self.tmp, "local")
        os.makedirs(target)
        rc = self.mbsyncrc(target)
        sent = self.run_mbsync(rc)
        harness.log("mbsync sent: " + " | ".join(sorted({re.sub(r"\d+", "N", c.split(" ", 1)[1])
                                                          for c in sent if " " in c})))
        verbs = collections.Counter(c.split(" ")[1].upper() for c in sent if " " in c)
        for write in ("STORE", "APPEND", "EXPUNGE", "CREATE", "DELETE", "RENAME", "COPY", "MOVE"):
            self.assertNotIn(write, verbs, sent)
        self.assertIn("LOGIN", verbs)

        for name, count in boxes.items():
            local = self.local_messages(target, name)
            self.assertEqual(len(local), count, name)
            got = collections.Counter(by_local_form.get(without_tuid(raw), "not in the archive")
                                      for raw in local)
            want = collections.Counter(self.all_mail if name == "All Mail" else
                                       [hashlib.sha256(m).hexdigest() for m in self.folders[name]])
            self.assertEqual(got, want, name)
        crlf_msgs = [raw for raw in archive.values() if b"\r\n" in raw]
        self.assertGreaterEqual(len(crlf_msgs), 4)  # the CRLF path was exercised

        # A second run finds nothing new and still succeeds; the archive is unchanged.
        sent = self.run_mbsync(rc)
        self.assertFalse([c for c in sent if "BODY" in c.upper()], sent)
        for name, count in boxes.items():
            self.assertEqual(len(self.local_messages(target, name)), count, name)
        self.assertEqual(checksums(self.dburl), before)


if __name__ == "__main__":
    unittest.main()
