#!/usr/bin/env python3
"""wikitok against the decompression floor, on one bzip2 shard.

    python3 benches/compare_bzip2.py SHARD.json.bz2 [--runs 2] [--sql sql/tokenize.sql]

Times, interleaved round by round on the same file and machine:
`lbzip2 -dc -n$(nproc)` (Debian's `lbzip2`: the fastest decompressor, all
cores), `bzip2 -dc` (libbz2, one core) and `wikitok run SQL --input SHARD`
(decompress, parse, tokenize, write Parquet). Prints the best of --runs for
each and wikitok's ratio to each — the issue's yardstick is the ratio to
`lbzip2 -dc -n2` on a 2-core machine.

Make a shard with `python3 ../shared/tools/scale_dump.py /tmp/d100 --mb 100 --shards 1`.
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def timed(command, **kwargs):
    started = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, **kwargs)
    return time.perf_counter() - started


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("shard")
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--sql", default="sql/tokenize.sql")
    parser.add_argument("--wikitok", default=str(ROOT / "target/release/wikitok"))
    args = parser.parse_args()
    if not shutil.which("lbzip2"):
        sys.exit("lbzip2 not found (Debian: apt-get install lbzip2)")
    cores = os.cpu_count() or 1
    shard = str(Path(args.shard).resolve())
    out = Path(tempfile.mkdtemp(prefix="wikitok-bz2-bench-"))
    tools = {
        f"lbzip2 -dc -n{cores}": lambda: timed(["lbzip2", "-dc", f"-n{cores}", shard]),
        "bzip2 -dc": lambda: timed(["bzip2", "-dc", shard]),
        f"wikitok run {args.sql}": lambda: timed(
            [args.wikitok, "run", args.sql, "--input", shard, "--output", str(out), "--overwrite", "-q"], cwd=ROOT
        ),
    }
    best = {name: float("inf") for name in tools}
    for _ in range(args.runs):
        for name, run in tools.items():
            best[name] = min(best[name], run())
    shutil.rmtree(out, ignore_errors=True)
    wikitok = best[f"wikitok run {args.sql}"]
    print(f"{shard}: {Path(shard).stat().st_size / 1e6:.1f} MB compressed; best of {args.runs}, {cores} cores")
    print(f"{'command':<40} {'wall s':>8} {'wikitok ÷ this':>15}")
    for name, seconds in best.items():
        print(f"{name:<40} {seconds:>8.2f} {wikitok / seconds:>15.2f}")


if __name__ == "__main__":
    main()
