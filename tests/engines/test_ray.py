"""wikitok.ray on a local Ray (2 CPUs), judged against the command line."""
import os
import signal

import pyarrow as pa
import pytest
import ray

import wikitok
import wikitok.ray
from conftest import FLAGS, PAGES_QUERY, TOKENS_QUERY, by_page, cli_table, scratch


@pytest.fixture(scope="module", autouse=True)
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    yield
    ray.shutdown()


def test_read_pages_is_one_task_per_split_with_the_clis_rows(dump):
    splits = wikitok.splits(dump, **FLAGS)
    assert len(splits) >= 6 and all(split.range for split in splits)
    dataset = wikitok.ray.read_pages(dump, PAGES_QUERY, **FLAGS).materialize()
    assert dataset.num_blocks() >= len(splits)
    got = dataset.to_arrow_refs()
    rows = pa.concat_tables(ray.get(got)).to_pylist()
    assert by_page(rows) == by_page(cli_table(dump, PAGES_QUERY).to_pylist())


def test_without_partitions_the_dump_is_divided_for_the_clusters_cpus(dump):
    datasource = wikitok.ray.WikitokDatasource(dump, PAGES_QUERY)
    assert datasource.splits == wikitok.splits(dump, partitions=2)  # num_cpus=2


def test_groupby_over_the_tokens_is_vocab_sql(dump, cli_vocab):
    dataset = wikitok.ray.read_pages(dump, TOKENS_QUERY, **FLAGS)
    counts = dataset.groupby("token_id").count().to_pandas()
    got = dict(zip(counts["token_id"].tolist(), counts["count()"].tolist()))
    assert got == cli_vocab


def test_tokenize_in_map_batches_is_the_clis_tokenize(dump):
    query = "SELECT page_id, text FROM pages WHERE namespace = 0"
    dataset = wikitok.ray.read_pages(dump, query, **FLAGS).map_batches(
        lambda batch: batch.append_column("tokens", wikitok.tokenize(batch["text"])), batch_format="pyarrow"
    )
    rows = [{"page_id": r["page_id"], "tokens": r["tokens"]} for r in dataset.iter_rows()]
    expected = cli_table(dump, "SELECT page_id, tokenize(text) AS tokens FROM pages WHERE namespace = 0")
    assert by_page(rows) == by_page(expected.to_pylist())


class KilledOnce(wikitok.ray.WikitokDatasource):
    """The second split's first attempt is killed (SIGKILL, its worker
    process gone) after its first block: Ray must run it again."""

    def __init__(self, marker, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._marker = marker

    def _read_task(self, split, per_task_row_limit=None):
        task = super()._read_task(split, per_task_row_limit)
        inner, marker = task.read_fn, self._marker

        def read():
            for number, block in enumerate(inner()):
                yield block
                if split.index == 1 and number == 0 and not os.path.exists(marker):
                    with open(marker, "w") as f:
                        f.write(str(os.getpid()))
                    os.kill(os.getpid(), signal.SIGKILL)

        return ray.data.ReadTask(read, task.metadata, schema=task.schema)


def test_a_killed_worker_is_retried_by_ray_with_the_same_result(dump):
    ray.cloudpickle.register_pickle_by_value(__import__(__name__))
    marker = scratch("ray-kill") / "killed"
    datasource = KilledOnce(str(marker), dump, PAGES_QUERY, **FLAGS)
    rows = ray.data.read_datasource(datasource).take_all()
    assert marker.exists(), "the read task was never killed"
    assert int(marker.read_text()) != os.getpid()
    assert by_page(rows) == by_page(cli_table(dump, PAGES_QUERY).to_pylist())
