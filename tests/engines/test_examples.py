"""examples/ray_tokenize.py and examples/spark_tokenize.py, run as a user
runs them (a process of their own, a local engine), against the command
line's tokenize.sql and vocab.sql on the same dump."""
import os
import subprocess
import sys

import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest

from conftest import BINARY, FLAGS, cli_flags, scratch


@pytest.fixture(scope="module")
def cli_output(dump):
    out = scratch("examples-cli")
    for sql in ("sql/tokenize.sql", "sql/vocab.sql"):
        subprocess.run([BINARY, "run", sql, "--input", dump, "--output", str(out), "-q", *cli_flags()], check=True)
    return out


@pytest.mark.parametrize("example", ["ray_tokenize.py", "spark_tokenize.py"])
def test_example_writes_the_clis_tokens_and_vocabulary(example, dump, cli_output):
    out = scratch(f"example-{example}")
    env = {**os.environ, "PYSPARK_PYTHON": sys.executable, "RAY_ADDRESS": ""}
    subprocess.run(
        [sys.executable, f"examples/{example}", "--input", dump, "--output", str(out),
         "--partitions", str(FLAGS["partitions"])],
        check=True, env=env, timeout=600,
    )
    tokens = ds.dataset(out / "tokens", format="parquet").to_table()
    expected = ds.dataset(cli_output / "tokens", format="parquet").to_table()
    key = lambda row: row["page_id"]  # noqa: E731
    got_rows = sorted(tokens.select(["page_id", "n_tokens", "tokens"]).to_pylist(), key=key)
    assert got_rows == sorted(expected.select(["page_id", "n_tokens", "tokens"]).to_pylist(), key=key)

    vocab = ds.dataset(out / "vocab", format="parquet").to_table()
    count_column = "count()" if "count()" in vocab.column_names else "count"
    got = dict(zip(vocab["token_id"].to_pylist(), vocab[count_column].to_pylist()))
    cli_vocab = pq.read_table(cli_output / "vocab")
    assert got == dict(zip(cli_vocab["token_id"].to_pylist(), cli_vocab["n"].to_pylist()))
