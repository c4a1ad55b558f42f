#!/usr/bin/env python3
"""The Python peer: what users write today instead of wikitok.

Reads a CirrusSearch dump (bz2/gz/plain, one file or a directory) with the
standard library, tokenizes content pages with Hugging Face `tokenizers`
(`encode_batch`, Rust, all cores) and writes Parquet with pyarrow — the same
columns as sql/tokenize.sql.

    python_peer.py DUMP OUT_DIR TOKENIZER_JSON [--batch 1024]

Prints one JSON line: pages, tokens, text bytes, and seconds spent reading,
tokenizing (encode_batch alone) and writing.
"""
import argparse
import bz2
import gzip
import json
import os
import time

import pyarrow as pa
import pyarrow.parquet as pq
from tokenizers import Tokenizer


def files(root):
    if os.path.isfile(root):
        return [root]
    return sorted(os.path.join(d, f) for d, _, fs in os.walk(root) for f in fs
                  if f.endswith((".json", ".json.gz", ".json.bz2")) and not f.startswith(("_", ".")))


def pages(path):
    opener = bz2.open if path.endswith(".bz2") else gzip.open if path.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as f:
        page_id = None
        for line in f:
            obj = json.loads(line)
            if "index" in obj and len(obj) == 1:
                page_id = int(obj["index"]["_id"])
            else:
                yield page_id, obj


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dump")
    ap.add_argument("out")
    ap.add_argument("tokenizer")
    ap.add_argument("--batch", type=int, default=1024)
    a = ap.parse_args()
    tok = Tokenizer.from_file(a.tokenizer)
    tok.no_truncation()
    tok.no_padding()
    os.makedirs(a.out, exist_ok=True)
    t_read = t_tok = t_write = 0.0
    n_pages = n_tokens = n_bytes = 0
    schema = pa.schema([("page_id", pa.int64()), ("wiki", pa.string()), ("title", pa.string()),
                        ("n_tokens", pa.int64()), ("tokens", pa.list_(pa.uint32()))])
    for i, path in enumerate(files(a.dump)):
        writer = pq.ParquetWriter(os.path.join(a.out, f"part-{i:05d}.parquet"), schema, compression="zstd")
        it = pages(path)
        done = False
        while not done:
            t0 = time.perf_counter()
            batch = []
            for page_id, doc in it:
                if doc.get("namespace") == 0:
                    batch.append((page_id, doc.get("wiki"), doc.get("title"), doc.get("text") or ""))
                    if len(batch) == a.batch:
                        break
            else:
                done = True
            t1 = time.perf_counter()
            if not batch:
                break
            encodings = tok.encode_batch([b[3] for b in batch], add_special_tokens=False)
            ids = [e.ids for e in encodings]
            t2 = time.perf_counter()
            table = pa.table({
                "page_id": [b[0] for b in batch], "wiki": [b[1] for b in batch], "title": [b[2] for b in batch],
                "n_tokens": [len(x) for x in ids], "tokens": pa.array(ids, type=pa.list_(pa.uint32())),
            }, schema=schema)
            writer.write_table(table)
            t3 = time.perf_counter()
            t_read += t1 - t0
            t_tok += t2 - t1
            t_write += t3 - t2
            n_pages += len(batch)
            n_tokens += sum(len(x) for x in ids)
            n_bytes += sum(len(b[3].encode("utf-8")) for b in batch)
        writer.close()
    print(json.dumps({"pages": n_pages, "tokens": n_tokens, "text_bytes": n_bytes,
                      "read_s": t_read, "tokenize_s": t_tok, "write_s": t_write}))


if __name__ == "__main__":
    main()
