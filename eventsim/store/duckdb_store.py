"""The event store on DuckDB: one append-only table on the canonical schema.

This module is the contract's logic: checks, the writer lock, expected versions, re-sent
batches, reads. The tables are in ``eventsim.store.schema``; how a batch is inserted
(``eventsim.store.insert``) and how rows become Events (``eventsim.store.decode``) are
apart, because that is where the speed tricks live.

The kernel knows no domain; it is handed the event types it accepts:

>>> from dataclasses import dataclass
>>> from eventsim.events import DomainEvent, EventTypes, NewEvent
>>> @dataclass(frozen=True)
... class Noted(DomainEvent):
...     text: str
>>> NOTES = EventTypes({"Noted": Noted})
>>> with DuckDBEventStore(event_types=NOTES) as store:
...     store.append("note-1", [NewEvent("Noted", {"text": "hello"})], expected_version=0)
1
"""

from __future__ import annotations

import functools
import threading
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from itertools import repeat
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, TypeVar

import duckdb
import pandas as pd

from eventsim.errors import (
    ConcurrencyError,
    InvalidArgument,
    StreamNotFound,
    WriteConflict,
    shown,
)
from eventsim.events import (
    DomainEvent,
    Event,
    EventTypes,
    NewEvent,
    check_stream_id,
)
from eventsim.store import batch, companion, files, parquet, reads
from eventsim.store.arguments import check_expected_version
from eventsim.store.contract import ClosesOnExit
from eventsim.store.decode import READ_COLUMNS, collector_paused, events_from_rows
from eventsim.store.ids import time_ordered_id
from eventsim.store.insert import insert_events
from eventsim.store.schema import SCHEMA_SQL, transaction

_DIALECT = reads.Dialect(
    param="?", read_columns=READ_COLUMNS, type_in_list="list_contains(?, event_type)"
)
P = ParamSpec("P")
R = TypeVar("R")


def _one_call_at_a_time(
    method: Callable[Concatenate[DuckDBEventStore, P], R],
) -> Callable[Concatenate[DuckDBEventStore, P], R]:
    """A store's calls run one at a time, so one store can be shared by threads.

    A DuckDB connection refuses a second call while one runs ("connection is busy"), and a
    transaction begun by one thread would take in another thread's statements.
    """

    @functools.wraps(method)
    def serialized(self: DuckDBEventStore, /, *args: P.args, **kwargs: P.kwargs) -> R:
        with self._calls:
            return method(self, *args, **kwargs)

    return serialized


