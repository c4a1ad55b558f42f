#!/usr/bin/env python3
"""wikitok vs the Python peer on the same dump and machine.

    python3 benches/compare.py DUMP [--tokenizer PATH] [--runs 3] [--backends hf,fast]

Runs `target/release/wikitok run sql/tokenize.sql` (once per --tokenizer-backend) and benches/python_peer.py
(HF tokenizers encode_batch + pyarrow) on DUMP, each --runs times, and prints
the median wall time, MB/s of page text, tokens/s, peak RSS, and the ratios.
Also prints raw HF encode_batch throughput (the peer's tokenize-only time):
the ceiling for an HF-backed pipeline. Build first: cargo build --release.
Needs tokenizers, pyarrow (tests/python/requirements.txt).
"""
import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)


def timed(cmd, env=None):
    """Runs cmd; returns (seconds, peak RSS bytes of the child, stdout)."""
    # ru_maxrss of RUSAGE_CHILDREN is the max over all children so far: fork
    # a fresh Python helper per measurement so that it is this child's.
    wrapper = ("import resource,subprocess,sys,time,json;t=time.perf_counter();"
               "p=subprocess.run(sys.argv[1:],capture_output=True,text=True);"
               "d=time.perf_counter()-t;r=resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss*1024;"
               "sys.stderr.write(p.stderr);print(json.dumps([d,r,p.stdout,p.returncode]))")
    out = subprocess.run([sys.executable, "-c", wrapper, *cmd], capture_output=True, text=True, env=env, check=True)
    seconds, rss, stdout, code = json.loads(out.stdout.strip().splitlines()[-1])
    if code != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{out.stderr}")
    return seconds, rss, stdout


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dump")
    ap.add_argument("--tokenizer", default=os.path.join(REPO, "data/samples/tokenizer/cl100k_base.tokenizer.json"))
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--backends", default="hf,fast", help="wikitok --tokenizer-backend values to compare")
    ap.add_argument("--wikitok", default=os.path.join(REPO, "target", "release", "wikitok"),
                    help="the binary to measure (e.g. a build of an earlier commit, for before/after)")
    a = ap.parse_args()
    wikitok = a.wikitok
    backends = a.backends.split(",")
    results = {f"wikitok {b}": [] for b in backends}
    results["python peer"] = []
    peer_stats = None
    summaries = {}
    for _ in range(a.runs):
        for backend in backends:
            with tempfile.TemporaryDirectory() as out:
                s, rss, _ = timed([wikitok, "run", os.path.join(REPO, "sql/tokenize.sql"), "--input", a.dump,
                                   "--tokenizer", a.tokenizer, "--tokenizer-backend", backend, "--output", out,
                                   "--quiet", "--allow-incomplete"])
                results[f"wikitok {backend}"].append((s, rss))
                summaries[backend] = json.load(open(os.path.join(out, "_SUCCESS")))
        with tempfile.TemporaryDirectory() as out:
            s, rss, stdout = timed([sys.executable, os.path.join(HERE, "python_peer.py"), a.dump, out, a.tokenizer])
            results["python peer"].append((s, rss))
            peer_stats = json.loads(stdout)
    text_mb = peer_stats["text_bytes"] / 1e6
    tokens = peer_stats["tokens"]
    for backend, summary in summaries.items():
        if summary["tokens"] != tokens:
            print(f"WARNING: token totals differ: wikitok {backend} {summary['tokens']}, peer {tokens}")
    print(f"dump: {a.dump}: {peer_stats['pages']} content pages, {text_mb:.1f} MB of text, {tokens} tokens; "
          f"{os.cpu_count()} cores; median of {a.runs} runs")
    print(f"{'':14} {'wall s':>8} {'MB/s text':>10} {'tokens/s':>12} {'peak RSS MB':>12} {'speed-up':>9}")
    base = statistics.median(s for s, _ in results["python peer"])
    for name, runs in results.items():
        wall = statistics.median(s for s, _ in runs)
        rss = max(r for _, r in runs) / 1e6
        print(f"{name:14} {wall:8.2f} {text_mb / wall:10.1f} {tokens / wall:12.0f} {rss:12.0f} {base / wall:8.2f}x")
    raw = peer_stats["tokenize_s"]
    print(f"{'raw HF encode_batch':20} {raw:8.2f}s tokenize only: {tokens / raw:.0f} tokens/s")
    for backend in backends:
        wall = statistics.median(s for s, _ in results[f"wikitok {backend}"])
        print(f"  wikitok {backend} end to end = {raw / wall:.2f}x of raw HF encode_batch")


if __name__ == "__main__":
    main()
