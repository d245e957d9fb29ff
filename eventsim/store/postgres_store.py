"""The event store on PostgreSQL: the same contract as the DuckDB store, on a real server.

Same tables and roles as ``eventsim.store.schema``: ``event_store`` (the canonical columns,
JSONB payloads, TIMESTAMPTZ times, UUID ids, plus ``position``), ``event_streams`` (each
stream's head) and ``event_log`` (the last position). There is no typed companion: the SQL
folds are DuckDB's; analytics on this log go through ``export_parquet`` into DuckDB.

**Global order without skipped events.** On a server, a sequence hands out numbers when
transactions ask, not when they commit: a writer that took position 9 may commit after
one that took 10, and a reader that has seen 10 never looks back for 9. Here every append
first locks the single ``event_log`` row (``SELECT ... FOR UPDATE``) and takes its
positions from it, so appends commit one after another in position order: when a reader
sees position p, every position below p is already committed. The price is one writer at
a time per store (the design of the ``eventsourcing`` library's PostgreSQL recorder, which
locks its table; Marten and EventStoreDB order through a single writer too); appends of a
few milliseconds each leave room for hundreds per second.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from itertools import repeat
from pathlib import Path
from typing import Any

import pandas as pd
import psycopg
from psycopg import errors as pg_errors
from psycopg.types.string import TextLoader

from eventsim.errors import ConcurrencyError, InvalidArgument, StreamNotFound, shown
from eventsim.events import (
    DomainEvent,
    Event,
    EventTypes,
    NewEvent,
    check_stream_id,
)
from eventsim.store import batch, files, postgres_bulk, reads
from eventsim.store.arguments import check_expected_version
from eventsim.store.contract import ClosesOnExit
from eventsim.store.decode import collector_paused, events_from_rows
from eventsim.store.ids import time_ordered_id

SCHEMA_SQL = """
CREATE TABLE IF NOT EXISTS event_store (
    stream_id  TEXT        NOT NULL,
    version    INTEGER     NOT NULL,
    event_id   UUID        NOT NULL UNIQUE,
    event_type TEXT        NOT NULL,
    data       JSONB       NOT NULL,
    metadata   JSONB,
    timestamp  TIMESTAMPTZ NOT NULL,
    position   BIGINT      NOT NULL UNIQUE,
    PRIMARY KEY (stream_id, version)
);
CREATE TABLE IF NOT EXISTS event_streams (
    stream_id      TEXT PRIMARY KEY,
    version        INTEGER     NOT NULL,
    last_timestamp TIMESTAMPTZ NOT NULL
);
CREATE TABLE IF NOT EXISTS event_log (
    only_row BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (only_row),
    position BIGINT NOT NULL
);
INSERT INTO event_log VALUES (TRUE, 0) ON CONFLICT DO NOTHING;
"""
_MOVE_HEADS_SQL = """
WITH head AS (
    INSERT INTO event_streams (stream_id, version, last_timestamp) VALUES (%s, %s, %s)
    ON CONFLICT (stream_id) DO UPDATE
    SET version = excluded.version, last_timestamp = excluded.last_timestamp
)
UPDATE event_log SET position = %s
"""
# One command's event, its stream's head and the log's position: one statement, one round
# trip (every data-modifying part of a WITH runs, whether the outer statement reads it).
_APPEND_ONE_SQL = """
WITH event AS (
    INSERT INTO event_store (stream_id, version, event_id, event_type, data, metadata,
                             timestamp, position)
    VALUES (%s, %s, %s, %s, %s, %s, %s, %s)
), head AS (
    INSERT INTO event_streams (stream_id, version, last_timestamp) VALUES (%s, %s, %s)
    ON CONFLICT (stream_id) DO UPDATE
    SET version = excluded.version, last_timestamp = excluded.last_timestamp
)
UPDATE event_log SET position = %s
"""
# Concurrent CREATE TABLE IF NOT EXISTS can still collide in PostgreSQL's catalog: the
# first store to open a database creates the tables while holding this advisory lock.
_SCHEMA_LOCK = 0x6576_656E_7473  # any constant of the project's own

# The columns decode.events_from_rows expects, in its order; the time as epoch microseconds.
_DIALECT = reads.Dialect(
    param="%s",
    read_columns=(
        "version, event_id, event_type, data::text, metadata::text, "
        "(extract(epoch FROM timestamp) * 1000000)::bigint, position"
    ),
    type_in_list="event_type = ANY(%s)",
)


class PostgresEventStore(ClosesOnExit):
    """An event store in a PostgreSQL database, opened by URL.

    Safe to share between threads (calls take turns on its one connection); several
    stores, in as many processes, may write to one database.
    """

    SCHEMA_SQL = SCHEMA_SQL
    PARAM = "%s"  # the placeholder sql() takes, psycopg's

    def __init__(
        self,
        url: str,
        *,
        clock: Callable[[], datetime] | None = None,
        new_id: Callable[[], uuid.UUID] = time_ordered_id,
        event_types: EventTypes,
        load_checks: Mapping[str, str] | None = None,
    ) -> None:
        if not isinstance(url, str) or not url.startswith(("postgresql://", "postgres://")):
            raise InvalidArgument(
                f"{shown(url)} is not a PostgreSQL URL; pass one like "
                "postgresql://user@host:5432/db"
            )
        self.path = url
        try:
            # UTC, as the DuckDB store: times read back compare and print the same.
            self._con = psycopg.connect(url, autocommit=True, options="-c TimeZone=UTC")
            # JSON comes back as text, as DuckDB gives it; Events parse it themselves.
            self._con.adapters.register_loader("jsonb", TextLoader)
        except psycopg.Error as exc:
            raise InvalidArgument(
                f"cannot connect to {shown(url)}: {str(exc).strip().splitlines()[0]}; "
                "is the server running? (`make services` starts the project's own)"
            ) from None
        with self._con.transaction():
            self._con.execute("SELECT pg_advisory_xact_lock(%s)", [_SCHEMA_LOCK])
            self._con.execute(self.SCHEMA_SQL)
        self._lock = threading.RLock()
        self._clock = clock or (lambda: datetime.now(UTC))
        self._new_id = new_id
        self.event_types = event_types
        self.load_checks = dict(load_checks or {})

    # -- lifecycle ---------------------------------------------------------------------
    def close(self) -> None:
        self._con.close()

    @property
    def connection(self) -> psycopg.Connection[Any]:
        """The psycopg connection, for SQL the helpers do not cover."""
        return self._con

    # -- writing -----------------------------------------------------------------------
    def append(
        self,
        stream_id: str,
        events: Sequence[NewEvent | DomainEvent],
        *,
        expected_version: int | None,
    ) -> int:
        """Append ``events`` to the stream atomically and return its new version.

        The same promises as the DuckDB store: see ``EventStoreContract``.
        """
        check_stream_id(stream_id)
        check_expected_version(expected_version)
        # Checked before any lock: a bad batch never waits for, nor holds up, the writers.
        prepared = batch.prepare(events, self.event_types, self._new_id)
        ids = [row.event_id for row in prepared]
        with self._lock:
            try:
                return self._append(stream_id, prepared, expected_version)
            except pg_errors.UniqueViolation:
                # An id already stored: a re-send of this very batch is a no-op.
                if self._already_stored(stream_id, ids):
                    return self._head(stream_id)[0]
                raise

    def _append(self, stream_id: str, prepared: list[batch.Row], expected: int | None) -> int:
        with self._con.transaction():
            # The writer lock: appends queue here and commit in position order.
            (position,) = postgres_bulk.first_row(
                self._con, "SELECT position FROM event_log FOR UPDATE"
            )
            # The head is read by a statement of its own, after the lock: in READ COMMITTED
            # each statement sees what committed before it began, while a row joined to
            # the locked one would be seen as of before the wait (a stale head).
            current, last_time = self._head(stream_id)
            # The store's own times are taken under the lock, so they never go back.
            rows = batch.stamp(prepared, self._clock, last_time)
            if expected is not None and expected != current:
                if self._already_stored(stream_id, [row.event_id for row in rows]):
                    return current
                raise ConcurrencyError(stream_id, expected, current)
            batch.check_time_order(rows, last_time)
            self._insert(stream_id, current, position, rows)
            return current + len(rows)

    def _insert(self, stream_id: str, current: int, position: int, rows: list[batch.Row]) -> None:
        values = [
            [stream_id, current + i, r.event_id, r.event_type, r.data, r.metadata, r.timestamp]
            + [position + i]
            for i, r in enumerate(rows, 1)
        ]
        # The stream's head and the log's last position.
        heads = [stream_id, current + len(rows), rows[-1].timestamp, position + len(rows)]
        if len(values) == 1:  # one command's event: all in one statement
            self._con.execute(_APPEND_ONE_SQL, values[0] + heads)
            return
        with self._con.cursor().copy(postgres_bulk.COPY_SQL) as copy:  # a batch: COPY
            for value in values:
                copy.write_row(value)
        self._con.execute(_MOVE_HEADS_SQL, heads)

    def _head(self, stream_id: str) -> tuple[int, datetime | None]:
        rows = self._con.execute(
            "SELECT version, last_timestamp FROM event_streams WHERE stream_id = %s", [stream_id]
        ).fetchall()
        return (rows[0][0], rows[0][1]) if rows else (0, None)

    def _already_stored(self, stream_id: str, ids: list[str]) -> bool:
        """True if every id is stored in this stream; raise if only some are."""
        found = self._con.execute(
            "SELECT event_id::text, stream_id FROM event_store WHERE event_id = ANY(%s::uuid[])",
            [ids],
        ).fetchall()
        return batch.is_resend(stream_id, ids, found)

    # -- reading -----------------------------------------------------------------------
    def version(self, stream_id: str) -> int:
        """The stream's current version; 0 if it does not exist."""
        check_stream_id(stream_id)
        with self._lock:
            return self._head(stream_id)[0]

    def read_stream(
        self, stream_id: str, *, to_version: int | None = None, as_of: datetime | None = None
    ) -> list[Event]:
        """The stream's events in version order, up to a version and/or a time."""
        query, params = reads.stream_query(_DIALECT, stream_id, to_version, as_of)
        with self._lock, collector_paused():
            rows = self._con.execute(query, params).fetchall()
            events = events_from_rows(rows, repeat(stream_id))
            if not rows and self._head(stream_id)[0] == 0:
                raise StreamNotFound(stream_id)
        return events

    def read_all(
        self, *, after: int = 0, event_types: Sequence[str] | None = None, limit: int | None = None
    ) -> list[Event]:
        """Events in commit order with ``position > after``, optionally of some types."""
        query, params = reads.all_query(_DIALECT, self.event_types, after, event_types, limit)
        with self._lock, collector_paused():
            rows = self._con.execute(query, params).fetchall()
            return events_from_rows(rows, [row[7] for row in rows])

    def sql(self, query: str, params: Sequence[Any] | None = None) -> pd.DataFrame:
        """Run a query (values as ``%s`` parameters, psycopg's style) and return a DataFrame."""
        if not isinstance(query, str) or not query.strip():
            raise InvalidArgument(f"the query must be SQL text, got {shown(query)}")
        if params is not None and not isinstance(params, list | tuple | dict):
            raise InvalidArgument(
                f"params must be a list of values for the query's %s, got {shown(params)}"
            )
        with self._lock:
            try:
                cursor = self._con.execute(query, params or [])
            except psycopg.Error as exc:
                first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
                raise InvalidArgument(f"{first}; the query was {shown(query)}") from None
            columns = [c.name for c in cursor.description or []]
            return pd.DataFrame(cursor.fetchall() if cursor.description else [], columns=columns)

    def info(self) -> dict[str, Any]:
        """Streams, events, counts per type and the time range, as plain values."""
        with self._lock:
            totals = postgres_bulk.first_row(self._con, reads.INFO_TOTALS_SQL)
            return reads.info(totals, self._con.execute(reads.INFO_TYPES_SQL).fetchall())

    # -- bulk --------------------------------------------------------------------------
    def load_parquet(self, path: str | Path) -> int:
        """Append every event of a Parquet file, checked like ``append``; all or nothing."""
        file = files.as_path(path, "the Parquet file's path")
        with self._lock:
            return postgres_bulk.load_parquet(self._con, file, self.event_types, self.load_checks)

    def export_parquet(self, path: str | Path) -> int:
        """Write the whole log, in commit order, to a Parquet file; return the row count."""
        file = files.as_path(path, "the Parquet file's path")
        with self._lock:
            return postgres_bulk.export_parquet(self._con, file)
