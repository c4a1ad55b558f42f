"""wikitok: Wikipedia dumps (CirrusSearch JSON or MediaWiki XML) -> token
tables and trainer-ready files, from Python.

The same job as the ``wikitok`` command, run in-process::

    import wikitok, duckdb, polars as pl, pyarrow as pa
    q = wikitok.sql("SELECT page_id, title, token_count(text) AS n FROM pages WHERE namespace = 0",
                    input="enwiki-20261101-pages-articles-multistream.xml.bz2")
    duckdb.sql("SELECT avg(n) FROM q"); pl.DataFrame(q); pa.RecordBatchReader.from_stream(q)
    summary = wikitok.run("sql/megatron.sql", input=..., output=..., define={"seed": 7})

Inside an engine that schedules the work itself (Ray, Spark; see
``wikitok.ray`` and ``wikitok.spark``), the input is read split by split,
and the tokenizer runs on columns the engine already holds::

    parts = wikitok.splits("enwiki-20261101-pages-articles-multistream.xml.bz2")
    reader = wikitok.read_split(parts[0], query="SELECT page_id, tokenize(text) AS tokens FROM pages")
    ids = wikitok.tokenize(pa.array(["Hello world"]))           # list<uint32>, the CLI's ids

Keyword arguments are the command line's flags with ``_`` for ``-``
(``memory_limit="4GiB"`` is ``--memory-limit 4GiB``), with the same
defaults; a list repeats a flag, ``True`` sets a switch, and
``define={"name": value}`` is ``-D name=value``. Errors raise
:class:`WikitokError` with the command line's message.
"""
from __future__ import annotations

import dataclasses
import json
import warnings

import pyarrow as pa
import pyarrow.ipc

from . import _native
from ._native import WikitokError, __version__

__all__ = [
    "sql",
    "run",
    "rows",
    "Query",
    "splits",
    "read_split",
    "split_schema",
    "Split",
    "tokenize",
    "token_count",
    "library_sql",
    "WikitokError",
    "WikitokWarning",
    "__version__",
]


class WikitokWarning(UserWarning):
    """Something was skipped and counted (bad records of a split)."""


_FLAGS = dict(_native.flags())


def _arguments(options):
    """The command line flags for keyword arguments ``options``."""
    argv = []
    for name, value in options.items():
        if value is None:
            continue
        if name == "define":
            for key, item in dict(value).items():
                argv += ["-D", f"{key}={_text(item)}"]
            continue
        flag = name.replace("_", "-")
        kind = _FLAGS.get(flag)
        if kind is None:
            known = ", ".join(sorted(f.replace("-", "_") for f in _FLAGS))
            raise TypeError(f"wikitok: unknown keyword argument {name!r} (known: define, {known})")
        if kind == "switch":
            if value:
                argv.append(f"--{flag}")
            continue
        values = list(value) if isinstance(value, (list, tuple)) else [value]
        if kind == "value" and len(values) != 1:
            raise TypeError(f"wikitok: {name} takes one value, got {value!r}")
        for item in values:
            argv += [f"--{flag}", _text(item)]
    return argv


