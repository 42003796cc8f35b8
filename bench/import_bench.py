#!/usr/bin/python3
"""mailvault import+index benchmark, with mu and notmuch on the same Maildir in the same run.

Generates N messages with ../shared/bench/gen_corpus.py (seed 42, the generator the peer figures
in the issues were measured with), then for each run:
  * starts `mailvault serve` on a fresh data dir (embedded PostgreSQL),
  * times `mailvault import` (archived: stored and committed) and the time until the index has
    caught up (searchable),
  * records peak RSS of the server (VmHWM) and of the import client, index and blob store sizes,
  * measures p50/p95 latency of 10 representative searches over gRPC,
and runs `mu index` and `notmuch new` on the same Maildir. Prints medians over --runs.

Usage: bench/import_bench.py [--n 10000] [--runs 3] [--work /tmp/mv-bench] [--no-peers] [--keep]
       [--mailvault build/release/cli/mailvault]
"""
import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SHARED = os.path.join(os.path.dirname(ROOT), "shared")
GEN = os.path.join(SHARED, "bench", "gen_corpus.py")


def du(path):
    total = 0
    for dirpath, _, files in os.walk(path):
        for f in files:
            try:
                total += os.lstat(os.path.join(dirpath, f)).st_size
            except OSError:
                pass
    return total


def corpus(work, n):
    d = os.path.join(work, f"corpus-{n}-seed42")
    manifest = d + ".json"
    if not os.path.exists(manifest):
        shutil.rmtree(d, ignore_errors=True)
        t = time.time()
        subprocess.run(["/usr/bin/python3", GEN, "--maildir", d, "--n", str(n), "--seed", "42",
                        "--manifest", manifest, "--procs", str(os.cpu_count() or 2)], check=True)
        print(f"generated {n} messages in {time.time() - t:.0f} s", file=sys.stderr)
    with open(manifest) as f:
        return d, json.load(f)


def stubs(work):
    out = os.path.join(work, "pystubs")
    if not os.path.exists(os.path.join(out, "mailvault", "v1", "archive_pb2_grpc.py")):
        os.makedirs(out, exist_ok=True)
        subprocess.run(["/usr/bin/python3", "-m", "grpc_tools.protoc", "-I", os.path.join(ROOT, "proto"),
                        f"--python_out={out}", f"--grpc_python_out={out}", "mailvault/v1/archive.proto"],
                       check=True)
    sys.path.insert(0, out)
    import grpc  # noqa: F401
    from mailvault.v1 import archive_pb2, archive_pb2_grpc
    return archive_pb2, archive_pb2_grpc


def vm_hwm_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p * (len(values) - 1))))]


def queries(manifest):
    q = manifest["queries"]
    d = q["date_range"]
    return [
        ("text_common", " ".join(q["text_common"]["words"])),
        ("body_rare", "body:" + q["body_rare"]["words"][0]),
        ("from_addr", "from:" + q["from_addr"]["addr"]),
        ("subject_word", "subject:" + q["subject_word"]["word"]),
        ("date_range", f"after:{d['since']} before:{d['before']}"),
        ("or_from_to", f"from:{q['or_from_to']['from']} OR to:{q['or_from_to']['to']}"),
        ("and_two_words", " ".join("body:" + w for w in q["and_two_words"]["words"])),
        ("phrase", '"socket timeout"'),
        ("attach_large", "has:attachment larger:100K"),
        ("prefix_not", "config* -subject:configuration"),
    ]


