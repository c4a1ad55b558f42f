"""Stress run of the scale-out: many repetitions of 2-4 concurrent shard
processes of every aggregating SQL file, with random delays injected where
shards race (claims, heartbeats, commits: WIKITOK_TEST_SHARD_DELAY_MS), each
compared with one unsharded run of the same file. Prints one line per run
and a total; exits 1 on any difference.

    python3 benches/stress_scale_out.py --runs 60 --delay-ms 40 --input data/samples \
        [--input tests/fixtures/xml/enwiki-20261101-pages-articles-multistream.xml.bz2]

Needs pyarrow. Comparison: Parquet files by their rows (sorted; the files
of a hash-partitioned COPY, part-NNNNN, as one set), every other file by its
bytes (data-path.txt with the output path replaced).
"""

import argparse
import hashlib
import os
import random
import shutil
import subprocess
import sys
import tempfile

import pyarrow.parquet as pq

AGGREGATING = ["token_counts", "vocab", "redirects", "megatron", "packed", "categories", "links", "pages"]
DEFINES = ["-D", "seq_len=512", "-D", "seed=7", "-D", "valid_per_mille=50"]


def contents(output):
    found = {}
    for dirpath, dirnames, files in os.walk(output):
        dirnames[:] = [d for d in dirnames if not d.startswith(("_", "."))]
        for name in files:
            if name.startswith(("_", ".")):
                continue
            path = os.path.join(dirpath, name)
            relative = os.path.relpath(path, output)
            key = relative
            if name.startswith("part-") and name[5:6].isdigit():
                key = os.path.join(os.path.dirname(relative), "part-*")
            if name.endswith(".parquet"):
                rows = [repr(row) for row in pq.read_table(path).to_pylist()]
            else:
                data = open(path, "rb").read()
                if name.endswith(".txt"):
                    data = data.replace(output.encode(), b"OUTPUT")
                rows = [hashlib.sha256(data).hexdigest()]
            found.setdefault(key, []).extend(rows)
    return {key: sorted(rows) for key, rows in found.items()}


def run(binary, sql, inputs, output, extra, env):
    args = [binary, "run", sql, "--output", output, "-q", *DEFINES, *extra]
    for item in inputs:
        args += ["--input", item]
    return subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", default="target/release/wikitok")
    parser.add_argument("--input", action="append", required=True)
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--delay-ms", type=int, default=40)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    scratch = tempfile.mkdtemp(prefix="wikitok-stress-")
    references = {}
    failures = 0
    for number in range(1, args.runs + 1):
        name = AGGREGATING[(number - 1) % len(AGGREGATING)]
        inputs = args.input[(number - 1) // len(AGGREGATING) % len(args.input) :][:1]
        sql = f"sql/{name}.sql"
        reference_key = (name, inputs[0])
        if reference_key not in references:
            single = os.path.join(scratch, f"single-{len(references)}")
            process = run(args.binary, sql, inputs, single, [], dict(os.environ))
            _, err = process.communicate()
            if process.returncode != 0:
                sys.exit(f"{sql} on {inputs[0]}: the single run failed:\n{err.decode()}")
            references[reference_key] = contents(single)
        shards = rng.randint(2, 4)
        output = os.path.join(scratch, f"run-{number}")
        env = dict(os.environ, WIKITOK_TEST_SHARD_DELAY_MS=str(args.delay_ms))
        processes = [
            run(args.binary, sql, inputs, output, ["--shard", f"{i}/{shards}"], env) for i in range(shards)
        ]
        errors = [p.communicate()[1].decode() for p in processes]
        failed = [e for p, e in zip(processes, errors) if p.returncode != 0]
        same = not failed and contents(output) == references[reference_key]
        complete = os.path.exists(os.path.join(output, "_SUCCESS"))
        verdict = "same" if same and complete else "DIFFERENT"
        if verdict != "same":
            failures += 1
            if failed:
                print(failed[0][-2000:], file=sys.stderr)
        print(f"run {number}: {sql} on {os.path.basename(inputs[0])}, {shards} shards: {verdict}", flush=True)
        shutil.rmtree(output, ignore_errors=True)
    print(f"{args.runs} runs, {failures} differing results (delays up to {args.delay_ms} ms)")
    shutil.rmtree(scratch, ignore_errors=True)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
