"""The Python package against the cargo-built binary (WIKITOK_BINARY) and
independent readers: DuckDB, polars, pyarrow, HF datasets.

Run by tests/python_api.rs from the repository root, in a fresh venv where
`pip install .` put the package and its `wikitok` console script."""
import bz2
import json
import os
import pickle
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import wikitok

BINARY = os.environ["WIKITOK_BINARY"]
SCRATCH = Path(os.environ["WIKITOK_SCRATCH"])
CONSOLE_SCRIPT = str(Path(sys.executable).parent / "wikitok")
XML_DUMP = "tests/fixtures/xml/enwiki-20261101-pages-articles-multistream.xml.bz2"
QUERY = "SELECT page_id, title, token_count(text) AS n FROM pages WHERE namespace = 0"
ENWIKI = Path("data/samples/cirrus_search_index/20261115/index_name=enwiki_content")


def scratch(name):
    path = SCRATCH / name
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path


def cli_rows(query, *flags):
    """The rows the binary's `wikitok sql` gives for `query`, written as
    Parquet by a COPY so they can be compared exactly."""
    out = scratch("cli-rows")
    copy = f"COPY ({query}) TO '{out}/rows' STORED AS PARQUET"
    subprocess.run([BINARY, "sql", copy, *flags], check=True, capture_output=True)
    return pq.read_table(out / "rows")


def by_page(table):
    return sorted(table.to_pylist(), key=lambda row: row["page_id"])


def sample_dump(directory, pages, bad_tail=False):
    """A plain CirrusSearch dump of `pages` content pages of 2,500
    characters, texts from the enwiki sample, fresh ids; `bad_tail` appends
    a line that is not JSON."""
    texts = []
    for shard in sorted(ENWIKI.glob("*.json.bz2")):
        lines = bz2.open(shard, "rt", encoding="utf-8").read().splitlines()
        texts += [json.loads(line).get("text") or "" for line in lines[1::2]]
    texts = [t[:2500] for t in texts if t]
    path = directory / "testwiki_content-20261115-00000.json"
    with open(path, "w", encoding="utf-8") as f:
        for page_id in range(1, pages + 1):
            document = {"title": f"Page {page_id}", "namespace": 0, "text": texts[page_id % len(texts)]}
            f.write(json.dumps({"index": {"_id": str(page_id)}}) + "\n")
            f.write(json.dumps(document) + "\n")
        if bad_tail:
            f.write("this is not JSON\n")
    return path


@pytest.fixture(scope="module")
def long_dump():
    """A dump that cannot be finished before it is interrupted, however fast
    the machine: served over HTTP by tests/python/fault_server.py, which
    stops every body after 200 kB for two minutes. Yields its URL."""
    directory = scratch("long-dump")
    name = sample_dump(directory, 2000).name
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "tests/python/fault_server.py", "--port", str(port), "--directory", str(directory),
         "--stall-every", "1", "--cut-after", "200000", "--stall-seconds", "120", "--lifetime", "300"],
    )
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            assert time.monotonic() < deadline, "the fault server did not start"
            time.sleep(0.1)
    yield f"http://127.0.0.1:{port}/{name}"
    server.kill()
    server.wait()


def test_console_script_is_the_command_line():
    for args in (["sql", "SELECT count(*) AS pages FROM pages WHERE namespace = 0"], ["schema"]):
        ours = subprocess.run([CONSOLE_SCRIPT, *args], capture_output=True, text=True)
        binary = subprocess.run([BINARY, *args], capture_output=True, text=True)
        assert ours.returncode == binary.returncode == 0, ours.stderr
        assert ours.stdout == binary.stdout
    bad = subprocess.run([CONSOLE_SCRIPT, "run", "sql/tokenize.sql", "--shard", "5/3"], capture_output=True, text=True)
    assert bad.returncode == 2, bad.stderr
    assert "5/3" in bad.stderr


def test_sql_feeds_duckdb_twice_polars_and_pyarrow_with_the_clis_rows():
    q = wikitok.sql(QUERY, input=XML_DUMP)
    expected = by_page(cli_rows(QUERY, "--input", XML_DUMP))
    assert expected, "the XML fixture has content pages"

    summary = "SELECT count(*) AS pages, sum(n) AS tokens FROM q"
    first = duckdb.sql(summary).fetchall()
    second = duckdb.sql(summary).fetchall()  # DuckDB reads the relation again
    assert first == second == [(len(expected), sum(row["n"] or 0 for row in expected))]
    assert by_page(duckdb.sql("SELECT * FROM q").arrow().read_all()) == expected

    assert sorted(pl.DataFrame(q).to_dicts(), key=lambda row: row["page_id"]) == expected
    assert by_page(pa.RecordBatchReader.from_stream(q).read_all()) == expected
    assert by_page(q.to_arrow()) == expected


