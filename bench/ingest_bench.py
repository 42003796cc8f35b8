#!/usr/bin/python3
"""mailvault ingest benchmark: IMAP and POP3 pulls from a private Dovecot over loopback, with
mbsync (isync) and fetchmail pulling the same mailbox in the same run.

Generates N messages with ../shared/bench/gen_corpus.py (seed 42; cached under --work, shared
with import_bench.py), puts them in one Dovecot INBOX (tests/integration/dovecot.py), then for
each run:
  * IMAP: a fresh `mailvault serve` (embedded PostgreSQL, roles ingest,index,api), one account:
    time from `mailvault account add` (a new account is due at once) until every message is
    archived (stored, committed and checkpointed: the end of the first sync, from the server's
    "synced" log line) and until every message is searchable (index caught up); server peak RSS;
  * mbsync (`Sync Pull`, SSLType None) into an empty Maildir;
  * POP3: a fresh server pulling the same maildrop over POP3; fetchmail (keep, fetchall,
    BSMTP output to a file: no per-message process) on the same maildrop;
  * no-op sync of an unchanged 100-folder account (the sync's own duration as recorded in its
    history, and the wall time of `account sync --wait`), and mbsync's no-op re-sync.
Plaintext on loopback for every client, so the comparison measures the clients, not TLS.
Prints medians over --runs.

Usage: bench/ingest_bench.py [--n 10000] [--runs 3] [--work /tmp/mv-bench]
       [--mailvault build/release/cli/mailvault] [--no-peers] [--no-pop3]
       [--server-log-level debug]
"""
import argparse
import datetime
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
sys.path.insert(0, HERE)

import dovecot  # noqa: E402
import import_bench  # noqa: E402  (corpus generation, RSS, gRPC stubs)


def maildir_files(d):
    out = []
    for dirpath, _dirs, files in os.walk(d):
        if os.path.basename(dirpath) in ("cur", "new"):
            out += [os.path.join(dirpath, f) for f in files]
    return sorted(out)


class Server:
    # --server-log-level: "debug" shows per-batch timings of the write path. At least "info":
    # the end of a sync is read from its "synced" line.
    log_level = "info"

    def __init__(self, binary, work, roles="ingest,index,api", extra_args=()):
        self.binary = binary
        self.data = tempfile.mkdtemp(prefix="mv-ingest-bench-", dir=work)
        os.chmod(self.data, 0o755)
        self.log = open(os.path.join(work, "serve-%d.log" % time.monotonic_ns()), "wb")
        self.proc = subprocess.Popen([binary, "--log-level", Server.log_level, "serve", "--data-dir", self.data,
                                      "--grpc-listen", "127.0.0.1:0", "--roles", roles, *extra_args],
                                     stdout=self.log, stderr=subprocess.STDOUT)
        addr = os.path.join(self.data, "grpc.address")
        deadline = time.time() + 120
        while not os.path.exists(addr):
            if self.proc.poll() is not None or time.time() > deadline:
                raise RuntimeError("server did not start; see " + self.log.name)
            time.sleep(0.1)
        self.address = open(addr).read().strip()
        self.token = open(os.path.join(self.data, "admin.token")).read().strip()

    def cli(self, *args, input=None):
        r = subprocess.run([self.binary, *args, "--data-dir", self.data], input=input,
                           capture_output=True)
        if r.returncode != 0:
            raise RuntimeError("%s failed: %s" % (" ".join(args), r.stderr.decode(errors="replace")))
        return r.stdout.decode()

    def add_account(self, name, port, user, password, protocol="imap"):
        self.cli("account", "add", name, "--protocol", protocol, "--host", "127.0.0.1", "--port",
                 str(port), "--tls", "none", "--user", user, "--password-stdin", "--interval", "24h",
                 input=(password + "\n").encode())

    def sync(self, name):
        out = self.cli("account", "sync", name, "--wait", "--json", "--timeout", "7200")
        return json.loads(out.strip().splitlines()[0])

    def first_sync(self, t0, name):
        """Seconds from t0 (taken just before `account add`) to the end of the account's first
        sync, and what it fetched. A new account is due at once, so adding it starts that sync;
        `account sync --wait` then only waits for it to be over (or runs a second, no-op one)
        and checks it succeeded. The end is the server's own "synced" log line (info level,
        ms resolution), not when the CLI's --wait polling (50 ms doubling up to 500 ms) notices."""
        r = self.sync(name)
        if not r["ok"]:
            raise RuntimeError("%s: sync failed: %s" % (name, r["error"]))
        pat = re.compile(r"^(\S+)Z info account %s: synced: .*fetched (\d+) " % re.escape(name))
        with open(self.log.name, errors="replace") as f:
            for line in f:
                m = pat.match(line)
                if m:
                    end = datetime.datetime.fromisoformat(m.group(1)).replace(
                        tzinfo=datetime.timezone.utc).timestamp()
                    return end - t0, int(m.group(2))
        raise RuntimeError("no 'synced' line for %s in %s (log level must be info or debug)"
                           % (name, self.log.name))

    def wait_indexed(self, pb2, pb2_grpc):
        import grpc
        with grpc.insecure_channel(self.address) as ch:
            stub = pb2_grpc.ArchiveServiceStub(ch)
            md = [("authorization", "Bearer " + self.token)]
            while True:
                st = stub.GetStatus(pb2.GetStatusRequest(), metadata=md)
                if st.index_backlog == 0 and st.indexed >= st.messages:
                    return st
                time.sleep(0.05)

    def rss_mb(self):
        return import_bench.vm_hwm_kb(self.proc.pid) / 1024

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(120)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()
        shutil.rmtree(self.data, ignore_errors=True)


