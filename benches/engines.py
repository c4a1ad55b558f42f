#!/usr/bin/env python3
"""wikitok inside Ray and Spark against the command line, on one dump.

    VENV/bin/python benches/engines.py DUMP [--runs 3] [--cores 2]

VENV is tests/engines/'s venv (`tests/engines/run` makes it:
target/engines-venv), which has ray, pyspark and wikitok. Each run writes
the same per-page token table to Parquet:

- cli:   `wikitok sql "COPY (QUERY) TO ... STORED AS PARQUET"` (target/release/wikitok);
- ray:   `wikitok.ray.read_pages(DUMP, QUERY).write_parquet(...)` on a local Ray with --cores CPUs;
- spark: `spark.read.format("wikitok")...load().write.parquet(...)` on Spark local[--cores].

The engines start once (their start-up is printed apart) and each timed run
is the job alone. Printed: the CPU model, median wall time per side, pages
per second per core, and each engine's time as a multiple of the CLI's.
Every side's row count is checked to be the CLI's.
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
BINARY = os.path.join(REPO, "target", "release", "wikitok")
QUERY = (
    "SELECT page_id, wiki, title, tokenize(coalesce(text, '')) AS tokens "
    "FROM pages WHERE namespace = 0 AND redirect_target IS NULL"
)


def cpu_model():
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return "unknown"


def rows_in(directory):
    import pyarrow.dataset as ds

    return ds.dataset(directory, format="parquet").count_rows()


def timed(job):
    started = time.perf_counter()
    job()
    return time.perf_counter() - started


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("dump")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--engines", default="cli,ray,spark")
    args = parser.parse_args()
    engines = args.engines.split(",")
    scratch = tempfile.mkdtemp(prefix="wikitok-engines-")
    flags = {"partitions": args.cores}

    def fresh(name):
        path = os.path.join(scratch, name)
        shutil.rmtree(path, ignore_errors=True)
        return path

    def cli():
        out = fresh("cli")
        copy = f"COPY ({QUERY}) TO '{out}' STORED AS PARQUET"
        subprocess.run([BINARY, "sql", copy, "--input", args.dump, "--partitions", str(args.cores)], check=True)
        return out

    jobs = {"cli": cli}
    startup = {}
    if "ray" in engines:
        import ray

        import wikitok.ray

        startup["ray"] = timed(
            lambda: ray.init(num_cpus=args.cores, include_dashboard=False, log_to_driver=False, configure_logging=False)
        )

        def ray_job():
            out = fresh("ray")
            wikitok.ray.read_pages(args.dump, QUERY, **flags).write_parquet(out)
            return out

        jobs["ray"] = ray_job
    if "spark" in engines:
        from pyspark.sql import SparkSession

        import wikitok.spark

        os.environ["PYSPARK_PYTHON"] = sys.executable
        holder = {}

        def start_spark():
            holder["spark"] = (
                SparkSession.builder.master(f"local[{args.cores}]")
                .config("spark.ui.enabled", "false")
                .config("spark.driver.memory", "4g")
                .getOrCreate()
            )
            wikitok.spark.register(holder["spark"])

        startup["spark"] = timed(start_spark)

        def spark_job():
            out = fresh("spark")
            frame = (
                holder["spark"].read.format("wikitok").option("input", args.dump).option("query", QUERY)
                .option("partitions", str(args.cores)).load()
            )
            frame.write.parquet(out)
            return out

        jobs["spark"] = spark_job

    times = {name: [] for name in jobs}
    outputs = {}
    for run in range(args.runs):
        for name, job in jobs.items():  # interleaved: each run measures every side once
            started = time.perf_counter()
            outputs[name] = job()
            times[name].append(time.perf_counter() - started)
            print(f"run {run + 1}: {name} {times[name][-1]:.2f}s", file=sys.stderr)

    pages = rows_in(outputs["cli"])
    print(f"CPU: {cpu_model()}, {os.cpu_count()} cores; {args.cores} used by each side")
    print(f"dump: {args.dump} ({pages} pages written); median of {args.runs} interleaved runs")
    cli_median = statistics.median(times["cli"])
    for name, samples in times.items():
        median = statistics.median(samples)
        got = rows_in(outputs[name])
        assert got == pages, f"{name} wrote {got} rows, the CLI {pages}"
        start = f", start-up {startup[name]:.1f}s apart" if name in startup else ""
        print(
            f"{name:6s} {median:7.2f}s  {pages / median / args.cores:8.0f} pages/s per core  "
            f"{median / cli_median:5.2f}x the CLI's time{start}"
        )
    shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
