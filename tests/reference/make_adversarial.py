#!/usr/bin/env python3
"""Generates an adversarial CirrusSearch dump and its tiktoken reference.

The dump (current layout, 3 bz2 shards + _SUCCESS) holds text that stresses a
byte-level BPE pipeline: whitespace runs, digit runs, CJK without spaces,
emoji and ZWJ sequences, combining marks, RTL scripts, literal special-token
text, NUL and line/paragraph separators; empty, null and missing text;
non-content namespaces; both action-line forms; and one ~3 MB page.

    pip install tiktoken==0.14.0
    python3 tests/reference/make_adversarial.py tests/reference/adversarial \
        ../shared/data/tokenizers/cl100k_base.tiktoken
    python3 tests/reference/make_reference.py tests/reference/adversarial \
        ../shared/data/tokenizers/cl100k_base.tiktoken > tests/reference/adversarial_cl100k.tsv

Deterministic (seeded).
"""
import bz2
import json
import os
import random
import sys

PIECES = [
    " ", "  ", "   ", "\n", "\n\n", "\r\n", "\t", " \t \n ", "a", "Hello", "world", "'s", "'S", "'ll", "'VE",
    "0", "42", "123456789", "3.14159", "１２３", "日本語のテキスト", "中文文本没有空格", "한국어", "😀", "👍🏽",
    "👨\u200d👩\u200d👧\u200d👦", "🏳️\u200d🌈", "e\u0301", "\u0300\u0301\u0302", "مرحبا بالعالم", "שלום עולם",
    "\u200f", "Ж", "Здравей, свят", "ß", "\u200b", "\u00a0", "<|endoftext|>", "<|fim_prefix|>", "...", "!!!",
    "—", "\x00", "\u2028", "\u2029", " \u3000 ", "ǅ", "ﬁ", "İ", "ﷺ", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢", "\\", "\"quoted\"", "{{template}}",
]


def text(rnd, n):
    return "".join(rnd.choice(PIECES) for _ in range(n))


def main():
    out = sys.argv[1]
    rnd = random.Random(20261115)
    shard_dir = os.path.join(out, "index_name=advwiki_content")
    os.makedirs(shard_dir, exist_ok=True)
    pages = []
    page_id = 1
    for i in range(240):
        doc = {"wiki": "advwiki", "namespace": 0, "title": f"Page {i}", "text": text(rnd, rnd.randint(1, 40))}
        pages.append((page_id, doc))
        page_id += 1
    pages.append((page_id, {"wiki": "advwiki", "namespace": 0, "title": "Empty", "text": ""})); page_id += 1
    pages.append((page_id, {"wiki": "advwiki", "namespace": 0, "title": "Null", "text": None})); page_id += 1
    pages.append((page_id, {"wiki": "advwiki", "namespace": 0, "title": "Missing"})); page_id += 1
    pages.append((page_id, {"wiki": "advwiki", "namespace": 0, "title": "Whitespace", "text": " " * 5000 + "\n" * 300})); page_id += 1
    pages.append((page_id, {"wiki": "advwiki", "namespace": 0, "title": "Digits", "text": "7" * 10001})); page_id += 1
    for ns in (1, 4, 14, 118):
        pages.append((page_id, {"wiki": "advwiki", "namespace": ns, "title": f"NS {ns}", "text": text(rnd, 20)})); page_id += 1
    big = []
    size = 0
    while size < 3_000_000:
        t = text(rnd, 200)
        big.append(t)
        size += len(t.encode("utf-8"))
    pages.append((page_id, {"wiki": "advwiki", "namespace": 0, "title": "Huge", "text": "".join(big), "defaultsort": False})); page_id += 1
    rnd.shuffle(pages)
    shards = [bz2.open(os.path.join(shard_dir, f"advwiki_content-20261115-{i:05d}.json.bz2"), "wt", encoding="utf-8") for i in range(3)]
    for n, (pid, doc) in enumerate(pages):
        f = shards[n % 3]
        action = {"index": {"_type": "page", "_id": str(pid)}} if n % 2 else {"index": {"_id": pid}}
        f.write(json.dumps(action) + "\n")
        f.write(json.dumps(doc, ensure_ascii=bool(n % 2)) + "\n")
    for f in shards:
        f.close()
    open(os.path.join(shard_dir, "_SUCCESS"), "w").close()


if __name__ == "__main__":
    main()
