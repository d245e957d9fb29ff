"""Parquet in and out of the PostgreSQL store.

A load is checked by the DuckDB loader (``eventsim.store.parquet``), so both backends
refuse exactly the same files: the file goes into an in-memory DuckDB store that knows
this database's stream heads, and only rows that pass are copied in, under the writer
lock, in one transaction. The export writes the same columns as the DuckDB store's.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import psycopg
import pyarrow as pa
import pyarrow.parquet as pq

from eventsim.events import EventTypes
from eventsim.store import parquet
from eventsim.store.duckdb_store import DuckDBEventStore
from eventsim.store.schema import LOG_SCHEMA

COPY_SQL = (
    "COPY event_store (stream_id, version, event_id, event_type, data, metadata, timestamp, "
    "position) FROM STDIN"
)
EXPORT_SCHEMA = LOG_SCHEMA  # the same portable columns as the DuckDB store's export
_EXPORT_CHUNK = 50_000
_UPSERT_HEADS = """
INSERT INTO event_streams (stream_id, version, last_timestamp)
SELECT stream_id, max(version), max(timestamp) FROM event_store WHERE position > %s
GROUP BY stream_id
ON CONFLICT (stream_id) DO UPDATE
SET version = excluded.version, last_timestamp = excluded.last_timestamp
"""


def load_parquet(
    con: psycopg.Connection[Any], path: str, types: EventTypes, checks: Mapping[str, str]
) -> int:
    """Check and append a Parquet file of events; return how many were appended."""
    with con.transaction():
        # The writer lock first: the heads the file is checked against cannot move.
        (position,) = first_row(con, "SELECT position FROM event_log FOR UPDATE")
        rows = _checked_rows(con, path, types, checks)
        with con.cursor().copy(COPY_SQL) as copy:
            for row in rows:
                copy.write_row([*row[:7], position + row[7]])
        con.execute(_UPSERT_HEADS, [position])
        con.execute("UPDATE event_log SET position = %s", [position + len(rows)])
    return len(rows)


def _checked_rows(
    con: psycopg.Connection[Any], path: str, types: EventTypes, checks: Mapping[str, str]
) -> list[tuple[Any, ...]]:
    """The file's rows, numbered 1.. in load order, once the DuckDB loader accepts them."""
    with DuckDBEventStore(event_types=types, load_checks=checks) as checker:
        # The checker sees what the file could clash with here: the stream heads, and any
        # stored event that has one of the file's ids (so it names that row, as on DuckDB).
        heads = con.execute("SELECT stream_id, version, last_timestamp FROM event_streams")
        if rows := heads.fetchall():
            checker.connection.executemany("INSERT INTO event_streams VALUES (?, ?, ?)", rows)
        if clashes := _stored_events_with_ids_of(con, path):
            checker.connection.executemany(
                "INSERT INTO event_store VALUES (?, ?, ?, ?, ?, ?, ?, ?)", clashes
            )
        checker.load_parquet(path)
        return checker.connection.execute(
            "SELECT stream_id, version, CAST(event_id AS VARCHAR), event_type, "
            "CAST(data AS VARCHAR), CAST(metadata AS VARCHAR), timestamp, position "
            "FROM event_store ORDER BY position"
        ).fetchall()


def _stored_events_with_ids_of(con: psycopg.Connection[Any], path: str) -> list[tuple[Any, ...]]:
    try:
        with open(path, "rb") as file:  # a path, never a pattern
            ids = pq.read_table(file, columns=["event_id"]).column(0).to_pylist()
    except (OSError, KeyError, pa.ArrowException):  # not readable as such: the checker says why
        return []
    return con.execute(
        "SELECT stream_id, version, event_id::text, event_type, data::text, metadata::text, "
        "timestamp, position FROM event_store WHERE event_id::text = ANY(%s)",
        [[str(i) for i in ids]],
    ).fetchall()


def export_parquet(con: psycopg.Connection[Any], path: str) -> int:
    """Write the log in commit order with portable types (ids and JSON as text)."""
    rows: list[int] = []
    with con.transaction():  # one snapshot of the log, however long the write takes
        parquet.write_whole(
            path,
            None,
            lambda partial: rows.append(
                parquet.write_batches(_batches(con), Path(partial), EXPORT_SCHEMA)
            ),
        )
    return rows[0]


def _batches(con: psycopg.Connection[Any]) -> Iterator[pa.RecordBatch]:
    cursor = con.cursor()
    cursor.execute(
        "SELECT stream_id, version, event_id::text, event_type, data::text, metadata::text, "
        "timestamp, position FROM event_store ORDER BY position"
    )
    while chunk := cursor.fetchmany(_EXPORT_CHUNK):
        columns = zip(*chunk, strict=True)
        yield pa.RecordBatch.from_arrays(
            [pa.array(c, f.type) for c, f in zip(columns, EXPORT_SCHEMA, strict=True)],
            schema=EXPORT_SCHEMA,
        )


def first_row(con: psycopg.Connection[Any], query: str) -> tuple[Any, ...]:
    """The one row a fixed query always answers (an aggregate, the log's one row)."""
    row = con.execute(query).fetchone()
    assert row is not None  # aggregates and the log's one row always answer
    return tuple(row)
