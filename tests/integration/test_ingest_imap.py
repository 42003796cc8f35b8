"""IMAP ingest against a private Dovecot: full pull, incremental syncs, UIDVALIDITY change, TLS
verification, and clear per-account errors (wrong password, refused, greeting-then-close,
garbage) that leave other accounts and the service running.

The corpus of ../shared/corpora is spread over several folders (nested and non-ASCII names);
every message must be archived with the SHA-256 of the bytes Dovecot serves for BODY.PEEK[].
"""

import os
import unittest

import dovecot
import harness
import ingest_support
import mailoracle
import netfault

FOLDERS = ["INBOX", "Archive/2019", "Archive/2020/Q1", "Prüfung/Übersicht", "Lists"]


def corpus_messages():
    """Raw bytes of every message listed in ../shared/corpora/MANIFEST.tsv (one file each)."""
    root = harness.corpora_dir()
    out = []
    with open(os.path.join(root, "MANIFEST.tsv"), encoding="utf-8") as fh:
        next(fh)
        for line in fh:
            rel = line.split("\t", 1)[0]
            path, _, index = rel.partition("#")  # "box.mbox#3": the 3rd message of an mbox
            with open(os.path.join(root, path), "rb") as m:
                data = m.read()
            if index:
                offset, length = mailoracle.split_mbox(data)[int(index) - 1]
                data = data[offset:offset + length]
            if data:
                out.append(data)
    return out


