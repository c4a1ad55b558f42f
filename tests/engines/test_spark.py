"""wikitok.spark on Spark local[2], judged against the command line."""
import os
import sys

import pyarrow as pa
import pytest
from pyspark.sql import SparkSession
from pyspark.sql import functions as F

import wikitok
import wikitok.spark
from conftest import FLAGS, PAGES_QUERY, by_page, cli_table


@pytest.fixture(scope="module")
def spark():
    # Spark's Python workers run this interpreter (the venv with wikitok).
    os.environ["PYSPARK_PYTHON"] = sys.executable
    session = (
        SparkSession.builder.master("local[2]")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .getOrCreate()
    )
    wikitok.spark.register(session)
    yield session
    session.stop()


def load(spark, dump, query):
    reader = spark.read.format("wikitok").option("input", dump).option("query", query)
    for name, value in FLAGS.items():
        reader = reader.option(name.replace("_", "-"), str(value))
    return reader.load()


def spark_rows(frame):
    return [row.asDict(recursive=True) for row in frame.collect()]


def test_load_is_one_partition_per_split_with_the_clis_rows(spark, dump):
    splits = wikitok.splits(dump, **FLAGS)
    frame = load(spark, dump, PAGES_QUERY)
    assert frame.rdd.getNumPartitions() == len(splits) >= 6
    assert dict(frame.dtypes)["tokens"] == "array<bigint>"
    assert by_page(spark_rows(frame)) == by_page(cli_table(dump, PAGES_QUERY).to_pylist())


def test_group_by_over_exploded_tokens_is_vocab_sql(spark, dump, cli_vocab):
    query = "SELECT tokenize(text) AS tokens FROM pages WHERE namespace = 0 AND redirect_target IS NULL"
    counts = load(spark, dump, query).select(F.explode("tokens").alias("token_id")).groupBy("token_id").count()
    assert {row["token_id"]: row["count"] for row in counts.collect()} == cli_vocab


def test_map_in_arrow_with_wikitok_tokenize_is_the_clis_tokenize(spark, dump):
    texts = load(spark, dump, "SELECT page_id, text FROM pages WHERE namespace = 0")

    def tokenize_batches(batches):
        for batch in batches:
            ids = wikitok.tokenize(batch.column("text")).cast(pa.list_(pa.int64()))
            yield pa.RecordBatch.from_arrays([batch.column("page_id"), ids], names=["page_id", "tokens"])

    frame = texts.mapInArrow(tokenize_batches, "page_id bigint, tokens array<bigint>")
    expected = cli_table(dump, "SELECT page_id, tokenize(text) AS tokens FROM pages WHERE namespace = 0")
    assert by_page(spark_rows(frame)) == by_page(expected.to_pylist())


def test_load_takes_the_input_as_a_path_or_paths_and_a_schema_by_name(spark, dump):
    files = sorted(str(p) for p in __import__("pathlib").Path(dump).glob("*.bz2"))
    query = "SELECT page_id, title FROM pages"
    expected = by_page(cli_table(dump, query).to_pylist())
    one = spark.read.format("wikitok").option("query", query).load(dump)
    several = spark.read.format("wikitok").option("query", query).load(files)
    # A schema of the user's: the columns are matched by name, not position.
    named = spark.read.format("wikitok").option("query", query).schema("title string, page_id bigint").load(dump)
    for frame in (one, several, named):
        assert by_page(spark_rows(frame)) == expected


def test_options_are_the_command_lines_flags(spark, dump):
    with pytest.raises(Exception, match="no_such_flag"):
        spark.read.format("wikitok").option("input", dump).option("no_such_flag", "1").load()
    with pytest.raises(Exception, match="one split at a time"):
        load(spark, dump, "SELECT count(*) FROM pages").collect()
