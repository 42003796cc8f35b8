#!/usr/bin/python3
"""IMAP SEARCH and FETCH benchmark: mailvault's read-only IMAP server against a private Dovecot
without FTS (exact scan: the reference answers) and a private Dovecot with Debian's
dovecot-fts-xapian plugin, on the same generated corpus in the same run.

Generates N messages with ../shared/bench/gen_corpus.py (seed 42; cached under --work, shared
with import_bench.py and ingest_bench.py), then, one system at a time:
  * dovecot:    the messages in one INBOX of a private Dovecot (tests/integration/dovecot.py),
                file mtimes kept, so INTERNALDATE equals mailvault's;
  * fts-xapian: the same, with `mail_plugins = fts fts_xapian` (settings from the plugin's
                README: partial=3 full=20); its index is built with `doveadm index` before
                timing (build time and size reported);
  * mailvault:  a fresh `mailvault serve` (embedded PostgreSQL, --imap-listen 127.0.0.1:0),
                `mailvault import` of the Maildir, wait until the index has caught up, an
                auditor from `mailvault user add`, mailbox `All Mail`; peak RSS (VmHWM, which
                includes the import and the indexing).
Each system answers `UID FETCH 1:* (UID BODY.PEEK[])` (throughput; the SHA-256 of every message
maps UIDs to messages) and every SEARCH of QUERIES once as a warm-up, then --runs times
(UID SEARCH, one connection, plaintext on loopback). Prints p50/p95 per query and system, the
ratios to Dovecot without FTS and to fts-xapian, and whether each system's answer equals the
reference (Dovecot without FTS; mismatches counted in messages).

Query words are chosen deterministically from the generator's manifest (the words it records
with exact expected counts: a common word, a rare word, two words, a subject word, a sender's
address and an OR pair, a date range); FROM uses the sender's surname (the address's local part
up to its first dot); HEADER Message-ID uses the Message-ID of the middle message in file-name
order; the substring is the common word without its first and last letters; the non-ASCII word
is "café", which the generator puts into iso-8859-1 and windows-1252 bodies.

Usage: bench/imap_search_bench.py [--n 10000] [--runs 5] [--systems dovecot,fts-xapian,mailvault]
       [--fetch-runs 2] [--work /tmp/mv-bench] [--mailvault build/release/cli/mailvault] [--keep]
"""
import argparse
import datetime
import email.parser
import email.policy
import hashlib
import imaplib
import os
import re
import shutil
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
import import_bench  # noqa: E402  (corpus generation, percentiles, RSS, du, gRPC stubs)
import ingest_bench  # noqa: E402  (mailvault server wrapper, Maildir listing)
from imap_oracle import Literal  # noqa: E402
from test_imap_search_oracle import raw_search  # noqa: E402

SYSTEMS = ("dovecot", "fts-xapian", "mailvault")
USER, PASSWORD = "bench", "bench-pw"
NON_ASCII_WORD = "café"
LARGER_THAN = 100000

# Dovecot's fts-xapian settings, as in the plugin's README (Debian's 1.5.5: n-grams of 3 to 20
# characters); indexing is done explicitly with `doveadm index` before timing.
FTS_XAPIAN_CONF = """
mail_plugins = $mail_plugins fts fts_xapian
plugin {
  fts = xapian
  fts_xapian = partial=3 full=20
  fts_autoindex = no
  fts_enforced = yes
}
service indexer-worker {
  vsz_limit = 0
}
"""


def imap_date(iso):
    d = datetime.date.fromisoformat(iso)
    return "%d-%s-%d" % (d.day, d.strftime("%b"), d.year)


def message_id(path):
    with open(path, "rb") as fh:
        head = fh.read(64 * 1024).split(b"\n\n", 1)[0]
    msg = email.parser.BytesHeaderParser(policy=email.policy.compat32).parsebytes(head)
    return msg["Message-ID"].strip().strip("<>")