def run_mailvault(binary, maildir, manifest, work, pb2, pb2_grpc, keep=False):
    import grpc
    data = tempfile.mkdtemp(prefix="mv-bench-data-", dir=work)
    os.chmod(data, 0o755)
    server = subprocess.Popen([binary, "--log-level", "warn", "serve", "--data-dir", data,
                               "--grpc-listen", "127.0.0.1:0"], stderr=subprocess.PIPE)
    try:
        addr_file = os.path.join(data, "grpc.address")
        deadline = time.time() + 120
        while not os.path.exists(addr_file):
            if server.poll() is not None or time.time() > deadline:
                raise RuntimeError("server did not start: " + server.stderr.read().decode(errors="replace"))
            time.sleep(0.1)
        address = open(addr_file).read().strip()
        token = open(os.path.join(data, "admin.token")).read().strip()
        t0 = time.time()
        imp = subprocess.run(["/usr/bin/time", "-f", "%M", binary, "import", "--data-dir", data, maildir],
                             capture_output=True, text=True)
        t_archived = time.time() - t0
        if imp.returncode != 0:
            raise RuntimeError("import failed: " + imp.stderr[-2000:])
        client_rss = int(imp.stderr.strip().splitlines()[-1])  # KiB, from /usr/bin/time
        channel = grpc.insecure_channel(address)
        stub = pb2_grpc.ArchiveServiceStub(channel)
        md = [("authorization", "Bearer " + token)]
        while True:
            st = stub.GetStatus(pb2.GetStatusRequest(), metadata=md)
            if st.index_backlog == 0 and st.indexed >= st.messages:
                break
            time.sleep(0.05)
        t_searchable = time.time() - t0
        lat = {}
        for name, q in queries(manifest):
            for _ in range(3):
                stub.Search(pb2.SearchRequest(query=q, page_size=20), metadata=md)
            samples = []
            for _ in range(25):
                t = time.perf_counter()
                stub.Search(pb2.SearchRequest(query=q, page_size=20), metadata=md)
                samples.append((time.perf_counter() - t) * 1000)
            r = stub.Search(pb2.SearchRequest(query=q, page_size=1), metadata=md)
            lat[name] = (percentile(samples, 0.5), percentile(samples, 0.95), r.total_estimate)
        result = {
            "messages": st.messages, "archived_s": t_archived, "searchable_s": t_searchable,
            "server_rss_mb": vm_hwm_kb(server.pid) / 1024, "client_rss_mb": client_rss / 1024,
            "index_bytes": du(os.path.join(data, "index")), "blob_bytes": du(os.path.join(data, "blobs")),
            "latency": lat,
        }
        channel.close()
        return result
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(60)
        except subprocess.TimeoutExpired:
            server.kill()
        if keep:
            print(f"data directory kept: {data}", flush=True)
        else:
            shutil.rmtree(data, ignore_errors=True)


def timed_rss(cmd, env=None):
    t = time.time()
    p = subprocess.run(["/usr/bin/time", "-f", "%M"] + cmd, capture_output=True, text=True, env=env)
    secs = time.time() - t
    if p.returncode != 0:
        raise RuntimeError(f"{cmd[0]} failed: {p.stderr[-1500:]}")
    rss_kb = int(p.stderr.strip().splitlines()[-1])
    return secs, rss_kb / 1024


def run_mu(maildir, work):
    home = tempfile.mkdtemp(prefix="mu-", dir=work)
    try:
        subprocess.run(["mu", "init", f"--maildir={maildir}", f"--muhome={home}"], check=True,
                       capture_output=True)
        secs, rss = timed_rss(["mu", "index", f"--muhome={home}"])
        return {"secs": secs, "rss_mb": rss, "index_bytes": du(home)}
    finally:
        shutil.rmtree(home, ignore_errors=True)