def run_imap(binary, dv, pb2, pb2_grpc, work, roles="ingest,index,api"):
    s = Server(binary, work, roles=roles)
    try:
        t0 = time.time()
        s.add_account("bench", dv.imap_port, "bench", "bench-pw")
        t_archived, fetched = s.first_sync(t0, "bench")
        st = s.wait_indexed(pb2, pb2_grpc) if "index" in roles else None
        t_searchable = time.time() - t0
        if st is None:
            return {"archived_s": t_archived, "fetched": fetched, "rss_mb": s.rss_mb()}
        return {"messages": st.messages, "archived_s": t_archived, "searchable_s": t_searchable,
                "fetched": fetched, "rss_mb": s.rss_mb()}
    finally:
        s.stop()


def run_pop3(binary, dv, work):
    s = Server(binary, work, roles="ingest,api")
    try:
        t0 = time.time()
        s.add_account("bench-pop", dv.pop3_port, "bench", "bench-pw", protocol="pop3")
        t_archived, fetched = s.first_sync(t0, "bench-pop")
        return {"archived_s": t_archived, "fetched": fetched}
    finally:
        s.stop()


def run_noop(binary, dv, work, repeats=5):
    s = Server(binary, work, roles="ingest,api")
    try:
        s.add_account("hundred", dv.imap_port, "hundred", "hundred-pw")
        s.sync("hundred")
        inner, wall = [], []
        for _ in range(repeats):
            t0 = time.time()
            r = s.sync("hundred")
            wall.append(time.time() - t0)
            if r["event"]["fetched"] != 0:
                raise RuntimeError("no-op sync fetched %d" % r["event"]["fetched"])
            m = re.search(r"([0-9.]+) s$", r["event"]["detail"])
            inner.append(float(m.group(1)))
        return {"inner_s": statistics.median(inner), "wall_s": statistics.median(wall),
                "folders": int(re.match(r"(\d+) folder", r["event"]["detail"]).group(1))}
    finally:
        s.stop()


def mbsync_rc(work, dv, user, password, target):
    rc = os.path.join(work, "mbsyncrc-" + user)
    with open(rc, "w") as f:
        f.write(f"""IMAPAccount bench
Host 127.0.0.1
Port {dv.imap_port}
User {user}
Pass {password}
SSLType None
AuthMechs LOGIN PLAIN

IMAPStore remote
Account bench

MaildirStore local
Path {target}/
Inbox {target}/INBOX
SubFolders Verbatim

Channel pull
Far :remote:
Near :local:
Patterns *
Create Near
Sync Pull
Expunge None
SyncState *
""")
    return rc


def run_mbsync(dv, work, user="bench", password="bench-pw"):
    target = tempfile.mkdtemp(prefix="mbsync-", dir=work)
    rc = mbsync_rc(work, dv, user, password, target)
    try:
        t0 = time.time()
        subprocess.run(["mbsync", "-q", "-c", rc, "-a"], check=True)
        first = time.time() - t0
        t0 = time.time()
        subprocess.run(["mbsync", "-q", "-c", rc, "-a"], check=True)
        noop = time.time() - t0
        return {"archived_s": first, "noop_s": noop}
    finally:
        shutil.rmtree(target, ignore_errors=True)


