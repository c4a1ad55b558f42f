#!/usr/bin/env python3
"""Checks a tokenize.sql output against the tiktoken reference, reading it the
way downstream users do: DuckDB's read_parquet and pyarrow.

    check_tokens_output.py OUT_DIR/tokens REFERENCE.tsv

Every namespace-0 page of the reference must appear exactly once, with the
reference's token count and the same ids (compared by sha256 of the ids as
little-endian uint32). Exits non-zero, listing what differs, otherwise.
"""
import csv
import hashlib
import struct
import sys

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq


def main():
    out_dir, ref_path = sys.argv[1], sys.argv[2]
    with open(ref_path, newline="", encoding="utf-8") as f:
        ref = [r for r in csv.DictReader(f, delimiter="\t") if r["namespace"] == "0"]
    expected = {int(r["page_id"]): (int(r["n_tokens"]), r["sha256"]) for r in ref}

    pattern = f"{out_dir}/**/*.parquet"
    con = duckdb.connect()
    count, total, distinct = con.execute(
        f"SELECT count(*), sum(n_tokens), count(DISTINCT page_id) FROM read_parquet('{pattern}')"
    ).fetchone()
    failures = []
    if count != len(expected) or distinct != count:
        failures.append(f"duckdb: {count} rows, {distinct} distinct page ids; reference has {len(expected)} content pages")
    if total != sum(n for n, _ in expected.values()):
        failures.append(f"duckdb: sum(n_tokens) = {total}, reference {sum(n for n, _ in expected.values())}")
    type_name = con.execute(f"SELECT typeof(tokens) FROM read_parquet('{pattern}') LIMIT 1").fetchone()[0]
    if type_name != "UINTEGER[]":
        failures.append(f"duckdb sees tokens as {type_name}, expected UINTEGER[]")

    for page_id, n_tokens, tokens in con.execute(f"SELECT page_id, n_tokens, tokens FROM read_parquet('{pattern}')").fetchall():
        if page_id not in expected:
            failures.append(f"page {page_id}: not a content page of the reference")
            continue
        want_n, want_sha = expected[page_id]
        got_sha = hashlib.sha256(struct.pack(f"<{len(tokens)}I", *tokens)).hexdigest()
        if n_tokens != want_n or len(tokens) != want_n or got_sha != want_sha:
            failures.append(f"page {page_id}: {len(tokens)} tokens (n_tokens {n_tokens}), reference {want_n}; ids differ: {got_sha != want_sha}")

    table = pq.read_table(out_dir)
    if table.num_rows != count:
        failures.append(f"pyarrow reads {table.num_rows} rows, duckdb {count}")
    if table.schema.field("tokens").type != pa.list_(pa.uint32()):
        failures.append(f"pyarrow sees tokens as {table.schema.field('tokens').type}")

    for f in failures[:50]:
        print("FAIL", f)
    print(f"checked {count} pages, {total} tokens against {ref_path}: {len(failures)} failures")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
