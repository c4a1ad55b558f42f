"""Shared by the engine tests: a dump read as several byte ranges, and the
command line's answers on it (WIKITOK_BINARY), to judge each engine by."""
import bz2
import json
import os
import shutil
import subprocess
from pathlib import Path

import pyarrow.parquet as pq
import pytest

BINARY = os.environ["WIKITOK_BINARY"]
SCRATCH = Path(os.environ["WIKITOK_SCRATCH"])
ENWIKI = Path("data/samples/cirrus_search_index/20261115/index_name=enwiki_content")
# Flags both sides use: 2 files, each read as 3+ byte ranges, small batches
# (so a read task yields several blocks before it could be killed).
FLAGS = {"partitions": 6, "min_split_size": "128KiB", "batch_size": 64}
PAGES_QUERY = "SELECT page_id, title, namespace, tokenize(text) AS tokens FROM pages WHERE namespace = 0"
TOKENS_QUERY = (
    "SELECT unnest(tokenize(text)) AS token_id FROM pages WHERE namespace = 0 AND redirect_target IS NULL"
)


def cli_flags():
    argv = []
    for name, value in FLAGS.items():
        argv += ["--" + name.replace("_", "-"), str(value)]
    return argv


def scratch(name):
    path = SCRATCH / name
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path


@pytest.fixture(scope="session")
def dump():
    """Two bzip2 CirrusSearch files (100 kB blocks) of 1,500 pages each:
    texts from the enwiki sample, fresh ids."""
    directory = scratch("engine-dump")
    texts = []
    for shard in sorted(ENWIKI.glob("*.json.bz2")):
        lines = bz2.open(shard, "rt", encoding="utf-8").read().splitlines()
        texts += [json.loads(line).get("text") or "" for line in lines[1::2]]
    texts = [t[:3000] for t in texts if t]
    page_id = 0
    for file in range(2):
        lines = []
        for _ in range(1500):
            page_id += 1
            namespace = 0 if page_id % 10 else 14
            document = {"title": f"Page {page_id}", "namespace": namespace, "text": texts[page_id % len(texts)]}
            lines += [json.dumps({"index": {"_id": str(page_id)}}), json.dumps(document)]
        data = ("\n".join(lines) + "\n").encode()
        (directory / f"testwiki_content-20261115-0000{file}.json.bz2").write_bytes(bz2.compress(data, 1))
    return str(directory)


def cli_table(dump, query):
    """The command line's rows of `query` (a COPY to Parquet, read back)."""
    out = scratch("cli-table")
    copy = f"COPY ({query}) TO '{out}/rows' STORED AS PARQUET"
    subprocess.run([BINARY, "sql", copy, "--input", dump, *cli_flags()], check=True, capture_output=True)
    return pq.read_table(out / "rows")


@pytest.fixture(scope="session")
def cli_vocab(dump):
    """vocab.sql's counts: {token_id: n}."""
    out = scratch("cli-vocab")
    subprocess.run(
        [BINARY, "run", "sql/vocab.sql", "--input", dump, "--output", str(out), "-q", *cli_flags()], check=True
    )
    table = pq.read_table(out / "vocab")
    return dict(zip(table["token_id"].to_pylist(), table["n"].to_pylist()))


def by_page(rows):
    return sorted(rows, key=lambda row: row["page_id"])