def queries(manifest, files):
    """(name, program) pairs; see the module comment for how the words are chosen."""
    q = manifest["queries"]
    common = q["text_common"]["words"][0]
    rare = q["body_rare"]["words"][0]
    a, b = q["and_two_words"]["words"][:2]
    surname = q["from_addr"]["addr"].split("@")[0].split(".")[0]
    mid = message_id(files[len(files) // 2])
    d = q["date_range"]
    return [
        ("TEXT common", ["TEXT", common]),
        ("BODY rare", ["BODY", rare]),
        ("BODY a BODY b", ["BODY", a, "BODY", b]),
        ("SUBJECT word", ["SUBJECT", q["subject_word"]["word"]]),
        ("FROM name", ["FROM", surname]),
        ("HEADER Message-ID", ["HEADER", "Message-ID", dovecot.imap_quote(mid)]),
        ("SINCE..BEFORE", ["SINCE", imap_date(d["since"]), "BEFORE", imap_date(d["before"])]),
        ("LARGER", ["LARGER", str(LARGER_THAN)]),
        ("OR FROM TO", ["OR", "FROM", q["or_from_to"]["from"], "TO", q["or_from_to"]["to"]]),
        ("BODY substring", ["BODY", common[1:-1]]),
        ("UTF-8 BODY", ["CHARSET", "UTF-8", "BODY", Literal(NON_ASCII_WORD.encode())]),
    ]


def fetch_all(m, keep=True):
    """`UID FETCH 1:* (UID BODY.PEEK[])` on imaplib connection m, read straight off the wire.
    Returns (seconds, bytes of message data, {uid: SHA-256 of the message with LF endings}; empty
    unless `keep`: hashing happens after the clock stops, on the bodies kept in memory)."""
    t0 = time.perf_counter()
    m.send(b"f1 UID FETCH 1:* (UID BODY.PEEK[])\r\n")
    bodies, total = {}, 0
    while True:
        line = m.readline()
        if line.startswith(b"f1 "):
            if not line.startswith(b"f1 OK"):
                raise RuntimeError("UID FETCH failed: %r" % line)
            break
        lit = re.search(rb"\{(\d+)\}\r\n$", line)
        if not lit:
            continue
        data = m.read(int(lit.group(1)))
        rest = m.readline()
        uid = re.search(rb"UID (\d+)", line + rest)
        if keep:
            bodies[int(uid.group(1))] = data
        total += len(data)
    secs = time.perf_counter() - t0
    # Dovecot serves LF-only Maildir files with CRLF line endings, mailvault the archived bytes:
    # messages are identified by the SHA-256 of their LF form.
    return secs, total, {u: hashlib.sha256(d.replace(b"\r\n", b"\n")).hexdigest()
                         for u, d in bodies.items()}


def measure(m, qs, runs, fetch_runs):
    """FETCH throughput (the first read, then the median of `fetch_runs` more), then every query
    once (warm-up) and `runs` times. Returns the result dict of one system."""
    fetch_s, fetch_bytes, sha = fetch_all(m)
    warm = statistics.median([fetch_all(m, keep=False)[0] for _ in range(fetch_runs)] or [fetch_s])
    out = {"fetch_s": fetch_s, "fetch_warm_s": warm, "fetch_bytes": fetch_bytes,
           "messages": len(sha), "queries": {}}
    for n, (name, program) in enumerate(qs):
        samples, answer = [], None
        for r in range(runs + 1):
            tag = b"s%d.%d" % (n, r)
            t0 = time.perf_counter()
            status, uids = raw_search(m, tag, program)
            elapsed = (time.perf_counter() - t0) * 1000
            if not status.startswith(tag + b" OK"):
                answer = None
                out["queries"][name] = {"error": status.decode(errors="replace")}
                break
            answer = {sha[u] for u in uids if u in sha}
            if r:
                samples.append(elapsed)
        if answer is not None:
            out["queries"][name] = {"p50": import_bench.percentile(samples, 0.5),
                                    "p95": import_bench.percentile(samples, 0.95),
                                    "answer": answer}
        print("  %-18s %s" % (name, fmt_query(out["queries"][name])), file=sys.stderr)
    return out


def fmt_query(r):
    if "error" in r:
        return "error: " + r["error"]
    return "p50 %8.1f ms  p95 %8.1f ms  %d hits" % (r["p50"], r["p95"], len(r["answer"]))


def connect(port, mailbox):
    m = imaplib.IMAP4("127.0.0.1", port, timeout=1800)
    m.login(USER, PASSWORD)
    typ, data = m.select(mailbox, readonly=True)
    if typ != "OK":
        raise RuntimeError("EXAMINE %s: %r" % (mailbox, data))
    return m


def run_dovecot(work, files, mtimes, qs, runs, fetch_runs, fts, keep):
    d = tempfile.mkdtemp(prefix="dovecot-fts-" if fts else "dovecot-", dir=work)
    dv = dovecot.Dovecot(d, extra_conf=FTS_XAPIAN_CONF if fts else "")
    try:
        dv.start()
        dv.add_user(USER, PASSWORD)
        msgs = []
        for path in files:
            with open(path, "rb") as fh:
                msgs.append(fh.read())
        dv.append(USER, "INBOX", msgs, mtimes=mtimes)
        del msgs
        extra = {}
        m = connect(dv.imap_port, "INBOX")  # Dovecot moves new/ to cur/ and assigns UIDs
        if fts:
            t0 = time.time()
            subprocess.run(["doveadm", "-c", dv.conf_path, "index", "-u", USER, "INBOX"],
                           check=True)
            extra["index_s"] = time.time() - t0
            extra["index_bytes"] = sum(import_bench.du(os.path.join(p, "xapian-indexes"))
                                       for p, dirs, _ in os.walk(dv.home(USER)) if "xapian-indexes" in dirs)
            print("  fts-xapian index: %.0f s, %.0f MB" % (extra["index_s"], extra["index_bytes"] / 1e6),
                  file=sys.stderr)
        r = measure(m, qs, runs, fetch_runs)
        m.logout()
        r.update(extra)
        return r
    finally:
        dv.stop()
        if keep:
            print("  kept " + d, file=sys.stderr)
        else:
            shutil.rmtree(d, ignore_errors=True)


def run_mailvault(binary, work, maildir, n, qs, runs, fetch_runs, keep):
    pb2, pb2_grpc = import_bench.stubs(work)
    s = ingest_bench.Server(binary, work, roles="ingest,index,api,imap",
                            extra_args=["--imap-listen", "127.0.0.1:0"])
    try:
        t0 = time.time()
        s.cli("import", maildir)
        st = s.wait_indexed(pb2, pb2_grpc)
        searchable = time.time() - t0
        if st.messages != n:
            raise RuntimeError("mailvault archived %d messages, not %d" % (st.messages, n))
        print("  mailvault import + index: %.0f s" % searchable, file=sys.stderr)
        s.cli("user", "add", USER, "--role", "auditor", "--password-stdin",
              input=(PASSWORD + "\n").encode())
        with open(os.path.join(s.data, "imap.address")) as fh:
            port = int(fh.read().strip().rpartition(":")[2])
        m = connect(port, '"All Mail"')
        r = measure(m, qs, runs, fetch_runs)
        m.logout()
        r["searchable_s"] = searchable
        r["rss_mb"] = s.rss_mb()
        return r
    finally:
        if keep:
            print("  kept %s (server log in %s)" % (s.data, s.log.name), file=sys.stderr)
            s.data = tempfile.mkdtemp(dir=work)  # stop() removes this one instead
        s.stop()


def report(n, raw_bytes, runs, fetch_runs, qs, results):
    ref = results.get("dovecot")
    fts = results.get("fts-xapian")
    names = [s for s in SYSTEMS if s in results]
    print(f"\nIMAP SEARCH latency, {n} messages, {raw_bytes / 1e6:.0f} MB (gen_corpus seed 42), "
          f"p50/p95 of {runs} runs after one warm-up, in ms")
    print("%-18s" % "query" + "".join("%24s" % s for s in names) +
          ("  mailvault p95 / dovecot, / fts-xapian" if "mailvault" in results else ""))
    for name, _ in qs:
        row = "%-18s" % name
        for s in names:
            r = results[s]["queries"][name]
            if "error" in r:
                row += "%24s" % "error"
                continue
            mark = ""
            if ref and "answer" in ref["queries"][name]:
                diff = len(r["answer"] ^ ref["queries"][name]["answer"])
                mark = " =" if diff == 0 else " ≠%d" % diff
            row += "%24s" % ("%.1f/%.1f%s" % (r["p50"], r["p95"], mark))
        mv = results.get("mailvault", {}).get("queries", {}).get(name, {})
        if "p95" in mv:
            for other in (ref, fts):
                o = other["queries"][name] if other else {}
                row += "  %8s" % ("%.3fx" % (mv["p95"] / o["p95"]) if o.get("p95") else "-")
        print(row)
    print("  (= equal to Dovecot without FTS, ≠k: k messages differ; hits: "
          + ", ".join("%s %d" % (name, len(ref["queries"][name].get("answer", ())))
                      for name, _ in qs) + ")" if ref else "")
    print(f"\nUID FETCH 1:* BODY.PEEK[]: first read after loading / median of the next "
          f"{fetch_runs}")
    for s in names:
        r = results[s]
        first, warm = r["fetch_s"], r["fetch_warm_s"]
        print(f"  {s:11s} {r['fetch_bytes'] / first / 1e6:7.1f} / {r['fetch_bytes'] / warm / 1e6:7.1f} MB/s"
              f"  {r['messages'] / first:7.0f} / {r['messages'] / warm:7.0f} msg/s  "
              f"({r['messages']} messages, {first:.2f} / {warm:.2f} s)")
    if fts:
        print(f"\nfts-xapian index: built in {fts['index_s']:.0f} s, {fts['index_bytes'] / 1e6:.0f} MB "
              f"= {fts['index_bytes'] / raw_bytes:.2f}x the mail")
    if "mailvault" in results:
        mv = results["mailvault"]
        print(f"mailvault: import + index {mv['searchable_s']:.0f} s; server peak RSS (VmHWM, "
              f"includes import and indexing) {mv['rss_mb']:.0f} MB")


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=10000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--fetch-runs", type=int, default=2,
                    help="UID FETCH 1:* repeats after the first read (median reported; 0: none)")
    ap.add_argument("--systems", default=",".join(SYSTEMS))
    ap.add_argument("--work", default="/tmp/mv-bench")
    ap.add_argument("--mailvault", default=os.path.join(ROOT, "build", "release", "cli", "mailvault"))
    ap.add_argument("--keep", action="store_true", help="keep the data directories under --work")
    a = ap.parse_args()
    systems = a.systems.split(",")
    for s in systems:
        if s not in SYSTEMS:
            ap.error("unknown system %r (choose from %s)" % (s, ", ".join(SYSTEMS)))
    os.makedirs(a.work, exist_ok=True)
    os.chmod(a.work, 0o755)
    maildir, manifest = import_bench.corpus(a.work, a.n)
    files = ingest_bench.maildir_files(maildir)
    mtimes = [int(os.stat(f).st_mtime) for f in files]
    qs = queries(manifest, files)
    results = {}
    for s in SYSTEMS:
        if s not in systems:
            continue
        print("%s:" % s, file=sys.stderr)
        if s == "mailvault":
            results[s] = run_mailvault(a.mailvault, a.work, maildir, len(files), qs, a.runs,
                                       a.fetch_runs, a.keep)
        else:
            results[s] = run_dovecot(a.work, files, mtimes, qs, a.runs, a.fetch_runs,
                                     s == "fts-xapian", a.keep)
    report(len(files), manifest["bytes_total"], a.runs, a.fetch_runs, qs, results)


if __name__ == "__main__":
    main()