def _text(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class Query:
    """The rows of a SQL query over the ``pages`` table, as an Arrow stream.

    Nothing runs until the rows are asked for; every request starts a fresh
    run (DuckDB reads a relation again on each fetch), and batches stream
    as they are produced: ``LIMIT 3`` reads one batch, and memory stays
    bounded on a whole dump. Implements the Arrow PyCapsule stream
    interface (``__arrow_c_stream__``), so DuckDB, polars and pyarrow take
    it directly.
    """

    def __init__(self, query, **options):
        self.query = query
        self.options = options
        # No --quiet here: the native side never shows progress for a query,
        # and a second --quiet (quiet=True) would be a usage error.
        self._argv = _query_argv(query, options)

    def reader(self):
        """A fresh run's rows as a ``pyarrow.RecordBatchReader``."""
        return _record_batch_reader(_native.query(self._argv))

    def __arrow_c_stream__(self, requested_schema=None):
        return self.reader().__arrow_c_stream__(requested_schema)

    def to_arrow(self):
        """All rows as a ``pyarrow.Table``."""
        return self.reader().read_all()

    def __iter__(self):
        """The rows as dicts."""
        for batch in self.reader():
            yield from batch.to_pylist()

    def __repr__(self):
        return f"wikitok.Query({self.query!r}, **{self.options!r})"


def sql(query, **options):
    """A :class:`Query`: the rows of the last statement of ``query`` (earlier
    statements — ``SET``, ``CREATE VIEW`` — run first, on every fresh run)."""
    return Query(query, **options)


def rows(query, **options):
    """The rows of ``query`` as dicts: a generator function for
    ``datasets.IterableDataset.from_generator(wikitok.rows,
    gen_kwargs={"query": ..., "input": ...})`` (picklable: it builds its
    stream when iterated)."""
    yield from Query(query, **options)


def run(sql_file, **options):
    """Runs a SQL file as ``wikitok run`` does (``COPY`` writes files); returns
    the run summary (what ``OUTPUT/_SUCCESS`` holds) as a dict. Ctrl-C
    interrupts it: in-progress files are removed, committed ones stay."""
    summary = _native.run([str(sql_file), *_arguments(options)])
    return json.loads(summary)


def _query_argv(query, options):
    """``wikitok sql`` arguments: the flags, then the query after ``--``, so
    that a query starting with a SQL comment (``-- ...``, as the files of
    ``sql/`` do) is not taken for a flag."""
    return [*_arguments(options), "--", query]


def _record_batch_reader(batches, on_end=None):
    """The native stream ``batches`` as a ``pyarrow.RecordBatchReader``;
    ``on_end()`` runs once its last batch has been read."""
    schema = pa.ipc.open_stream(batches.schema()).schema

    def produce():
        while True:
            message = batches.next()
            if message is None:
                break
            yield from pa.ipc.open_stream(message)
        if on_end is not None:
            on_end()

    return pa.RecordBatchReader.from_batches(schema, produce())


@dataclasses.dataclass(frozen=True)
class Split:
    """One split of an input, as :func:`splits` lists it: small and
    picklable, for an engine to send to the worker that reads it with
    :func:`read_split`.

    ``location`` is the file's path or URL (the worker must reach it: a
    bucket, or a volume every worker mounts), ``range`` the byte range whose
    records this split owns (``None``: the whole file), ``size`` the
    compressed bytes it reads, ``label`` its stable name, ``family``
    ``cirrussearch`` or ``mediawiki_xml``, ``index`` its position among
    ``of`` splits."""

    location: str
    file_size: int
    range: tuple | None
    size: int
    label: str
    index_name: str | None
    family: str
    index: int
    of: int

    def _json(self):
        fields = dataclasses.asdict(self)
        fields["range"] = list(self.range) if self.range is not None else None
        return json.dumps(fields)


def splits(input, **options):
    """The splits of ``input`` (a path, glob, directory or URL, or a list of
    them) as :class:`Split` descriptors, in the command line's partition
    order, divided exactly as ``wikitok run`` divides them with the same
    flags (``partitions``, ``min_split_size``, ...)."""
    inputs = list(input) if isinstance(input, (list, tuple)) else [input]
    listed = json.loads(_native.splits(_arguments({"input": [str(i) for i in inputs], **options})))
    return [Split(**{**fields, "range": tuple(fields["range"]) if fields["range"] else None}) for fields in listed]


def read_split(split, query="SELECT * FROM pages", report=None, **options):
    """The rows of ``query`` over one split, streamed as a
    ``pyarrow.RecordBatchReader`` in the split's own order, memory bounded by
    the batch size.

    ``query`` must work page by page (projections, filters, the tokenizer
    functions, ``unnest``): the rows of every split, put together, are then
    the rows of the query over the whole input. A ``COPY`` as its last
    statement stands for the rows it would write, so a SQL file of the
    command line reads as it is: ``read_split(split,
    wikitok.library_sql("tokenize"))`` gives the rows of ``sql/tokenize.sql``'s
    file for that split. An aggregate, sort,
    ``LIMIT``, join or window raises :class:`WikitokError` saying so — those
    belong to the engine. Bad records are skipped and counted as the
    command line counts them (``max_bad_records`` applies per split); once
    the reader is exhausted, a :class:`WikitokWarning` names the split and
    the counts, and the dict ``report``, if given, receives ``pages``,
    ``bad_records`` and ``bad_records_by_kind``."""
    argv = _split_argv("read_split", split, query, options)
    batches = _native.read_split(split._json(), argv)

    def on_end():
        read = json.loads(batches.report())
        if report is not None:
            report.update(read)
        if read["bad_records"]:
            kinds = ", ".join(f"{kind}: {n}" for kind, n in read["bad_records_by_kind"].items())
            warnings.warn(
                WikitokWarning(f"wikitok: split {split.label} ({split.location}): skipped {read['bad_records']} bad records ({kinds})"),
                stacklevel=2,
            )

    return _record_batch_reader(batches, on_end)


def split_schema(split, query="SELECT * FROM pages", **options):
    """The ``pyarrow.Schema`` of :func:`read_split`'s rows for ``query``: the
    query is planned and checked to work page by page; nothing is read."""
    argv = _split_argv("split_schema", split, query, options)
    schema = _native.split_schema(split._json(), argv)
    return pa.ipc.open_stream(schema).schema


def library_sql(name):
    """The text of the project's ``sql/NAME.sql`` (``"tokenize"``,
    ``"vocab"``, ...) as this build has it, for programs with no checkout
    of the repository: a query for :func:`read_split`, :func:`sql` or an
    engine's reader."""
    return _native.library_sql(name)


def _split_argv(function, split, query, options):
    """``wikitok sql`` arguments for ``query`` over ``split``."""
    if not isinstance(split, Split):
        raise TypeError(f"wikitok.{function}: expected a wikitok.Split from wikitok.splits(), got {type(split).__name__}")
    if "input" in options:
        raise TypeError(f"wikitok.{function}: the split names its input; do not pass input=")
    return _query_argv(query, {**options, "input": split.location})


def _apply_tokenizer(function, array, tokenizer, tokenizer_backend):
    """``function`` over a string array or chunked array, as the SQL function
    computes it; the result has the input's shape (array or chunked array)."""
    chunked = isinstance(array, pa.ChunkedArray)
    if not chunked and not isinstance(array, pa.Array):
        if hasattr(array, "__arrow_c_stream__"):
            array, chunked = pa.chunked_array(array), True
        else:
            array = pa.array(array, type=pa.string())
    chunks = array.chunks if chunked else [array]
    result_type = pa.int64() if function == "token_count" else pa.list_(pa.uint32())
    if not chunks:
        return pa.chunked_array([], type=result_type)
    value_type = chunks[0].type
    is_string_view = getattr(pa.types, "is_string_view", lambda _: False)
    if not (pa.types.is_string(value_type) or pa.types.is_large_string(value_type) or is_string_view(value_type)):
        raise TypeError(f"wikitok.{function}: expected strings, got an array of {value_type}")
    sink = pa.BufferOutputStream()
    schema = pa.schema([("text", value_type)])
    with pa.ipc.new_stream(sink, schema) as writer:
        for chunk in chunks:
            writer.write_batch(pa.record_batch([chunk], schema=schema))
    flags = _arguments({"tokenizer": tokenizer, "tokenizer_backend": tokenizer_backend})
    result = _native.tokenize(sink.getvalue().to_pybytes(), function, flags)
    columns = [batch.column(0) for batch in pa.ipc.open_stream(result)]
    return pa.chunked_array(columns, type=result_type) if chunked else columns[0]


def tokenize(array, tokenizer=None, tokenizer_backend=None, special_tokens=False):
    """The token ids of every string of ``array`` (a ``pyarrow`` string,
    large-string or string-view array or chunked array; nulls stay null) as
    ``list<uint32>``: what the SQL function ``tokenize`` gives (or
    ``tokenize_with_special_tokens`` with ``special_tokens=True``).
    ``tokenizer`` is a built-in name (``cl100k_base``, the default, or
    ``o200k_base``) or a Hugging Face ``tokenizer.json``, loaded once per
    process; the work runs with the GIL released, so threads tokenize in
    parallel. For Ray ``map_batches(batch_format="pyarrow")``, Spark
    ``mapInArrow``, DuckDB and polars."""
    function = "tokenize_with_special_tokens" if special_tokens else "tokenize"
    return _apply_tokenizer(function, array, tokenizer, tokenizer_backend)


def token_count(array, tokenizer=None, tokenizer_backend=None):
    """The number of tokens of every string of ``array`` as ``int64``: the
    length of :func:`tokenize`'s lists, as the SQL function ``token_count``."""
    return _apply_tokenizer("token_count", array, tokenizer, tokenizer_backend)
