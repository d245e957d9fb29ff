"""Generated events to one Parquet file: the same bytes whatever size the batches come in.

The batches are cut into row groups of ``ROW_GROUP_ROWS`` rows, each one Arrow chunk per
column, so the file depends only on the events, never on how they were batched. Each
column is encoded the way that pays: a dictionary only for the text columns with few
values, deltas for the version and the time, zstd for all. Any Parquet reader (DuckDB,
pyarrow, pandas, ``EventStore.load_parquet``) reads them as it read the defaults.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from eventsim.sim import kit

WRITE_BATCH_ROWS = 1024
"""Rows the Parquet writer encodes between its checks of page and dictionary sizes."""

ROW_GROUP_ROWS = 512 * WRITE_BATCH_ROWS
"""Rows per row group: a constant, so the bytes never depend on the batches' size."""

SETTINGS: dict[str, object] = {
    "compression": "zstd",
    # A dictionary costs a hash per row; it pays only where a few values repeat.
    "use_dictionary": ["stream_id", "event_type", "metadata"],
    # Versions and times grow slowly: deltas are smaller and faster than a dictionary.
    # The ids' lengths (all 36) apart from their text: zstd then sees only hex digits,
    # and packs them smaller in two thirds of the time.
    "column_encoding": {
        "version": "DELTA_BINARY_PACKED",
        "timestamp": "DELTA_BINARY_PACKED",
        "event_id": "DELTA_LENGTH_BYTE_ARRAY",
    },
    "write_batch_size": WRITE_BATCH_ROWS,
}
"""How each column is written (also the benchmark's limit: pyarrow writing a built table)."""


def write_parquet(
    batches: Iterable[pa.RecordBatch], path: Path, schema: pa.Schema = kit.SCHEMA
) -> int:
    """Write the batches to ``path`` as one Parquet file; return the row count.

    The writer encodes one row group while the batches' producer (the simulators'
    worker threads) builds the next ones: Arrow releases the GIL in both.
    """
    rows = 0
    with pq.ParquetWriter(path, schema, **SETTINGS) as writer:
        for group in row_groups(batches, ROW_GROUP_ROWS):
            writer.write_table(group, row_group_size=ROW_GROUP_ROWS)
            rows += group.num_rows
    return rows


def row_groups(batches: Iterable[pa.RecordBatch], rows: int) -> Iterator[pa.Table]:
    """The batches' rows regrouped into tables of ``rows`` rows (the last may be short)."""
    held: list[pa.RecordBatch] = []
    count = 0
    for batch in batches:
        while batch.num_rows:
            part = batch.slice(0, rows - count)
            held.append(part)
            count += part.num_rows
            batch = batch.slice(part.num_rows)
            if count == rows:
                yield _as_written(held)
                held, count = [], 0
    if held:
        yield _as_written(held)


def _as_written(batches: list[pa.RecordBatch]) -> pa.Table:
    """The row group as a table whose Arrow chunks cannot change the bytes.

    The writer encodes each chunk in steps of ``WRITE_BATCH_ROWS`` rows and checks, after
    each step, whether a page is full or a dictionary grew too big (then that column goes
    on in plain text): chunks that all start on a step boundary are encoded as one chunk
    would be. Any other chunking is copied into one chunk first.
    """
    table = pa.Table.from_batches(batches)
    if all(b.num_rows % WRITE_BATCH_ROWS == 0 for b in batches[:-1]):
        return table
    return table.combine_chunks()