def test_limit_stops_reading_early():
    directory = scratch("limit")
    sample_dump(directory, 3000, bad_tail=True)
    # The whole file fails (its last line is bad, and no bad record is allowed) ...
    with pytest.raises(wikitok.WikitokError, match="bad record"):
        wikitok.sql("SELECT title FROM pages", input=str(directory), max_bad_records=0, partitions=1).to_arrow()
    # ... LIMIT 3 never reaches it.
    rows = wikitok.sql(
        "SELECT title FROM pages LIMIT 3", input=str(directory), max_bad_records=0, partitions=1, quiet=True
    )
    assert len(rows.to_arrow()) == 3


def test_run_writes_what_the_cli_writes_and_returns_the_summary():
    ours, theirs = scratch("run-python"), scratch("run-cli")
    summary = wikitok.run("sql/tokenize.sql", input=XML_DUMP, output=str(ours))
    subprocess.run([BINARY, "run", "sql/tokenize.sql", "--input", XML_DUMP, "--output", str(theirs), "-q"], check=True)
    files = sorted(p.name for p in (theirs / "tokens").glob("*.parquet"))
    assert files and files == sorted(p.name for p in (ours / "tokens").glob("*.parquet"))
    for name in files:
        assert pq.read_table(ours / "tokens" / name).equals(pq.read_table(theirs / "tokens" / name))
    assert summary == json.loads((ours / "_SUCCESS").read_text())
    assert summary["pages_written"] == sum(pq.read_metadata(ours / "tokens" / n).num_rows for n in files)


def test_rows_feeds_hf_datasets():
    import datasets

    assert pickle.loads(pickle.dumps(wikitok.rows)) is wikitok.rows
    dataset = datasets.IterableDataset.from_generator(
        wikitok.rows, gen_kwargs={"query": QUERY, "input": XML_DUMP}
    )
    got = sorted(dataset, key=lambda row: row["page_id"])
    assert got == by_page(cli_rows(QUERY, "--input", XML_DUMP))


def test_errors_carry_the_command_lines_message():
    bad = "SELECT no_such_column FROM pages"
    cli = subprocess.run([BINARY, "sql", bad], capture_output=True, text=True)
    assert cli.returncode == 1
    # The CLI's message: from its "error: " line to the end (it spans lines).
    stderr = "\n" + cli.stderr  # the error may be its first line
    message = stderr[stderr.rindex("\nerror: ") + len("\nerror: ") :].strip()
    with pytest.raises(wikitok.WikitokError) as raised:
        wikitok.sql(bad).to_arrow()
    assert str(raised.value) == message
    with pytest.raises(TypeError, match="no_such_flag"):
        wikitok.sql(QUERY, no_such_flag=1)
    # Keyword arguments are the flags: a bad value is the command line's usage error.
    with pytest.raises(wikitok.WikitokError, match="5/3"):
        wikitok.sql(QUERY, shard="5/3").to_arrow()


def test_ctrl_c_interrupts_a_run_and_leaves_no_partial_files(long_dump):
    out = scratch("interrupt")
    script = (
        "import sys, wikitok\n"
        "try:\n"
        f"    wikitok.run('sql/tokenize.sql', input={long_dump!r}, output={str(out)!r}, partitions=2)\n"
        "except KeyboardInterrupt:\n"
        "    sys.exit(42)\n"
        "sys.exit(0)\n"
    )
    process = subprocess.Popen([sys.executable, "-c", script])
    time.sleep(1.5)
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=30) == 42, "Ctrl-C did not interrupt wikitok.run"
    assert not list(out.rglob("*.inprogress")), list(out.rglob("*"))
    assert not (out / "_SUCCESS").exists()


def test_sigterm_stops_the_console_script_like_the_binary(long_dump):
    out = scratch("sigterm")
    process = subprocess.Popen(
        [CONSOLE_SCRIPT, "run", "sql/tokenize.sql", "--input", long_dump, "--output", str(out), "-q"],
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(1.5)
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=30)
    assert process.returncode == 143, stderr
    assert "interrupted by SIGTERM" in stderr
    assert not list(out.rglob("*.inprogress"))
