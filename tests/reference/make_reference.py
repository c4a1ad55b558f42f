#!/usr/bin/env python3
"""Independent reference for the integration tests: tiktoken's cl100k_base ids
for every page of a CirrusSearch dump, read with Python's own bz2/gzip/json.

Shares no code with wikitok: dump parsing is Python's json module, tokenizing
is tiktoken (OpenAI's implementation, not Hugging Face's). Writes one TSV row
per page:

    page_id  wiki  namespace  n_tokens  sha256(ids as little-endian uint32)

A page with null or missing text is tokenized as "".

The committed tests/reference/samples_cl100k.tsv was made with

    pip install tiktoken==0.14.0
    python3 tests/reference/make_reference.py data/samples \
        ../shared/data/tokenizers/cl100k_base.tiktoken > tests/reference/samples_cl100k.tsv

(the rank file is tiktoken's own cl100k_base.tiktoken; its hash is checked).
"""
import bz2
import gzip
import hashlib
import json
import os
import struct
import sys

import tiktoken
import tiktoken.load
import tiktoken_ext.openai_public as openai_public


def cl100k(rank_file):
    """tiktoken's cl100k_base spec (pattern, specials), ranks from a local file."""
    real_loader = tiktoken.load.load_tiktoken_bpe
    openai_public.load_tiktoken_bpe = lambda _url, expected_hash=None: real_loader(rank_file, expected_hash)
    return tiktoken.Encoding(**openai_public.cl100k_base())


def dump_files(root):
    if os.path.isfile(root):
        return [root]
    found = []
    for dirpath, _dirs, files in os.walk(root):
        for f in files:
            if f.endswith((".json", ".json.gz", ".json.bz2")) and not f.endswith("tokenizer.json") and not f.startswith(("_", ".")):
                found.append(os.path.join(dirpath, f))
    return sorted(found)


def pages(path):
    opener = bz2.open if path.endswith(".bz2") else gzip.open if path.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as f:
        page_id = None
        for line in f:
            if not line.strip():
                continue
            obj = json.loads(line)
            if "index" in obj and len(obj) == 1:
                page_id = int(obj["index"]["_id"])
                continue
            yield page_id, obj
            page_id = None


def main():
    root, rank_file = sys.argv[1], sys.argv[2]
    enc = cl100k(rank_file)
    out = sys.stdout
    out.write("page_id\twiki\tnamespace\tn_tokens\tsha256\n")
    for path in dump_files(root):
        for page_id, doc in pages(path):
            # Pages without text count as empty text: tokenize.sql gives them [].
            text = doc.get("text") or ""
            ids = enc.encode_ordinary(text)
            digest = hashlib.sha256(struct.pack(f"<{len(ids)}I", *ids)).hexdigest()
            out.write(f"{page_id}\t{doc.get('wiki')}\t{doc.get('namespace')}\t{len(ids)}\t{digest}\n")


if __name__ == "__main__":
    main()