@unittest.skipIf(dovecot.dovecot_available(), dovecot.dovecot_available() or "")
class ImapIngest(harness.MailvaultTestCase):
    @classmethod
    def setUpClass(cls):
        harness.require_corpora(cls)
        cls.tmp = harness.make_tempdir()
        cls.dv = dovecot.Dovecot(os.path.join(cls.tmp, "dovecot")).start()
        cls.dv.add_user("alice", "alice-pw")
        cls.dv.add_user("bob", "bob-pw")
        msgs = corpus_messages()
        limit = harness.scale(len(msgs), 600)
        msgs = msgs[:limit]
        cls.per_folder = {f: [] for f in FOLDERS}
        for i, m in enumerate(msgs):
            cls.per_folder[FOLDERS[i % len(FOLDERS)]].append(m)
        for f, ms in cls.per_folder.items():
            cls.dv.append("alice", f, ms)
        cls.dv.append("bob", "INBOX", dovecot.generate_messages(30, seed=7))
        harness.ACTIVE_LOGS.append(("dovecot", cls.dv.log_path))
        # No IDLE watchers: these tests count what each `account sync` fetches, and a sync
        # requested by a watcher (Dovecot announces Maildir drops too) would take part of it.
        # test_ingest_idle.py covers the watchers.
        cls.env = ingest_support.IngestEnv(cls.tmp, roles="ingest,index,api,imap",
                                           extra_args=["--ingest-idle-max", "0"])
        cls.env.add_account("alice", cls.dv.imaps_port, "alice", "alice-pw",
                            ca_file=cls.dv.ca_file)

    @classmethod
    def tearDownClass(cls):
        try:
            cls.env.close()
        finally:
            cls.dv.stop()
            harness.remove_tree(cls.tmp)

    def served_shas(self, user, folder):
        return {ingest_support.sha256(b) for _uid, b in self.dv.served_messages(user, folder)}

    def test_1_full_pull_archives_every_message_byte_identical(self):
        r = self.env.sync("alice")
        self.assertTrue(r.result["finished"] and r.result["ok"], r.describe())
        total = 0
        for folder in FOLDERS:
            served = self.served_shas("alice", folder)
            self.assertTrue(served, folder)
            self.assertEqual(self.env.folder_shas("alice", folder), served, folder)
            total += len(self.dv.served_messages("alice", folder))
        self.assertEqual(self.env.total_fetched("alice"), total)  # each message downloaded once
        # The archive holds exactly the distinct messages Dovecot serves.
        archived = self.env.all_shas()
        self.assertEqual(len(archived), len(set(archived)))
        served_all = set()
        for folder in FOLDERS:
            served_all |= self.served_shas("alice", folder)
        self.assertEqual(set(archived), served_all)
        # The bytes come back from GetRawMessage unchanged (a sample over gRPC).
        client = harness.GrpcClient(self.env.server.address, self.env.server.token)
        try:
            for sha in sorted(served_all)[:25]:
                raw = client.get_raw(sha256=sha)
                self.assertEqual(ingest_support.sha256(raw), sha)
        finally:
            client.close()
        # Checkpoints: one per folder, at the highest UID served, with the folder's UIDVALIDITY.
        account = self.env.account("alice")
        by_name = {f["name"]: f for f in account["folders"]}
        for folder in FOLDERS:
            served = self.dv.served_messages("alice", folder)
            self.assertEqual(by_name[folder]["last_uid"], max(uid for uid, _ in served), folder)
            self.assertEqual(by_name[folder]["uidvalidity"], self.dv.uidvalidity("alice", folder))
        self.assertEqual(account["last_error"], "")

    def test_2_incremental_sync_fetches_exactly_the_new_messages(self):
        self.env.sync("alice")
        before = len(self.env.all_shas())
        new = dovecot.generate_messages(100, seed=4242)
        self.dv.append("alice", "Archive/2019", new[:60])
        self.dv.append("alice", "INBOX", new[60:])
        r = self.env.sync("alice")
        self.assertTrue(r.result["ok"], r.describe())
        self.assertEqual(r.result["event"]["fetched"], 100)
        self.assertEqual(r.result["event"]["stored"], 100)
        self.assertEqual(len(self.env.all_shas()), before + 100)
        r = self.env.sync("alice")
        self.assertEqual(r.result["event"]["fetched"], 0, r.describe())
        self.assertEqual(r.result["event"]["stored"], 0)

    def test_3_uidvalidity_change_rescans_without_duplicates(self):
        self.env.sync("alice")
        before = sorted(self.env.all_shas())
        old_validity = self.dv.uidvalidity("alice", "Lists")
        self.dv.recreate_folder("alice", "Lists")
        new_validity = self.dv.uidvalidity("alice", "Lists")
        self.assertNotEqual(old_validity, new_validity)
        r = self.env.sync("alice")
        self.assertTrue(r.result["ok"], r.describe())
        self.assertEqual(r.result["event"]["stored"], 0)
        self.assertEqual(r.result["event"]["fetched"], len(self.per_folder["Lists"]))
        self.assertEqual(sorted(self.env.all_shas()), before)  # no loss, no duplicate
        events = self.env.events("alice", "uidvalidity_changed")
        self.assertTrue(any(e["folder"] == "Lists" and str(new_validity) in e["detail"]
                            for e in events), events)
        # Placements record the new UIDVALIDITY for every message of the folder.
        n = self.env.scalar(
            "SELECT count(DISTINCT message_id) FROM placements WHERE account_id = %d AND "
            "folder = 'Lists' AND uidvalidity = %d" % (self.env.account_id("alice"), new_validity))
        self.assertEqual(n, len(self.served_shas("alice", "Lists")))
        folder = {f["name"]: f for f in self.env.account("alice")["folders"]}["Lists"]
        self.assertEqual(folder["uidvalidity"], new_validity)

    def test_4_tls_verification(self):
        # Without the test CA the system store does not trust Dovecot's certificate.
        self.env.add_account("no-ca", self.dv.imaps_port, "bob", "bob-pw")
        r = self.env.sync("no-ca", check=1)
        self.assertRegex(r.err, r"(?i)certificate|verif")
        # STARTTLS with the CA works.
        self.env.add_account("starttls", self.dv.imap_port, "bob", "bob-pw", tls="starttls",
                             ca_file=self.dv.ca_file)
        r = self.env.sync("starttls")
        self.assertTrue(r.result["ok"], r.describe())
        self.assertEqual(self.env.total_fetched("starttls"), 30)
        # A certificate for another name is refused even with the right CA.
        wrong = dovecot.Dovecot(os.path.join(self.tmp, "dovecot-wrong"), wrong_cert=True).start()
        try:
            wrong.add_user("bob", "bob-pw")
            self.env.add_account("wrong-name", wrong.imaps_port, "bob", "bob-pw",
                                 ca_file=wrong.ca_file)
            r = self.env.sync("wrong-name", check=1)
            self.assertRegex(r.err, r"(?i)host ?name|mismatch|127\.0\.0\.1")
        finally:
            wrong.stop()

    def test_5_bad_servers_give_clear_errors_and_others_still_sync(self):
        self.env.add_account("wrong-password", self.dv.imaps_port, "bob", "not-the-password",
                             ca_file=self.dv.ca_file)
        r = self.env.sync("wrong-password", check=1)
        self.assertRegex(r.err, r"(?i)auth|password|credentials")
        refused_port = dovecot.free_port()
        self.env.add_account("refused", refused_port, "bob", "x", tls="none")
        r = self.env.sync("refused", check=1)
        self.assertRegex(r.err, r"(?i)refused|connect")
        with netfault.GreetingThenClose(b"* OK hello\r\n") as s1, netfault.GarbageServer() as s2:
            self.env.add_account("closes", s1.port, "bob", "x", tls="none")
            r = self.env.sync("closes", check=1)
            self.assertTrue(r.err.strip(), r.describe())
            self.env.add_account("garbage", s2.port, "bob", "x", tls="none")
            r = self.env.sync("garbage", check=1)
            self.assertTrue(r.err.strip(), r.describe())
        for name in ("wrong-password", "refused", "closes", "garbage"):
            a = self.env.account(name)
            self.assertGreaterEqual(a["failures"], 1, name)
            self.assertTrue(a["last_error"], name)
        # The service runs on and the good account still syncs.
        new = dovecot.generate_messages(3, seed=99)
        self.dv.append("alice", "INBOX", new)
        r = self.env.sync("alice")
        self.assertTrue(r.result["ok"], r.describe())
        self.assertEqual(r.result["event"]["stored"], 3)

    def test_6_connection_cut_mid_fetch_is_retried_without_loss(self):
        new = dovecot.generate_messages(300, seed=777, size=20000)
        self.dv.append("bob", "Cut", new)
        with netfault.CuttingProxy(self.dv.imap_port, cut_after=1_500_000) as proxy:
            self.env.add_account("cut", proxy.port, "bob", "bob-pw", tls="none")
            r = self.env.sync("cut", check=1)
            self.assertRegex(r.err, r"(?i)closed|connection|unavailable|eof")
            self.assertGreaterEqual(proxy.cuts, 1)
            proxy.cut_after = None
            r = self.env.sync("cut")
            self.assertTrue(r.result["ok"], r.describe())
        self.assertEqual(self.env.folder_shas("cut", "Cut"), self.served_shas("bob", "Cut"))
        n = self.env.scalar("SELECT count(*) FROM placements WHERE account_id = %d AND folder = 'Cut'"
                            % self.env.account_id("cut"))
        self.assertEqual(n, 300)  # one placement per source message: nothing doubled

    def test_7_remove_keeps_archived_mail(self):
        self.env.add_account("to-remove", self.dv.imaps_port, "bob", "bob-pw",
                             ca_file=self.dv.ca_file)
        self.env.sync("to-remove")
        before = len(self.env.all_shas())
        self.env.cli("account", "remove", "to-remove")
        self.assertIsNone(self.env.account("to-remove"))
        self.assertEqual(len(self.env.all_shas()), before)
        r = self.env.cli("account", "sync", "to-remove", check=1)
        self.assertIn("no account named 'to-remove'", r.err)

    def test_8_include_and_exclude_globs(self):
        self.env.add_account("globbed", self.dv.imaps_port, "alice", "alice-pw",
                             ca_file=self.dv.ca_file,
                             extra=["--folder", "Archive/*", "--folder", "Prüfung/%",
                                    "--exclude", "Archive/2020/*"])
        r = self.env.sync("globbed")
        self.assertTrue(r.result["ok"], r.describe())
        folders = {f["name"] for f in self.env.account("globbed")["folders"]}
        # '*' crosses the hierarchy delimiter, '%' does not; exclude wins over include.
        self.assertIn("Archive/2019", folders)
        self.assertIn("Prüfung/Übersicht", folders)
        self.assertNotIn("Archive/2020/Q1", folders)
        self.assertNotIn("INBOX", folders)
        self.assertNotIn("Lists", folders)
        self.assertEqual(self.env.folder_shas("globbed", "Prüfung/Übersicht"),
                         self.served_shas("alice", "Prüfung/Übersicht"))

    def test_9_pulled_folders_browsable_over_imap(self):
        """The archive's IMAP server shows each pulled folder as <account>/<folder>, with the
        bytes Dovecot served."""
        import imaplib
        self.env.sync("alice")
        self.env.cli("user", "add", "audit", "--role", "auditor", "--password-stdin",
                     input=b"audit-pw\n")
        with open(os.path.join(self.env.data_dir, "imap.address")) as fh:
            port = int(fh.read().strip().rsplit(":", 1)[1])
        m = imaplib.IMAP4("127.0.0.1", port)
        try:
            m.login("audit", "audit-pw")
            typ, lines = m.list()
            self.assertEqual(typ, "OK")
            names = b"\n".join(lines).decode("utf-8", "replace")
            self.assertRegex(names, r'(?m)"/" "?alice/Archive/2019"?$')
            self.assertRegex(names, r'(?m)"/" "?alice/Pr&APw-fung/&ANw-bersicht"?$')  # mUTF-7
            self.assertIn("All Mail", names)
            typ, data = m.select("alice/Archive/2019", readonly=True)
            self.assertEqual(typ, "OK")
            served = self.dv.served_messages("alice", "Archive/2019")
            self.assertEqual(int(data[0]), len(served))
            typ, data = m.fetch("1:*", "(BODY.PEEK[])")
            got = sorted(ingest_support.sha256(d[1]) for d in data if isinstance(d, tuple))
            self.assertEqual(got, sorted(ingest_support.sha256(b) for _u, b in served))
        finally:
            m.logout()


if __name__ == "__main__":
    unittest.main()
