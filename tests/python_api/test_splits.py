"""wikitok as a building block of an engine: the input's splits, one split's
per-page query, and the tokenizer over Arrow arrays — judged against the
command line (WIKITOK_BINARY) on the same input and flags.

Run by tests/python_api.rs with test_api.py. The engines themselves (Ray,
Spark) are exercised by tests/engines/ (one command: tests/engines/run)."""
import bz2
import pickle
import subprocess
import warnings

import duckdb
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import wikitok
from test_api import BINARY, XML_DUMP, by_page, cli_rows, sample_dump, scratch

# tokenize.sql as it is: its COPY stands for its rows in a split's read, and
# writes one file per split, in split order, on the command line.
TOKENIZE_SQL = wikitok.library_sql("tokenize")
SPLIT_FLAGS = {"partitions": 4, "min_split_size": "256KiB"}
SPLIT_ARGS = ["--partitions", "4", "--min-split-size", "256KiB"]


def ranged_dump(name, compressed):
    """A 3,000-page dump large enough to be read as byte ranges: plain JSON,
    or bzip2 with 100 kB blocks (many blocks per range)."""
    directory = scratch(name)
    path = sample_dump(directory, 3000)
    if compressed:
        packed = path.with_name(path.name + ".bz2")
        packed.write_bytes(bz2.compress(path.read_bytes(), compresslevel=1))
        path.unlink()
    return directory


@pytest.mark.parametrize("compressed", [False, True], ids=["plain", "bzip2"])
def test_splits_are_the_clis_partitions_and_read_split_gives_their_rows(compressed):
    directory = ranged_dump(f"ranged-{compressed}", compressed)
    parts = wikitok.splits(str(directory), **SPLIT_FLAGS)
    assert len(parts) >= 4 and all(part.range for part in parts), parts
    assert [part.index for part in parts] == list(range(len(parts)))
    assert all(part.of == len(parts) and part.family == "cirrussearch" for part in parts)
    # The byte ranges tile the file.
    assert parts[0].range[0] == 0 and parts[-1].range[1] == parts[0].file_size
    assert all(a.range[1] == b.range[0] for a, b in zip(parts, parts[1:]))

    # The command line writes one file per split, named after it, in which
    # that split's rows are in the order it reads them.
    out = scratch(f"ranged-cli-{compressed}")
    subprocess.run(
        [BINARY, "run", "sql/tokenize.sql", "--input", str(directory), "--output", str(out), "-q", *SPLIT_ARGS],
        check=True,
    )
    files = {path.name.removesuffix(".parquet"): path for path in (out / "tokens").glob("*.parquet")}
    assert sorted(files) == sorted(part.label for part in parts)

    pages = 0
    for part in parts:
        # As an engine ships it to a worker.
        shipped = pickle.loads(pickle.dumps(part))
        got = wikitok.read_split(shipped, TOKENIZE_SQL, **SPLIT_FLAGS).read_all()
        expected = pq.read_table(files[part.label])
        assert got.to_pylist() == expected.to_pylist(), part.label
        pages += got.num_rows
    assert pages == 3000


def test_read_split_over_every_split_is_the_query_over_the_input_on_xml():
    query = "SELECT page_id, title, text, category, tokenize(text) AS tokens FROM pages WHERE namespace = 0"
    parts = wikitok.splits(XML_DUMP)
    assert parts and {part.family for part in parts} == {"mediawiki_xml"}
    got = pa.concat_tables(wikitok.read_split(part, query).read_all() for part in parts)
    expected = by_page(cli_rows(query, "--input", XML_DUMP))
    assert expected and by_page(got) == expected
    assert wikitok.split_schema(parts[0], query) == got.schema