def run_fetchmail(dv, work):
    home = tempfile.mkdtemp(prefix="fetchmail-", dir=work)
    rc = os.path.join(home, ".fetchmailrc")
    out = os.path.join(home, "out.bsmtp")
    with open(rc, "w") as f:
        f.write(f'poll 127.0.0.1 protocol POP3 port {dv.pop3_port} auth password '
                f'user "bench" password "bench-pw" is "root" here keep fetchall sslproto \'\'\n')
    os.chmod(rc, 0o600)
    try:
        t0 = time.time()
        p = subprocess.run(["fetchmail", "-f", rc, "--nosyslog", "--silent", "--bsmtp", out],
                           env={**os.environ, "HOME": home}, capture_output=True)
        if p.returncode not in (0, 1):
            raise RuntimeError("fetchmail failed: %s" % p.stderr.decode(errors="replace")[-1000:])
        return {"archived_s": time.time() - t0}
    finally:
        shutil.rmtree(home, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=10000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--work", default="/tmp/mv-bench")
    ap.add_argument("--mailvault", default=os.path.join(ROOT, "build", "release", "cli", "mailvault"))
    ap.add_argument("--no-peers", action="store_true")
    ap.add_argument("--no-pop3", action="store_true")
    ap.add_argument("--server-log-level", default="info", choices=["info", "debug", "trace"],
                    help="log level of the mailvault servers (logs are kept under --work)")
    a = ap.parse_args()
    Server.log_level = a.server_log_level
    os.makedirs(a.work, exist_ok=True)
    maildir, _manifest = import_bench.corpus(a.work, a.n)
    files = maildir_files(maildir)
    raw_bytes = sum(os.path.getsize(f) for f in files)
    pb2, pb2_grpc = import_bench.stubs(a.work)
    dvdir = tempfile.mkdtemp(prefix="dovecot-", dir=a.work)
    dv = dovecot.Dovecot(dvdir).start()
    try:
        dv.add_user("bench", "bench-pw")
        t = time.time()
        batch = []
        for f in files:
            with open(f, "rb") as fh:
                batch.append(fh.read())
            if len(batch) == 5000:
                dv.append("bench", "INBOX", batch)
                batch = []
        if batch:
            dv.append("bench", "INBOX", batch)
        dv.add_user("hundred", "hundred-pw")
        small = dovecot.generate_messages(1000, seed=5)
        for i in range(99):
            dv.append("hundred", "F%02d" % i, small[i * 10:(i + 1) * 10])
        dv.append("hundred", "INBOX", small[990:])
        print(f"Dovecot loaded with {len(files)} messages ({raw_bytes / 1e6:.0f} MB) in "
              f"{time.time() - t:.0f} s", file=sys.stderr)
        runs = []
        for i in range(a.runs):
            r = {"imap": run_imap(a.mailvault, dv, pb2, pb2_grpc, a.work)}
            if not a.no_pop3:
                r["pop3"] = run_pop3(a.mailvault, dv, a.work)
            r["noop"] = run_noop(a.mailvault, dv, a.work)
            if not a.no_peers:
                r["mbsync"] = run_mbsync(dv, a.work)
                r["mbsync_noop100"] = run_mbsync(dv, a.work, "hundred", "hundred-pw")
                if not a.no_pop3:
                    r["fetchmail"] = run_fetchmail(dv, a.work)
            for k in ("imap", "pop3"):
                if k in r and r[k]["fetched"] != len(files):
                    raise RuntimeError("%s pull fetched %d of %d" % (k, r[k]["fetched"], len(files)))
            runs.append(r)
            print(f"run {i + 1}: " + json.dumps(r), file=sys.stderr)
    finally:
        dv.stop()
        shutil.rmtree(dvdir, ignore_errors=True)

    n = len(files)
    med = lambda k, f: statistics.median(r[k][f] for r in runs)  # noqa: E731
    mb = raw_bytes / 1e6

    def rate(label, secs):
        print(f"  {label:<28}{secs:8.2f} s {n / secs:9.0f} msg/s {mb / secs:7.1f} MB/s")

    print(f"\nmailvault ingest, {n} messages, {mb:.0f} MB raw (gen_corpus seed 42), "
          f"median of {len(runs)} runs, loopback, plaintext")
    rate("IMAP archived", med("imap", "archived_s"))
    rate("IMAP searchable", med("imap", "searchable_s"))
    print(f"  server peak RSS {med('imap', 'rss_mb'):.0f} MB")
    if not a.no_pop3:
        rate("POP3 archived", med("pop3", "archived_s"))
    print(f"  no-op sync of an unchanged {runs[0]['noop']['folders']}-folder account: "
          f"{med('noop', 'inner_s'):.3f} s (sync itself), {med('noop', 'wall_s'):.3f} s "
          f"(`account sync --wait` wall time)")
    if not a.no_peers:
        rate("mbsync (IMAP)", med("mbsync", "archived_s"))
        print(f"  mbsync no-op re-sync: {med('mbsync', 'noop_s'):.3f} s ({n} messages), "
              f"{med('mbsync_noop100', 'noop_s'):.3f} s (100 folders)")
        print(f"  ratio IMAP archived-rate / mbsync = "
              f"{med('mbsync', 'archived_s') / med('imap', 'archived_s'):.2f}x")
        if not a.no_pop3:
            rate("fetchmail (POP3)", med("fetchmail", "archived_s"))
            print(f"  ratio POP3 archived-rate / fetchmail = "
                  f"{med('fetchmail', 'archived_s') / med('pop3', 'archived_s'):.2f}x")


if __name__ == "__main__":
    main()
