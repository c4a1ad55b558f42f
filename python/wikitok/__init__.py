"""wikitok: Wikipedia dumps (CirrusSearch JSON or MediaWiki XML) -> token
tables and trainer-ready files, from Python.

The same job as the ``wikitok`` command, run in-process::

    import wikitok, duckdb, polars as pl, pyarrow as pa
    q = wikitok.sql("SELECT page_id, title, token_count(text) AS n FROM pages WHERE namespace = 0",
                    input="enwiki-20261101-pages-articles-multistream.xml.bz2")
    duckdb.sql("SELECT avg(n) FROM q"); pl.DataFrame(q); pa.RecordBatchReader.from_stream(q)
    summary = wikitok.run("sql/megatron.sql", input=..., output=..., define={"seed": 7})

Keyword arguments are the command line's flags with ``_`` for ``-``
(``memory_limit="4GiB"`` is ``--memory-limit 4GiB``), with the same
defaults; a list repeats a flag, ``True`` sets a switch, and
``define={"name": value}`` is ``-D name=value``. Errors raise
:class:`WikitokError` with the command line's message.
"""
import json

import pyarrow as pa
import pyarrow.ipc

from . import _native
from ._native import WikitokError, __version__

__all__ = ["sql", "run", "rows", "Query", "WikitokError", "__version__"]

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
        self._argv = [query, *_arguments(options)]

    def reader(self):
        """A fresh run's rows as a ``pyarrow.RecordBatchReader``."""
        batches = _native.query(self._argv)
        schema = pa.ipc.open_stream(batches.schema()).schema

        def produce():
            while True:
                message = batches.next()
                if message is None:
                    return
                yield from pa.ipc.open_stream(message)

        return pa.RecordBatchReader.from_batches(schema, produce())

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
