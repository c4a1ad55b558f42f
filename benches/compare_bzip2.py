#!/usr/bin/env python3
"""wikitok against the decompression floor, on one bzip2 shard.

    python3 benches/compare_bzip2.py SHARD.json.bz2 [--rounds 3] [--megatron]

Runs, interleaved round by round on the same file and machine (its CPU
model, core count and AVX-512 support printed first, since decoders rank
differently on different CPUs):

- on one core (`taskset -c 0`): `lbzip2 -dc -n1`, `bzip2 -dc` (libbz2)
  and wikitok's decoder alone (`wikitok sql "SELECT count(*) FROM pages"`:
  decode and framing);
- on every core: the same count, `lbzip2 -dc -nCORES` (Debian's `lbzip2`,
  the fastest decompressor), `wikitok run sql/tokenize.sql` (decode, parse,
  tokenize, write Parquet) and, with --megatron, `sql/megatron.sql`.

Prints each command's median wall time and the median over rounds of each
round's ratio (times drift between rounds on a shared machine; a ratio
taken within one round drifts less): the decoder's time ÷ lbzip2's and ÷
libbz2's on one core, its speed-up from one core to all, tokenize.sql ÷ `lbzip2 -dc
-nCORES`, megatron.sql ÷ tokenize.sql.

Make a shard with `python3 ../shared/tools/scale_dump.py /tmp/d100 --mb 100 --shards 1 --seed N`.
"""
import argparse
import os
import platform
import shutil
import statistics
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


def cpu():
    """The CPU as /proc/cpuinfo names it: model name, family/model, AVX-512."""
    fields = {}
    try:
        for line in open("/proc/cpuinfo"):
            key, _, value = line.partition(":")
            fields.setdefault(key.strip(), value.strip())
    except OSError:
        return platform.processor() or platform.machine()
    avx512 = "avx512f" in fields.get("flags", "").split()
    return (f"{fields.get('model name', '?')} (vendor {fields.get('vendor_id', '?')}, family "
            f"{fields.get('cpu family', '?')} model {fields.get('model', '?')}, "
            f"{'with' if avx512 else 'without'} AVX-512)")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("shard")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--megatron", action="store_true", help="also time sql/megatron.sql")
    parser.add_argument("--wikitok", default=str(ROOT / "target/release/wikitok"))
    args = parser.parse_args()
    for tool in ("lbzip2", "taskset"):
        if not shutil.which(tool):
            sys.exit(f"{tool} not found (Debian: apt-get install lbzip2 util-linux)")
    cores = os.cpu_count() or 1
    shard = str(Path(args.shard).resolve())
    out = Path(tempfile.mkdtemp(prefix="wikitok-bz2-bench-"))
    count = [args.wikitok, "sql", "SELECT count(*) FROM pages", "--input", shard]

    def run_sql(name):
        return timed([args.wikitok, "run", f"sql/{name}.sql", "--input", shard, "--output", str(out / name),
                      "--overwrite", "-q"], cwd=ROOT)

    commands = {
        "lbzip2 -dc -n1 (1 core)": lambda: timed(["taskset", "-c", "0", "lbzip2", "-dc", "-n1", shard]),
        "bzip2 -dc (libbz2, 1 core)": lambda: timed(["taskset", "-c", "0", "bzip2", "-dc", shard]),
        "wikitok count(*) (1 core)": lambda: timed(["taskset", "-c", "0", *count]),
        f"wikitok count(*) ({cores} cores)": lambda: timed(count),
        f"lbzip2 -dc -n{cores}": lambda: timed(["lbzip2", "-dc", f"-n{cores}", shard]),
        "wikitok run sql/tokenize.sql": lambda: run_sql("tokenize"),
    }
    if args.megatron:
        commands["wikitok run sql/megatron.sql"] = lambda: run_sql("megatron")
    times = {name: [] for name in commands}
    for _ in range(args.rounds):
        for name, run in commands.items():
            times[name].append(run())
    shutil.rmtree(out, ignore_errors=True)

    def ratios(top, bottom):
        return statistics.median(a / b for a, b in zip(times[top], times[bottom]))

    print(f"CPU: {cpu()}, {cores} cores")
    print(f"{shard}: {Path(shard).stat().st_size / 1e6:.1f} MB compressed; medians of {args.rounds} interleaved rounds")
    print(f"{'command':<36} {'wall s':>8}   every round")
    for name, seconds in times.items():
        print(f"{name:<36} {statistics.median(seconds):>8.2f}   {' '.join(f'{s:.2f}' for s in seconds)}")
    print("median of the rounds' ratios:")
    print(f"  decoder ÷ lbzip2 -n1, one core:      {ratios('wikitok count(*) (1 core)', 'lbzip2 -dc -n1 (1 core)'):.2f}")
    print(f"  decoder ÷ libbz2, one core:          {ratios('wikitok count(*) (1 core)', 'bzip2 -dc (libbz2, 1 core)'):.2f}")
    print(f"  decoder speed-up, 1 → {cores} cores:        "
          f"{ratios('wikitok count(*) (1 core)', f'wikitok count(*) ({cores} cores)'):.2f}")
    print(f"  tokenize.sql ÷ lbzip2 -dc -n{cores}:        "
          f"{ratios('wikitok run sql/tokenize.sql', f'lbzip2 -dc -n{cores}'):.2f}")
    if args.megatron:
        print(f"  megatron.sql ÷ tokenize.sql:         "
              f"{ratios('wikitok run sql/megatron.sql', 'wikitok run sql/tokenize.sql'):.2f}")


if __name__ == "__main__":
    main()