def test_a_sample_takes_the_clis_share_of_each_split():
    directory = ranged_dump("sample", compressed=False)
    parts = wikitok.splits(str(directory), max_pages=10, **SPLIT_FLAGS)
    got = pa.concat_tables(
        wikitok.read_split(part, "SELECT page_id FROM pages", max_pages=10, **SPLIT_FLAGS).read_all() for part in parts
    )
    expected = cli_rows("SELECT page_id FROM pages", "--input", str(directory), "--max-pages", "10", *SPLIT_ARGS)
    assert by_page(got) == by_page(expected)
    assert 10 <= got.num_rows <= 10 + len(parts)


def test_queries_across_pages_are_refused_before_reading():
    part = wikitok.splits(XML_DUMP)[0]
    for query, says in [
        ("SELECT namespace, count(*) FROM pages GROUP BY namespace", "aggregate"),
        ("SELECT page_id FROM pages ORDER BY page_id", "ORDER BY"),
        ("SELECT page_id FROM pages LIMIT 5", "LIMIT"),
    ]:
        with pytest.raises(wikitok.WikitokError, match="one split at a time") as raised:
            wikitok.read_split(part, query)
        assert says in str(raised.value)
    with pytest.raises(TypeError, match="input"):
        wikitok.read_split(part, "SELECT title FROM pages", input="elsewhere")
    with pytest.raises(TypeError, match="wikitok.Split"):
        wikitok.read_split({"location": XML_DUMP}, "SELECT title FROM pages")


def test_the_sql_library_is_the_repositorys_and_a_file_that_needs_all_pages_is_refused():
    for name in ("tokenize", "vocab", "megatron"):
        with open(f"sql/{name}.sql", encoding="utf-8") as f:
            assert wikitok.library_sql(name) == f.read()
    with pytest.raises(ValueError, match="no sql/tokenise.sql"):
        wikitok.library_sql("tokenise")
    # A query that opens with a comment, as these files do, is a query, not a flag.
    counted = wikitok.sql("-- pages per namespace\nSELECT count(*) AS n FROM pages", input=XML_DUMP).to_arrow()
    assert counted.to_pylist() == cli_rows("SELECT count(*) AS n FROM pages", "--input", XML_DUMP).to_pylist()
    part = wikitok.splits(XML_DUMP)[0]
    # megatron.sql's COPY shuffles every page (a window): not per split.
    with pytest.raises(wikitok.WikitokError, match="one split at a time"):
        wikitok.split_schema(part, wikitok.library_sql("megatron"))


def test_settings_and_views_may_come_first_nothing_else():
    part = wikitok.splits(XML_DUMP)[0]
    query = (
        "SET datafusion.execution.batch_size = 16; "
        "CREATE VIEW articles AS SELECT page_id, title FROM pages WHERE namespace = 0; "
        "SELECT page_id, title AS name FROM articles UNION ALL SELECT page_id, 'none' AS name FROM pages WHERE 1 = 0"
    )
    got = wikitok.read_split(part, query).read_all()
    expected = cli_rows("SELECT page_id, title AS name FROM pages WHERE namespace = 0", "--input", XML_DUMP)
    assert by_page(got) == by_page(expected)
    out = scratch("split-copy")
    for before in (
        f"COPY (SELECT count(*) AS n FROM pages) TO '{out}/n' STORED AS PARQUET",
        "CREATE TABLE totals AS SELECT count(*) AS n FROM pages",
    ):
        with pytest.raises(wikitok.WikitokError, match="only SET and CREATE VIEW"):
            wikitok.split_schema(part, f"{before}; SELECT title FROM pages")
    assert not any(out.iterdir()), "a statement before a split's query wrote files"


def test_a_relative_path_is_listed_as_an_absolute_one(tmp_path, monkeypatch):
    parts = wikitok.splits(XML_DUMP)
    assert all(part.location.startswith("/") for part in parts)
    monkeypatch.chdir(tmp_path)  # a worker runs elsewhere
    assert wikitok.read_split(parts[0], "SELECT title FROM pages").read_all().num_rows > 0


