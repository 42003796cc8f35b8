"""kill -9 of the ingest process at random moments of a 20,000-message IMAP pull, five times,
restarting each time: in the end the archive equals the source exactly (every message once, one
placement per source UID, checkpoints at the last UID), and the restarted server resumed from
its checkpoints instead of starting over."""

import os
import random
import time
import unittest

import dovecot
import harness
import ingest_support

N = harness.scale(20000, 3000)
KILLS = 5


@unittest.skipIf(dovecot.dovecot_available(), dovecot.dovecot_available() or "")
class IngestCrash(harness.MailvaultTestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = harness.make_tempdir()
        cls.dv = dovecot.Dovecot(os.path.join(cls.tmp, "dovecot")).start()
        harness.ACTIVE_LOGS.append(("dovecot", cls.dv.log_path))
        cls.dv.add_user("carol", "carol-pw")
        msgs = dovecot.generate_messages(N, seed=2024, size=3000)
        cls.folders = {"INBOX": msgs[: N // 2], "Big/One": msgs[N // 2:]}
        for f, ms in cls.folders.items():
            cls.dv.append("carol", f, ms)
        cls.env = ingest_support.IngestEnv(cls.tmp)

    @classmethod
    def tearDownClass(cls):
        try:
            cls.env.close()
        finally:
            cls.dv.stop()
            harness.remove_tree(cls.tmp)

    def placements(self):
        return self.env.scalar("SELECT count(*) FROM placements WHERE account_id IS NOT NULL")

    def test_kill9_during_pull_five_times(self):
        env = self.env
        env.add_account("carol", self.dv.imaps_port, "carol", "carol-pw", ca_file=self.dv.ca_file)
        rng = random.Random(7)
        progress = []
        for k in range(KILLS):
            before = self.placements()
            env.cli("account", "sync", "carol")  # due now; the workers start at once
            # Kill at a random point of what is left, at least one batch in.
            target = before + rng.randint(1, max(2, (N - before) // (KILLS - k + 1)))
            harness.wait_for(lambda: self.placements() >= target or self.placements() >= N,
                             harness.slow(300), 0.05, "pull progress to %d" % target)
            env.server.kill9()
            harness.wait_for(lambda: env.scalar(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND "
                "pid <> pg_backend_pid()") == 0, harness.slow(60), what="the killed sessions")
            at_kill = self.placements()
            progress.append(at_kill)
            harness.log("kill %d: %d of %d placements" % (k + 1, at_kill, N))
            self.assertGreaterEqual(at_kill, before, "a kill lost committed placements")
            env.server.start()
        r = env.sync("carol", timeout=900)
        self.assertTrue(r.result["ok"], r.describe())
        # Resumed, not restarted: the last sync fetched at most what was left after the last
        # kill plus one in-flight batch per folder.
        self.assertLessEqual(r.result["event"]["fetched"], N - progress[-1] + 2 * 500,
                             "the last sync re-fetched more than the uncommitted tail")
        # The archive equals the source exactly.
        source = set()
        for f in self.folders:
            served = self.dv.served_messages("carol", f)
            source |= {ingest_support.sha256(b) for _u, b in served}
            self.assertEqual(env.folder_shas("carol", f), {ingest_support.sha256(b) for _u, b in served})
        archived = env.all_shas()
        self.assertEqual(len(archived), len(set(archived)))
        self.assertEqual(set(archived), source)
        self.assertEqual(self.placements(), N)  # one placement per source UID: nothing doubled
        doubled = env.scalar("SELECT count(*) FROM (SELECT folder, uid FROM placements WHERE "
                             "account_id IS NOT NULL GROUP BY folder, uidvalidity, uid "
                             "HAVING count(*) > 1) d")
        self.assertEqual(doubled, 0)
        account = env.account("carol")
        by_name = {f["name"]: f for f in account["folders"]}
        for f, ms in self.folders.items():
            self.assertEqual(by_name[f]["last_uid"], len(ms))


if __name__ == "__main__":
    unittest.main()
