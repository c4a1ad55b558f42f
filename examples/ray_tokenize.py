#!/usr/bin/env python3
"""tokenize.sql and vocab.sql on Ray: wikitok reads and tokenizes the dump
split by split (one Ray read task per split); Ray counts the vocabulary and
writes both tables.

    python examples/ray_tokenize.py --input DUMP --output OUT [--sql FILE] [--tokenizer cl100k_base] [--partitions N]

DUMP and OUT may be buckets (s3://, gs://): every Ray worker reads the
dump itself, and Ray's write_parquet writes OUT/tokens/ and OUT/vocab/.
Inside a RayJob (k8s/engines/ray/) this connects to the job's cluster;
elsewhere it starts a local one. Needs `pip install "wikitok[ray]"`.
"""
import argparse

import pyarrow as pa
import pyarrow.compute as pc
import ray

import wikitok.ray


def token_ids(batch):
    """Every token id of a batch of pages, one row each."""
    return pa.table({"token_id": pc.list_flatten(batch["tokens"])})


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--input", required=True)
    parser.add_argument("--output", required=True)
    parser.add_argument("--sql", help="a SQL file whose per-page query gives the token rows "
                        "(default: wikitok's own sql/tokenize.sql; its COPY stands for the rows it writes)")
    parser.add_argument("--tokenizer", default="cl100k_base")
    parser.add_argument("--partitions", type=int, help="divide the dump into at least this many splits")
    args = parser.parse_args()
    tokens = open(args.sql, encoding="utf-8").read() if args.sql else wikitok.library_sql("tokenize")
    ray.init()
    flags = {"tokenizer": args.tokenizer, "partitions": args.partitions}
    pages = wikitok.ray.read_pages(args.input, tokens, **flags)
    pages.write_parquet(f"{args.output}/tokens")
    # A second read of the dump (Ray pipelines are lazy): cheaper than
    # holding every page's tokens in the object store between the two.
    vocab = wikitok.ray.read_pages(args.input, tokens, **flags).map_batches(token_ids, batch_format="pyarrow")
    vocab.groupby("token_id").count().write_parquet(f"{args.output}/vocab")


if __name__ == "__main__":
    main()
