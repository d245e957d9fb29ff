"""Writing one prepared batch into the log: the write path's speed lives here.

Every append does the same three things in the caller's transaction: insert the events
at the next versions and positions, insert their typed companion rows, and move the
stream's head and the log's last position. There are two ways to insert, each the cheaper
for its size (measured when they went in, see benchmarks/RESULTS.md):

- ``_insert_one``: one event, the common command, as plain parameters (an Arrow table
  costs more to build than the insert itself);
- ``_insert_many``: a batch, as one Arrow table that DuckDB reads in a single INSERT.
"""

from __future__ import annotations

from contextlib import suppress

import duckdb

from eventsim.store import batch, companion
from eventsim.store.schema import COLUMNS

_BATCH_VIEW = companion.BATCH_VIEW


def insert_events(
    con: duckdb.DuckDBPyConnection,
    stream_id: str,
    current: int,
    rows: list[batch.Row],
) -> None:
    """Store ``rows`` as versions ``current + 1 ...`` of the stream, inside the caller's
    transaction (the caller holds the writer lock and has checked the expected version)."""
    (position,) = con.execute("SELECT position FROM event_log").fetchall()[0]
    if len(rows) == 1:
        _insert_one(con, stream_id, current + 1, position + 1, rows[0])
    else:
        _insert_many(con, stream_id, current + 1, position + 1, rows)
    _set_heads(con, stream_id, current, rows, position)


def _insert_one(
    con: duckdb.DuckDBPyConnection,
    stream_id: str,
    version: int,
    position: int,
    row: batch.Row,
) -> None:
    assert row.timestamp is not None, "rows are stamped (batch.stamp) before they go in"
    con.execute(
        f"INSERT INTO event_store ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",  # noqa: S608 (constant)
        [
            stream_id,
            version,
            row.event_id,
            row.event_type,
            row.data,
            row.metadata,
            row.timestamp,
            position,
        ],
    )
    companion.insert_row(con, stream_id, version, row.event_type, row.timestamp, row.amount)


def _insert_many(
    con: duckdb.DuckDBPyConnection,
    stream_id: str,
    version: int,
    position: int,
    rows: list[batch.Row],
) -> None:
    con.register(_BATCH_VIEW, batch.to_table(stream_id, version, position, rows))
    try:
        con.execute(f"INSERT INTO event_store SELECT {COLUMNS} FROM {_BATCH_VIEW}")  # noqa: S608 (constants)
        con.execute(companion.INSERT_BATCH_SQL)
    finally:
        # After a failed insert DuckDB refuses all but a rollback, even an unregister;
        # the caller rolls back, and the next append's register replaces the view.
        with suppress(duckdb.TransactionException):
            con.unregister(_BATCH_VIEW)


def _set_heads(
    con: duckdb.DuckDBPyConnection,
    stream_id: str,
    current: int,
    rows: list[batch.Row],
    position: int,
) -> None:
    """The stream's new head and the log's new last position."""
    n = len(rows)
    # A plain UPDATE (a key lookup) or INSERT is cheaper than an upsert's conflict check.
    head = [current + n, rows[-1].timestamp, stream_id]
    if current:
        con.execute(
            "UPDATE event_streams SET version = ?, last_timestamp = ? WHERE stream_id = ?", head
        )
    else:
        con.execute(
            "INSERT INTO event_streams (version, last_timestamp, stream_id) VALUES (?, ?, ?)",
            head,
        )
    con.execute("UPDATE event_log SET position = ?", [position + n])
