"""wikitok as a Ray Data datasource: one read task per split.

::

    import ray, wikitok.ray
    ds = wikitok.ray.read_pages(
        input="s3://bucket/cirrus_search_index/20261115/",
        query="SELECT page_id, wiki, tokenize(text) AS tokens FROM pages WHERE namespace = 0",
    )
    ds.write_parquet("s3://bucket/tokens/")

Ray schedules the read tasks, retries those whose worker died (a split
reads the same rows every time, so a retried task gives the same blocks),
and the pipeline goes on with Ray's own operators (``groupby``, ``sort``,
``random_shuffle``, ``write_parquet``). The query runs inside each read task
and must work page by page (see :func:`wikitok.read_split`); what looks
across pages is Ray's to do. Every worker must reach the input: a bucket, an
HTTP URL, or a path every node mounts.

``ray`` is an optional dependency: ``pip install "wikitok[ray]"``.
"""
from __future__ import annotations

import pyarrow as pa
import ray
from ray.data import Datasource, ReadTask, read_datasource
from ray.data.block import BlockMetadata

import wikitok

__all__ = ["WikitokDatasource", "read_pages"]

# Decompressed text is about this many times the compressed size (bzip2 and
# gzip on Wikipedia dumps: 3.8x measured on enwiki's CirrusSearch shards).
_COMPRESSION_RATIO = 4


class WikitokDatasource(Datasource):
    """The splits of a wikitok input, each read by :func:`wikitok.read_split`
    with the same query and flags."""

    def __init__(self, input, query="SELECT * FROM pages", **options):
        super().__init__()
        if options.get("partitions") is None:
            # Divided for the cluster's CPUs, as the command line divides a
            # dump for its machine's cores (not for the driver's cores).
            if not ray.is_initialized():
                ray.init()
            options["partitions"] = max(1, int(ray.cluster_resources().get("CPU", 1)))
        self._query = query
        self._options = options
        self._splits = wikitok.splits(input, **options)
        # Planned (not read) on the driver: a query that needs every page
        # fails here, before any task starts.
        self._schema = wikitok.split_schema(self._splits[0], query, **options) if self._splits else None

    def get_name(self):
        return "wikitok"

    @property
    def splits(self):
        return list(self._splits)

    def _estimated_bytes(self, split):
        compressed = split.location.endswith((".bz2", ".gz"))
        return split.size * (_COMPRESSION_RATIO if compressed else 1)

    def estimate_inmemory_data_size(self):
        return sum(self._estimated_bytes(split) for split in self._splits)

    def get_read_tasks(self, parallelism, per_task_row_limit=None, data_context=None):
        # One task per split whatever the requested parallelism: a split is
        # the unit the input divides into (more splits: `partitions=`).
        return [self._read_task(split, per_task_row_limit) for split in self._splits]

    def _read_task(self, split, per_task_row_limit=None):
        query, options = self._query, self._options

        def read():
            for batch in wikitok.read_split(split, query, **options):
                yield pa.Table.from_batches([batch])

        metadata = BlockMetadata(
            num_rows=None,
            size_bytes=self._estimated_bytes(split),
            input_files=[split.location],
            exec_stats=None,
        )
        return ReadTask(read, metadata, schema=self._schema, per_task_row_limit=per_task_row_limit)


def read_pages(input, query="SELECT * FROM pages", *, ray_remote_args=None, **options):
    """A ``ray.data.Dataset`` of ``query``'s rows over ``input``, read as one
    task per split (``wikitok.splits(input, **options)``). ``options`` are
    the command line's flags (``tokenizer=``, ``partitions=``,
    ``max_pages=``, ...); without ``partitions=``, the dump is divided for
    the Ray cluster's CPUs. ``ray_remote_args`` go to the read tasks
    (``{"num_cpus": 2}``, ``{"max_retries": 5}``).

    Each split reads the same rows every time, so a retried task gives the
    same blocks — unless the query itself is not repeatable (``random()``,
    ``now()``)."""
    datasource = WikitokDatasource(input, query, **options)
    return read_datasource(datasource, ray_remote_args=ray_remote_args or {})