def run_notmuch(maildir, work):
    home = tempfile.mkdtemp(prefix="notmuch-", dir=work)
    try:
        os.makedirs(os.path.join(home, "db"), exist_ok=True)
        cfg = os.path.join(home, "config")
        with open(cfg, "w") as f:
            f.write(f"[database]\nmail_root={maildir}\npath={home}/db\n[new]\ntags=inbox\n"
                    "[user]\nname=Bench\nprimary_email=bench@example.org\n")
        env = dict(os.environ, NOTMUCH_CONFIG=cfg)
        secs, rss = timed_rss(["notmuch", "new", "--quiet"], env=env)
        return {"secs": secs, "rss_mb": rss, "index_bytes": du(os.path.join(home, "db"))}
    finally:
        shutil.rmtree(home, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=10000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--work", default="/tmp/mv-bench")
    ap.add_argument("--mailvault", default=os.path.join(ROOT, "build", "release", "cli", "mailvault"))
    ap.add_argument("--no-peers", action="store_true")
    ap.add_argument("--keep", action="store_true",
                    help="leave each run's data directory (for profiling; `mailvault serve --data-dir`)")
    a = ap.parse_args()
    os.makedirs(a.work, exist_ok=True)
    os.chmod(a.work, 0o755)
    maildir, manifest = corpus(a.work, a.n)
    raw = manifest["bytes_total"]
    pb2, pb2_grpc = stubs(a.work)
    runs, mus, nms = [], [], []
    for i in range(a.runs):
        r = run_mailvault(a.mailvault, maildir, manifest, a.work, pb2, pb2_grpc, a.keep)
        runs.append(r)
        print(f"run {i + 1}: mailvault archived {r['messages']} in {r['archived_s']:.1f} s, "
              f"searchable at {r['searchable_s']:.1f} s", file=sys.stderr)
        if not a.no_peers:
            mus.append(run_mu(maildir, a.work))
            nms.append(run_notmuch(maildir, a.work))
            print(f"run {i + 1}: mu {mus[-1]['secs']:.1f} s, notmuch {nms[-1]['secs']:.1f} s", file=sys.stderr)

    med = lambda xs: statistics.median(xs)
    n = runs[0]["messages"]
    arch = med([r["archived_s"] for r in runs])
    srch = med([r["searchable_s"] for r in runs])
    print(f"\nmailvault import+index, {n} messages, {raw / 1e6:.0f} MB raw (gen_corpus seed 42), "
          f"median of {a.runs} runs")
    print(f"  archived:   {arch:7.1f} s  {n / arch:8.0f} msg/s  {raw / arch / 1e6:6.1f} MB/s")
    print(f"  searchable: {srch:7.1f} s  {n / srch:8.0f} msg/s  {raw / srch / 1e6:6.1f} MB/s")
    print(f"  peak RSS: server {med([r['server_rss_mb'] for r in runs]):.0f} MB, "
          f"import client {med([r['client_rss_mb'] for r in runs]):.0f} MB")
    idx = med([r["index_bytes"] for r in runs])
    blobs = med([r["blob_bytes"] for r in runs])
    print(f"  index {idx / 1e6:.0f} MB = {100 * idx / raw:.0f}% of raw; blob store {blobs / 1e6:.0f} MB = "
          f"{100 * blobs / raw:.0f}% of raw")
    print("  search latency over gRPC (25 runs each, page of 20):")
    for name, _ in queries(manifest):
        p50 = med([r["latency"][name][0] for r in runs])
        p95 = med([r["latency"][name][1] for r in runs])
        hits = runs[-1]["latency"][name][2]
        truth = manifest.get("ground_truth_counts", {}).get(name)
        extra = f" (generator ground truth {truth})" if truth is not None else ""
        print(f"    {name:14s} p50 {p50:6.1f} ms  p95 {p95:6.1f} ms  hits {hits}{extra}")
    if mus:
        mu_s, nm_s = med([m["secs"] for m in mus]), med([m["secs"] for m in nms])
        print(f"  mu index:    {mu_s:7.1f} s  {n / mu_s:8.0f} msg/s  peak RSS {med([m['rss_mb'] for m in mus]):.0f} MB"
              f"  index {100 * med([m['index_bytes'] for m in mus]) / raw:.0f}% of raw")
        print(f"  notmuch new: {nm_s:7.1f} s  {n / nm_s:8.0f} msg/s  peak RSS {med([m['rss_mb'] for m in nms]):.0f} MB"
              f"  index {100 * med([m['index_bytes'] for m in nms]) / raw:.0f}% of raw")
        print(f"  ratios: mailvault searchable-rate / mu = {mu_s / srch:.2f}x, / notmuch = {nm_s / srch:.2f}x")


if __name__ == "__main__":
    main()
