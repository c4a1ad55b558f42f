#!/usr/bin/env python3
"""Reads the CSV/TSV and JSON Lines sinks back with DuckDB (read_csv,
read_json), as their users do.

    check_text_sinks.py TSV_DIR JSONL_DIR EXPECTED_ROWS EXPECTED_TOKENS

Both must hold EXPECTED_ROWS rows with distinct page ids; the JSON Lines
n_tokens must sum to EXPECTED_TOKENS; the TSV's list column must parse as
JSON. Exits non-zero on any difference.
"""
import json
import sys

import duckdb


# RFC 4180 quoting (arrow-rs's writer): a cell with quotes is quoted, inner quotes doubled.
TSV_OPTIONS = "delim='\\t', quote='\"', escape='\"', header=true"


def main():
    tsv_dir, json_dir, rows, tokens = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    con = duckdb.connect()
    failures = []
    count, distinct = con.execute(
        f"SELECT count(*), count(DISTINCT page_id) FROM read_csv('{tsv_dir}/*.tsv', {TSV_OPTIONS})"
    ).fetchone()
    if (count, distinct) != (rows, rows):
        failures.append(f"TSV: {count} rows, {distinct} distinct page ids; expected {rows}")
    for (category,) in con.execute(f"SELECT category FROM read_csv('{tsv_dir}/*.tsv', {TSV_OPTIONS}, all_varchar=true)").fetchall():
        if not isinstance(json.loads(category), list):
            failures.append(f"TSV: category {category!r} is not a JSON list")
            break
    count, distinct, total = con.execute(
        f"SELECT count(*), count(DISTINCT page_id), sum(n_tokens) FROM read_json('{json_dir}/*.jsonl')"
    ).fetchone()
    if (count, distinct, total) != (rows, rows, tokens):
        failures.append(f"JSON Lines: {count} rows, {distinct} distinct, {total} tokens; expected {rows}, {tokens}")
    for f in failures:
        print("FAIL", f)
    print(f"checked {rows} rows in TSV and JSON Lines: {len(failures)} failures")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