class DuckDBEventStore(ClosesOnExit):
    """An event store in a DuckDB file, or in memory (the default).

    ``event_types`` is the registry of the event types it accepts (the kernel knows no
    domain: ``eventsim.catalog.EventStore`` hands it the course's); ``load_checks`` maps
    an event type to a SQL condition that vouches for a loaded payload (see
    ``eventsim.store.parquet``).

    A store may be shared by threads: its calls run one at a time, each in its own
    transaction. Several stores may open one file in a process, under any of its names.
    ``clock`` and ``new_id`` supply the timestamp and id of events that bring none;
    lessons and tests pass ``TickingClock`` and ``seeded_ids`` to stay reproducible.
    """

    PARAM = "?"  # the placeholder sql() takes, DuckDB's

    def __init__(
        self,
        path: str | Path = ":memory:",
        *,
        clock: Callable[[], datetime] | None = None,
        new_id: Callable[[], uuid.UUID] = time_ordered_id,
        event_types: EventTypes,
        load_checks: Mapping[str, str] | None = None,
    ) -> None:
        self.path = files.as_path(path, "the store's path")
        try:
            _refuse_foreign_file(self.path)
            # Every name of one file shares one database and one writer lock (files.py).
            self._con, self._file = files.connect(self.path)
        except (duckdb.Error, OSError) as exc:
            raise InvalidArgument(
                f"cannot open {shown(self.path)} as an event store: {_first_line(exc)}; "
                "pass a new file name, an existing eventsim DuckDB file, or ':memory:'"
            ) from None
        try:
            self._con.execute("SET TimeZone = 'UTC'")
            self._con.execute(SCHEMA_SQL)
            self._con.execute(companion.SCHEMA_SQL)
        except duckdb.Error as exc:
            self._con.close()
            raise InvalidArgument(
                f"cannot open {shown(self.path)} as an event store: {_first_line(exc)}; "
                "pass a new file name, an existing eventsim DuckDB file, or ':memory:'"
            ) from None
        # The writer lock: the file's, shared by every store on it; a store's own in memory.
        self._lock = self._file.lock if self._file else threading.RLock()
        self._calls = threading.RLock()  # this store's calls, one at a time
        self._clock = clock or (lambda: datetime.now(UTC))
        self._new_id = new_id
        self.event_types = event_types
        self.load_checks = dict(load_checks or {})
        with self._lock:
            companion.rebuild_if_stale(self._con, self.event_types)

    # -- lifecycle ---------------------------------------------------------------------
    @_one_call_at_a_time
    def close(self) -> None:
        self._con.close()

    @property
    def connection(self) -> duckdb.DuckDBPyConnection:
        """The DuckDB connection, for SQL the helpers do not cover (one thread at a time:
        unlike the store's methods, it is not guarded)."""
        return self._con

    @contextmanager
    def reading(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """The connection, held like one of the store's calls: for reads in SQL the methods do
        not cover (``replay.state_at``'s), safe beside other threads' calls on this store."""
        with self._calls:
            yield self._con

    # -- writing -----------------------------------------------------------------------
    @_one_call_at_a_time
    def append(
        self,
        stream_id: str,
        events: Sequence[NewEvent | DomainEvent],
        *,
        expected_version: int | None,
    ) -> int:
        """Append ``events`` to the stream atomically and return its new version.

        ``expected_version``: 0 means the stream must not exist yet, n means it must be
        at version n exactly, ``None`` skips the check (unsafe: a stale writer is not
        noticed). Re-sending a batch that is already stored is a no-op.
        """
        check_stream_id(stream_id)
        check_expected_version(expected_version)
        prepared = batch.prepare(events, self.event_types, self._new_id)
        try:
            return self._append(stream_id, prepared, expected_version)
        except duckdb.TransactionException as exc:  # rolled back; raw SQL past the lock
            raise WriteConflict(stream_id, self._head(stream_id)[0], _first_line(exc)) from None

    def _append(
        self, stream_id: str, prepared: list[batch.Row], expected_version: int | None
    ) -> int:
        ids = [row.event_id for row in prepared]
        with self._lock, transaction(self._con):
            current, last_time = self._head(stream_id)
            rows = batch.stamp(prepared, self._clock, last_time)
            if expected_version is not None and expected_version != current:
                if self._already_stored(stream_id, ids):
                    return current
                raise ConcurrencyError(stream_id, expected_version, current)
            batch.check_time_order(rows, last_time)
            try:
                insert_events(self._con, stream_id, current, rows)
            except duckdb.ConstraintException:
                self._con.rollback()
                self._con.begin()
                if self._already_stored(stream_id, ids):
                    return current
                raise  # not an id clash: let DuckDB's own message through
            return current + len(rows)

    def _head(self, stream_id: str) -> tuple[int, datetime | None]:
        rows = self._con.execute(
            "SELECT version, last_timestamp FROM event_streams WHERE stream_id = ?", [stream_id]
        ).fetchall()
        return (rows[0][0], rows[0][1]) if rows else (0, None)

    def _already_stored(self, stream_id: str, ids: list[str]) -> bool:
        """True if every id is stored in this stream; raise if only some are."""
        found = self._con.execute(
            "SELECT CAST(event_id AS VARCHAR), stream_id FROM event_store "
            "WHERE event_id IN (SELECT CAST(unnest(?) AS UUID))",
            [ids],
        ).fetchall()
        return batch.is_resend(stream_id, ids, found)

    # -- reading -----------------------------------------------------------------------
    @_one_call_at_a_time
    def version(self, stream_id: str) -> int:
        """The stream's current version; 0 if it does not exist."""
        check_stream_id(stream_id)
        return self._head(stream_id)[0]

    @_one_call_at_a_time
    def read_stream(
        self, stream_id: str, *, to_version: int | None = None, as_of: datetime | None = None
    ) -> list[Event]:
        """The stream's events in version order, up to a version and/or a time."""
        query, params = reads.stream_query(_DIALECT, stream_id, to_version, as_of)
        with collector_paused():
            rows = self._con.execute(query, params).fetchall()
            events = events_from_rows(rows, repeat(stream_id))
        # The head is asked only when nothing came back: one query on the common path.
        if not rows and self._head(stream_id)[0] == 0:
            raise StreamNotFound(stream_id)
        return events

    @_one_call_at_a_time
    def read_all(
        self, *, after: int = 0, event_types: Sequence[str] | None = None, limit: int | None = None
    ) -> list[Event]:
        """Events in commit order with ``position > after``, optionally of some types."""
        query, params = reads.all_query(_DIALECT, self.event_types, after, event_types, limit)
        with collector_paused():
            rows = self._con.execute(query, params).fetchall()
            return events_from_rows(rows, [row[7] for row in rows])

    @_one_call_at_a_time
    def sql(self, query: str, params: Sequence[Any] | None = None) -> pd.DataFrame:
        """Run a query (values as ``?`` parameters, never pasted in) and return a DataFrame."""
        if not isinstance(query, str) or not query.strip():
            raise InvalidArgument(f"the query must be SQL text, got {shown(query)}")
        if params is not None and not isinstance(params, list | tuple | dict):
            raise InvalidArgument(
                f"params must be a list of values for the query's ?, got {shown(params)}"
            )
        try:
            result = self._con.execute(query, params or [])
        except duckdb.Error as exc:
            raise InvalidArgument(f"{_first_line(exc)}; the query was {shown(query)}") from None
        if result is None:  # nothing but comments or semicolons
            raise InvalidArgument(f"the query {shown(query)} holds no statement")
        return result.df()

    @_one_call_at_a_time
    def info(self) -> dict[str, Any]:
        """Streams, events, counts per type and the time range, as plain values."""
        totals = self._con.execute(reads.INFO_TOTALS_SQL).fetchall()[0]
        return reads.info(totals, self._con.execute(reads.INFO_TYPES_SQL).fetchall())

    # -- bulk --------------------------------------------------------------------------
    @_one_call_at_a_time
    def load_parquet(self, path: str | Path) -> int:
        """Append every event of a Parquet file, checked like ``append``; all or nothing."""
        file = files.as_path(path, "the Parquet file's path")
        with self._lock:
            return parquet.load_parquet(self._con, file, self.event_types, self.load_checks)

    @_one_call_at_a_time
    def export_parquet(self, path: str | Path) -> int:
        """Write the whole log, in commit order, to a Parquet file; return the row count."""
        file = files.as_path(path, "the Parquet file's path")
        own = self._file.name if self._file else None
        return parquet.export_parquet(self._con, file, own)


def _first_line(exc: BaseException) -> str:
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def _refuse_foreign_file(path: str) -> None:
    """Refuse an existing file that is not a DuckDB database (DuckDB would open a Parquet
    or CSV file as an in-memory view, and the events would silently go nowhere)."""
    file = Path(path)
    if path == ":memory:" or not file.is_file() or file.stat().st_size == 0:
        return
    with file.open("rb") as handle:
        header = handle.read(12)
    if header[8:12] != b"DUCK":
        raise InvalidArgument(
            f"{shown(path)} is not a DuckDB database file; pass a new file name, an existing "
            "eventsim DuckDB file, or ':memory:' (to load Parquet, use load_parquet)"
        )
