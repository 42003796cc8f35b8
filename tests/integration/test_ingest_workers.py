"""Ingest workers share accounts through PostgreSQL leases, and POP3 pulls.

* Two `mailvault serve` processes (one with ingest,index,api; one with ingest only) on one
  database and data directory share 10 IMAP accounts: every account's mail is fetched by exactly
  one sync, by one of them; both take part; the sum of messages fetched equals the source
  (nothing fetched twice) and every message is archived. The accounts reach Dovecot through a
  proxy that slows each connection to ~2 s per account: unthrottled, the first process can
  finish every account, one by one as they are added, before the second one's next poll, and
  "both take part" would be luck. (An account may also get a second,
  empty sync: its IDLE watcher requests one when it connects while the first sync runs, since
  it cannot tell whether that sync saw the newest mail.)
* POP3 pull of a maildrop (pop3s, and STLS): equal to the source (SHA-256 of what Dovecot serves
  over IMAP for the same INBOX); a second run fetches nothing; delete-after-archive empties the
  maildrop only of what was archived; a wrong password is a clear error.
"""

import os
import unittest

import dovecot
import harness
import ingest_support
import netfault

ACCOUNTS = 10
PER_ACCOUNT = harness.scale(400, 100)


@unittest.skipIf(dovecot.dovecot_available(), dovecot.dovecot_available() or "")
class IngestWorkers(harness.MailvaultTestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = harness.make_tempdir()
        cls.dv = dovecot.Dovecot(os.path.join(cls.tmp, "dovecot")).start()
        harness.ACTIVE_LOGS.append(("dovecot", cls.dv.log_path))
        for i in range(ACCOUNTS):
            user = "u%02d" % i
            cls.dv.add_user(user, "pw-" + user)
            msgs = dovecot.generate_messages(PER_ACCOUNT, seed=100 + i, size=2000)
            cls.dv.append(user, "INBOX", msgs[: PER_ACCOUNT // 2])
            cls.dv.append(user, "Sub/Folder", msgs[PER_ACCOUNT // 2:])
        cls.dv.add_user("popper", "pop-pw")
        cls.dv.append("popper", "INBOX", dovecot.generate_messages(250, seed=55, size=4000))
        cls.dv.add_user("dropper", "drop-pw")
        cls.dv.append("dropper", "INBOX", dovecot.generate_messages(40, seed=66))
        cls.env = ingest_support.IngestEnv(cls.tmp, extra_args=["--ingest-concurrency", "2"])
        key = os.path.join(cls.env.data_dir, "master.key")
        cls.second = harness.Server(cls.env.data_dir, database_url=cls.env.db, roles="ingest",
                                    extra_args=["--ingest-concurrency", "2",
                                                "--master-key-file", key])

    @classmethod
    def tearDownClass(cls):
        try:
            cls.env.close()
        finally:
            cls.dv.stop()
            harness.remove_tree(cls.tmp)

    def test_two_processes_share_ten_accounts_without_fetching_twice(self):
        env = self.env
        # Each account's mail (PER_ACCOUNT x ~2 KB) takes about 2 s through the proxy, longer
        # than the 1 s poll of the second process, while the first can lease only 2 at a time.
        proxy = netfault.CuttingProxy(self.dv.imaps_port, rate=PER_ACCOUNT * 1000)
        self.addCleanup(proxy.stop)
        self.second.start()
        try:
            for i in range(ACCOUNTS):
                user = "u%02d" % i
                env.add_account("acct-%02d" % i, proxy.port, user, "pw-" + user,
                                ca_file=self.dv.ca_file)
            total = ACCOUNTS * PER_ACCOUNT

            def all_synced():
                accounts = [env.account("acct-%02d" % i) for i in range(ACCOUNTS)]
                return all(a["last_success_at"] > 0 and not a["leased_by"] for a in accounts)

            harness.wait_for(all_synced, harness.slow(600), 0.5, "every account synced once")
        finally:
            self.second.stop()
        fetched = 0
        workers = set()
        for i in range(ACCOUNTS):
            events = env.events("acct-%02d" % i)
            syncs = [e for e in events if e["kind"] in ("sync", "error")]
            self.assertTrue(all(e["kind"] == "sync" for e in syncs), syncs)
            with_mail = [e for e in syncs if e["fetched"] > 0]
            self.assertEqual(len(with_mail), 1, "account %d: mail fetched by %d syncs: %s" % (
                i, len(with_mail), syncs))
            fetched += sum(e["fetched"] for e in syncs)
            workers.add(with_mail[0]["worker"].split("/")[0])
        self.assertEqual(fetched, total)  # no message fetched twice
        self.assertEqual(len(workers), 2, "both processes should have taken accounts: %s" % workers)
        self.assertEqual(env.scalar("SELECT count(*) FROM placements WHERE account_id IS NOT NULL "
                                    "AND source LIKE 'acct-%'"), total)
        for i in range(ACCOUNTS):
            user = "u%02d" % i
            for folder in ("INBOX", "Sub/Folder"):
                served = {ingest_support.sha256(b) for _u, b in self.dv.served_messages(user, folder)}
                self.assertEqual(env.folder_shas("acct-%02d" % i, folder), served)

    def test_pop3_pull_equals_source_and_resumes(self):
        env = self.env
        served = {ingest_support.sha256(b) for _u, b in self.dv.served_messages("popper", "INBOX")}
        env.add_account("pop", self.dv.pop3s_port, "popper", "pop-pw", protocol="pop3",
                        ca_file=self.dv.ca_file)
        r = env.sync("pop")
        self.assertTrue(r.result["ok"], r.describe())
        self.assertEqual(env.total_fetched("pop"), 250)  # each message downloaded once
        self.assertEqual(env.folder_shas("pop", "INBOX"), served)
        self.assertEqual(env.scalar("SELECT count(*) FROM pop3_uidls WHERE account_id = %d"
                                    % env.account_id("pop")), 250)
        r = env.sync("pop")
        self.assertEqual(r.result["event"]["fetched"], 0, r.describe())
        # New mail: exactly the new messages.
        self.dv.append("popper", "INBOX", dovecot.generate_messages(7, seed=56))
        r = env.sync("pop")
        self.assertEqual((r.result["event"]["fetched"], r.result["event"]["stored"]), (7, 7))
        # STLS on the plain port, verified with the CA: same maildrop, nothing new.
        env.add_account("pop-stls", self.dv.pop3_port, "popper", "pop-pw", protocol="pop3",
                        tls="starttls", ca_file=self.dv.ca_file)
        r = env.sync("pop-stls")
        self.assertTrue(r.result["ok"], r.describe())
        self.assertEqual(r.result["event"]["stored"], 0)  # all already archived (same SHA-256)
        # Wrong password.
        env.add_account("pop-bad", self.dv.pop3s_port, "popper", "nope", protocol="pop3",
                        ca_file=self.dv.ca_file)
        r = env.sync("pop-bad", check=1)
        self.assertRegex(r.err, r"(?i)auth|password|credentials")

    def test_pop3_connection_cut_mid_pipeline_loses_and_doubles_nothing(self):
        # Pipelined RETR (Dovecot offers PIPELINING) through a proxy that drops the connection
        # after 1.5 MB, in the middle of a message with more RETRs in flight: what was fetched
        # before the cut is committed with its UIDLs, the rest comes with the next sync, and
        # every message ends up archived exactly once.
        env = self.env
        self.dv.add_user("cutter", "cut-pw")
        self.dv.append("cutter", "INBOX", dovecot.generate_messages(300, seed=77, size=20000))
        served = {ingest_support.sha256(b) for _u, b in self.dv.served_messages("cutter", "INBOX")}
        with netfault.CuttingProxy(self.dv.pop3_port, cut_after=1_500_000) as proxy:
            env.add_account("pop-cut", proxy.port, "cutter", "cut-pw", protocol="pop3",
                            tls="none")
            r = env.sync("pop-cut", check=1)
            self.assertRegex(r.err, r"(?i)closed|connection|unavailable|eof")
            self.assertGreaterEqual(proxy.cuts, 1)
            partial = env.scalar("SELECT count(*) FROM pop3_uidls WHERE account_id = %d"
                                 % env.account_id("pop-cut"))
            self.assertGreater(partial, 0)  # the messages before the cut were committed
            self.assertLess(partial, 300)
            proxy.cut_after = None
            r = env.sync("pop-cut")
            self.assertTrue(r.result["ok"], r.describe())
            r = env.sync("pop-cut")  # and then nothing is left to fetch
            self.assertEqual(r.result["event"]["fetched"], 0, r.describe())
        self.assertEqual(env.folder_shas("pop-cut", "INBOX"), served)
        aid = env.account_id("pop-cut")
        self.assertEqual(env.scalar("SELECT count(*) FROM placements WHERE account_id = %d" % aid),
                         300)
        self.assertEqual(env.scalar("SELECT count(*) FROM pop3_uidls WHERE account_id = %d" % aid),
                         300)
        events = [e for e in env.events("pop-cut") if e["kind"] in ("sync", "error")]
        self.assertEqual(sum(e["stored"] for e in events), 300, events)  # nothing stored twice

    def test_pop3_delete_after_archive(self):
        env = self.env
        served = {ingest_support.sha256(b) for _u, b in self.dv.served_messages("dropper", "INBOX")}
        self.assertEqual(len(served), 40)
        env.add_account("drop", self.dv.pop3s_port, "dropper", "drop-pw", protocol="pop3",
                        ca_file=self.dv.ca_file, extra=["--delete-after-archive"])
        r = env.sync("drop")
        self.assertTrue(r.result["ok"], r.describe())
        self.assertEqual(env.folder_shas("drop", "INBOX"), served)
        self.assertEqual(self.dv.served_messages("dropper", "INBOX"), [])
        # Off by default: the other POP3 account's maildrop still has its messages.
        self.assertTrue(self.dv.served_messages("popper", "INBOX"))


if __name__ == "__main__":
    unittest.main()