def test_bad_records_are_counted_and_reported_per_split():
    directory = scratch("bad-split")
    sample_dump(directory, 50, bad_tail=True)
    (part,) = wikitok.splits(str(directory), partitions=1)
    report = {}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        rows = wikitok.read_split(part, "SELECT title FROM pages", report=report).read_all()
    assert rows.num_rows == 50
    assert report == {"pages": 50, "bad_records": 1, "bad_records_by_kind": {"malformed_json": 1}}
    messages = [str(w.message) for w in caught if issubclass(w.category, wikitok.WikitokWarning)]
    assert len(messages) == 1 and part.label in messages[0] and "1 bad records" in messages[0], messages
    # No bad record allowed: the split fails, naming the file.
    with pytest.raises(wikitok.WikitokError, match=part.label.split("-")[0]):
        wikitok.read_split(part, "SELECT title FROM pages", max_bad_records=0).read_all()


def test_a_split_whose_file_changed_is_refused():
    directory = scratch("changed")
    path = sample_dump(directory, 20)
    (part,) = wikitok.splits(str(directory), partitions=1)
    with open(path, "a", encoding="utf-8") as f:
        f.write('{"index": {"_id": "99"}}\n{"title": "Late", "namespace": 0, "text": "x"}\n')
    with pytest.raises(wikitok.WikitokError, match="the input changed"):
        wikitok.read_split(part, "SELECT title FROM pages")


def test_tokenize_gives_the_clis_ids_on_every_string_layout():
    expected = cli_rows("SELECT text, tokenize(text) AS tokens, token_count(text) AS n FROM pages", "--input", XML_DUMP)
    texts = expected["text"]
    ids = wikitok.tokenize(texts)
    assert isinstance(ids, pa.ChunkedArray) and ids.type == pa.list_(pa.uint32())
    assert ids.to_pylist() == expected["tokens"].to_pylist()
    assert wikitok.token_count(texts).to_pylist() == expected["n"].to_pylist()

    plain = texts.combine_chunks()
    for layout in (plain, plain.cast(pa.large_string()), plain.cast(pa.string_view())):
        got = wikitok.tokenize(layout)
        assert isinstance(got, pa.Array) and got.to_pylist() == expected["tokens"].to_pylist()
    with_nulls = pa.array(["Hello world", None, ""])
    assert wikitok.tokenize(with_nulls).to_pylist() == [[9906, 1917], None, []]
    assert wikitok.token_count(with_nulls).to_pylist() == [2, None, 0]
    assert wikitok.tokenize(pa.chunked_array([], type=pa.string())).to_pylist() == []
    with pytest.raises(TypeError, match="strings"):
        wikitok.tokenize(pa.array([1, 2]))


def test_tokenize_with_a_tokenizer_file_and_from_duckdb_and_polars():
    tokenizer = "data/samples/tokenizer/cl100k_base.tokenizer.json"
    expected = cli_rows(
        "SELECT title, tokenize(title) AS tokens, token_count(title) AS n FROM pages",
        "--input", XML_DUMP, "--tokenizer", tokenizer, "--tokenizer-backend", "hf",
    )
    got = wikitok.tokenize(expected["title"], tokenizer=tokenizer, tokenizer_backend="hf")
    assert got.to_pylist() == expected["tokens"].to_pylist()

    con = duckdb.connect()
    con.create_function(
        "wikitok_count", lambda titles: wikitok.token_count(titles), ["VARCHAR"], "BIGINT", type="arrow"
    )
    con.register("pages", expected.select(["title", "n"]))
    assert con.sql("SELECT count(*) FROM pages WHERE wikitok_count(title) = n").fetchall() == [(expected.num_rows,)]

    frame = pl.from_arrow(expected.select(["title", "n"]))
    counts = pl.from_arrow(wikitok.token_count(frame["title"].to_arrow()))
    assert counts.to_list() == frame["n"].to_list()
