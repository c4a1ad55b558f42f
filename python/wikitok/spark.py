"""wikitok as a PySpark data source (Spark >= 4.0): one partition per split.

::

    from pyspark.sql import SparkSession
    import wikitok.spark

    spark = SparkSession.builder.getOrCreate()
    wikitok.spark.register(spark)
    pages = (spark.read.format("wikitok")
             .option("input", "s3a://...")            # any --input wikitok takes: s3://, gs://, a path
             .option("tokenizer", "cl100k_base")
             .option("query", "SELECT page_id, tokenize(text) AS tokens FROM pages WHERE namespace = 0")
             .load())

Options are the command line's flags by the same names (``memory-limit`` or
``memory_limit``); a repeatable flag (``input``, ``tokenizer``) takes a
comma-separated list, and ``define.NAME`` is ``-D NAME=VALUE`` (Spark
lower-cases option names, so NAME is lower case). Without a
``partitions`` option the dump is divided for the cores of the machine
that plans the read; set it to the cluster's cores. The query
runs inside each partition and must work page by page (see
:func:`wikitok.read_split`); aggregates, sorts and joins are Spark's to do.

Spark has no unsigned integers: token ids (``list<uint32>``) arrive as
``array<bigint>``, unsigned columns as the next wider signed type (``uint64``
as ``bigint``, refused if a value does not fit). Batches cross as Arrow,
never as Python rows.

``pyspark`` is an optional dependency: ``pip install "wikitok[spark]"``.
"""
from __future__ import annotations

import json

import pyarrow as pa
from pyspark.sql.datasource import DataSource, DataSourceReader, InputPartition
from pyspark.sql.pandas.types import from_arrow_schema, to_arrow_schema

import wikitok

__all__ = ["WikitokDataSource", "register", "spark_arrow_type"]

_REPEATABLE_SEPARATOR = ","


def spark_arrow_type(arrow_type):
    """``arrow_type`` with every unsigned integer made the next wider signed
    one (Spark has none): ``uint32`` token ids become ``int64``."""
    t = arrow_type
    if pa.types.is_uint8(t):
        return pa.int16()
    if pa.types.is_uint16(t):
        return pa.int32()
    if pa.types.is_uint32(t) or pa.types.is_uint64(t):
        return pa.int64()
    if pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t):
        return pa.list_(spark_arrow_type(t.value_type))
    if pa.types.is_map(t):
        return pa.map_(spark_arrow_type(t.key_type), spark_arrow_type(t.item_type))
    if pa.types.is_struct(t):
        return pa.struct([pa.field(f.name, spark_arrow_type(f.type), f.nullable) for f in t])
    if getattr(pa.types, "is_string_view", lambda _: False)(t):
        return pa.string()
    return t


def _flags(options):
    """Keyword arguments for wikitok from Spark options (lower-cased keys)."""
    known = dict(wikitok._native.flags())
    flags, define = {}, {}
    for key, value in options.items():
        key = key.lower()
        if key in ("query", "path", "paths"):
            continue
        if key.startswith("define."):
            define[key[len("define.") :]] = value
            continue
        flag = key.replace("_", "-")
        kind = known.get(flag)
        if kind is None:
            names = ", ".join(sorted(known))
            raise ValueError(f"wikitok data source: unknown option {key!r} (options are the command line's flags: {names}; query; define.NAME)")
        name = flag.replace("-", "_")
        if kind == "switch":
            flags[name] = str(value).lower() in ("true", "1", "yes")
        elif kind == "values":
            flags[name] = [item.strip() for item in str(value).split(_REPEATABLE_SEPARATOR) if item.strip()]
        else:
            flags[name] = value
    if define:
        flags["define"] = define
    return flags


class _SplitPartition(InputPartition):
    def __init__(self, split):
        super().__init__(split.index)
        self.split = split


class WikitokDataSource(DataSource):
    """``spark.read.format("wikitok")``: the rows of ``query`` (default
    ``SELECT * FROM pages``) over ``input``."""

    @classmethod
    def name(cls):
        return "wikitok"

    def _query_and_flags(self):
        options = {key.lower(): value for key, value in self.options.items()}
        query = options.get("query", "SELECT * FROM pages")
        flags = _flags(options)
        if "input" not in flags:
            # .load(PATH) sets `path`; .load([A, B]) sets `paths`, a JSON list.
            if "paths" in options:
                flags["input"] = [str(p) for p in json.loads(options["paths"])]
            elif "path" in options:
                flags["input"] = [options["path"]]
        if not flags.get("input"):
            raise ValueError('wikitok data source: set the input: .option("input", PATH_OR_URL) or .load(PATH_OR_URL)')
        return query, flags

    def _splits(self):
        query, flags = self._query_and_flags()
        input = flags.pop("input")
        return query, flags, wikitok.splits(input, **flags)

    def schema(self):
        query, flags, splits = self._splits()
        if not splits:
            raise ValueError("wikitok data source: the input has no splits")
        arrow = wikitok.split_schema(splits[0], query, **flags)
        return from_arrow_schema(pa.schema([pa.field(f.name, spark_arrow_type(f.type), True) for f in arrow]))

    def reader(self, schema):
        query, flags, splits = self._splits()
        return _WikitokReader(query, flags, splits, schema)


class _WikitokReader(DataSourceReader):
    def __init__(self, query, flags, splits, schema):
        self.query = query
        self.flags = flags
        self.splits = splits
        self.schema = schema

    def partitions(self):
        return [_SplitPartition(split) for split in self.splits]

    def read(self, partition):
        # The worker's Arrow schema for these rows, exactly as Spark's
        # Python data source runner builds it (it refuses any other).
        target = to_arrow_schema(self.schema, timezone="UTC")
        for batch in wikitok.read_split(partition.split, self.query, **self.flags):
            # By name: a schema given with .schema(...) may order or choose
            # the columns differently (a missing one is a KeyError naming it).
            columns = [batch.column(field.name).cast(field.type) for field in target]
            yield pa.RecordBatch.from_arrays(columns, schema=target)


def register(spark):
    """Registers the ``wikitok`` format with ``spark``."""
    spark.dataSource.register(WikitokDataSource)
