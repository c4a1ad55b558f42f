#!/usr/bin/env python3
"""Scale-out: one run vs N shard processes on one machine, per stage.

    python3 benches/scale_out.py DUMP [--sql sql/megatron.sql] [--shards 3] [--runs 3] [-D seed=7 ...]

Runs `target/release/wikitok run SQL` once unsharded and once as N concurrent
`--shard I/N` processes into one output (the pods' command line), --runs
times each, and prints the median wall times, their ratio, and from the
shards' logs each stage's time (the slowest shard's) and the bytes it
exchanged, per GB of compressed dump. On one machine the shards share its
cores: the ratio is the price of the exchange, not the speed-up of more
machines. Build first: cargo build --release.
"""
import argparse
import collections
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
BINARY = os.path.join(REPO, "target", "release", "wikitok")
STAGE_LINE = re.compile(
    r"(statement \d+, stage \d+ of \d+(?: \(writers\))?): (\d+) of (\d+) (?:map )?tasks ran here "
    r"\((\d+) rows, ([\d.]+) MB (?:exchanged|written)\) in ([\d.]+)s"
)


def dump_bytes(path):
    if os.path.isfile(path):
        return os.path.getsize(path)
    return sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(path) for f in fs)


def run(args, shards, out):
    shutil.rmtree(out, ignore_errors=True)
    started = time.perf_counter()
    if shards == 0:
        procs = [subprocess.Popen([BINARY, *args, "--output", out], stderr=subprocess.PIPE, text=True)]
    else:
        procs = [
            subprocess.Popen([BINARY, *args, "--output", out, "--shard", f"{i}/{shards}"], stderr=subprocess.PIPE, text=True)
            for i in range(shards)
        ]
    logs = []
    for p in procs:
        _, err = p.communicate()
        if p.returncode != 0:
            sys.exit(f"failed ({p.returncode}):\n{err}")
        logs.append(err)
    return time.perf_counter() - started, logs


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("dump")
    parser.add_argument("--sql", default="sql/megatron.sql")
    parser.add_argument("--shards", type=int, default=3)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("-D", dest="defines", action="append", default=[])
    opts = parser.parse_args()
    args = ["run", opts.sql, "--input", opts.dump]
    for define in opts.defines:
        args += ["-D", define]
    gb = dump_bytes(opts.dump) / 1e9
    work = tempfile.mkdtemp(prefix="wikitok-scale-out-")
    single, sharded = [], []
    stages = collections.defaultdict(lambda: {"seconds": [], "mb": []})
    try:
        for _ in range(opts.runs):
            seconds, _ = run(args, 0, os.path.join(work, "single"))
            single.append(seconds)
            seconds, logs = run(args, opts.shards, os.path.join(work, "sharded"))
            sharded.append(seconds)
            per_stage = collections.defaultdict(lambda: [0.0, 0.0])
            for log in logs:
                for m in STAGE_LINE.finditer(log):
                    entry = per_stage[m.group(1)]
                    entry[0] = max(entry[0], float(m.group(6)))
                    entry[1] += float(m.group(5))
            for name, (secs, mb) in per_stage.items():
                stages[name]["seconds"].append(secs)
                stages[name]["mb"].append(mb)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    s, n = statistics.median(single), statistics.median(sharded)
    print(f"{opts.sql} on {opts.dump} ({gb * 1000:.1f} MB compressed), median of {opts.runs}")
    print(f"  one process:        {s:7.2f} s")
    print(f"  {opts.shards} shard processes: {n:7.2f} s  ({n / s:.2f}x the single run's time)")
    for name in sorted(stages):
        secs = statistics.median(stages[name]["seconds"])
        mb = statistics.median(stages[name]["mb"])
        what = "written" if "writers" in name else "exchanged"
        print(f"  {name}: {secs:6.2f} s (slowest shard), {mb:8.1f} MB {what} = {mb / 1000 / gb:6.2f} GB per GB of dump")


if __name__ == "__main__":
    main()
