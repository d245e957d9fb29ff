"""The event store: one append-only DuckDB table on the canonical schema.

``event_store`` holds exactly the canonical columns plus ``position``, the global
gap-free commit order. A typed companion, ``event_typed`` (see ``eventsim.store.companion``),
repeats each event's scalar columns and amount for the SQL folds. Two small side tables
make the write path cheap without scanning the log: ``event_streams`` (each stream's
head: version and last timestamp, like Marten's ``mt_streams``) and ``event_log`` (the
last position). All change in the same transaction as the events they describe.

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

import gc
import json
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from datetime import UTC, datetime, timedelta
from itertools import repeat
from pathlib import Path
from typing import Any, Self
from zoneinfo import ZoneInfo

import duckdb
import pandas as pd

from eventsim.errors import (
    ConcurrencyError,
    DuplicateEventId,
    InvalidArgument,
    StreamNotFound,
)
from eventsim.events import (
    DomainEvent,
    Event,
    EventTypes,
    NewEvent,
    check_stream_id,
    check_timestamp,
)
from eventsim.store import batch, companion, parquet

SCHEMA_SQL = """
CREATE TABLE IF NOT EXISTS event_store (
    stream_id  VARCHAR     NOT NULL,
    version    INTEGER     NOT NULL,
    event_id   UUID        NOT NULL UNIQUE,
    event_type VARCHAR     NOT NULL,
    data       JSON        NOT NULL,
    metadata   JSON,
    timestamp  TIMESTAMPTZ NOT NULL,
    position   BIGINT      NOT NULL,
    PRIMARY KEY (stream_id, version)
);
CREATE TABLE IF NOT EXISTS event_streams (
    stream_id      VARCHAR PRIMARY KEY,
    version        INTEGER     NOT NULL,
    last_timestamp TIMESTAMPTZ NOT NULL
);
CREATE TABLE IF NOT EXISTS event_log (position BIGINT NOT NULL);
INSERT INTO event_log SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM event_log);
"""

COLUMNS = "stream_id, version, event_id, event_type, data, metadata, timestamp, position"
# What the readers fetch: the time as microseconds since the epoch, which Python turns into
# a datetime several times faster than DuckDB's own TIMESTAMPTZ conversion does; no
# stream_id when the caller named the stream (each column fetched costs a column scan).
READ_COLUMNS = "version, event_id, event_type, data, metadata, epoch_us(timestamp), position"
# DuckDB hands back times in this zone (the connection's TimeZone); the same object keeps
# an Event's timestamp, its repr and its isoformat exactly as before.
_UTC = ZoneInfo("UTC")
_EPOCH = datetime(1970, 1, 1, tzinfo=_UTC)

# One writer at a time per database file in this process: DuckDB resolves concurrent
# transactions optimistically, so two appends racing on the log head would fail late.
_FILE_LOCKS: dict[str, threading.RLock] = {}
_FILE_LOCKS_GUARD = threading.Lock()


def _write_lock(path: str) -> threading.RLock:
    if path == ":memory:":
        return threading.RLock()
    key = str(Path(path).resolve())
    with _FILE_LOCKS_GUARD:
        return _FILE_LOCKS.setdefault(key, threading.RLock())


class DuckDBEventStore:
    """An event store in a DuckDB file, or in memory (the default).

    ``event_types`` is the registry of the event types it accepts (the kernel knows no
    domain: ``eventsim.catalog.EventStore`` hands it the course's); ``load_checks`` maps
    an event type to a SQL condition that vouches for a loaded payload (see
    ``eventsim.store.parquet``).

    Use one ``EventStore`` per thread; several may open the same file in one process.
    ``clock`` and ``new_id`` supply the timestamp and id of events that bring none;
    lessons and tests pass ``TickingClock`` and ``seeded_ids`` to stay reproducible.
    """

    def __init__(
        self,
        path: str | Path = ":memory:",
        *,
        clock: Callable[[], datetime] | None = None,
        new_id: Callable[[], uuid.UUID] = uuid.uuid4,
        event_types: EventTypes,
        load_checks: Mapping[str, str] | None = None,
    ) -> None:
        self.path = str(path)
        _refuse_foreign_file(self.path)
        try:
            self._con = duckdb.connect(self.path)
            self._con.execute("SET TimeZone = 'UTC'")
            self._con.execute(SCHEMA_SQL)
            self._con.execute(companion.SCHEMA_SQL)
        except duckdb.Error as exc:
            raise InvalidArgument(
                f"cannot open {self.path!r} as an event store: {str(exc).splitlines()[0]}; "
                "pass a new file name, an existing eventsim DuckDB file, or ':memory:'"
            ) from None
        self._lock = _write_lock(self.path)
        self._clock = clock or (lambda: datetime.now(UTC))
        self._new_id = new_id
        self.event_types = event_types
        self.load_checks = dict(load_checks or {})
        with self._lock:
            companion.rebuild_if_stale(self._con, self.event_types)

    # -- lifecycle ---------------------------------------------------------------------
    def close(self) -> None:
        self._con.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.path!r})"

    @property
    def connection(self) -> duckdb.DuckDBPyConnection:
        """The DuckDB connection, for SQL the helpers do not cover."""
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

        ``expected_version``: 0 means the stream must not exist yet, n means it must be
        at version n exactly, ``None`` skips the check (unsafe: a stale writer is not
        noticed). Re-sending a batch that is already stored is a no-op.
        """
        check_stream_id(stream_id)
        _check_expected_version(expected_version)
        rows = batch.prepare(events, self.event_types, self._clock, self._new_id)
        ids = [row.event_id for row in rows]
        with self._lock, transaction(self._con):
            current, last_time = self._head(stream_id)
            if expected_version is not None and expected_version != current:
                if self._already_stored(stream_id, ids):
                    return current
                raise ConcurrencyError(stream_id, expected_version, current)
            batch.check_time_order(rows, last_time)
            try:
                self._insert(stream_id, current, rows)
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
        if not found:
            return False
        in_stream = {event_id for event_id, stream in found if stream == stream_id}
        if len(in_stream) == len(ids):
            return True
        stored = sorted(event_id for event_id, _ in found)
        streams = sorted({stream for _, stream in found})
        raise DuplicateEventId(
            f"{len(stored)} of the batch's {len(ids)} event ids are already stored "
            f"(e.g. {stored[0]}, in {streams}): a re-send must repeat the original batch "
            "exactly, to the same stream; new events need new ids"
        )

    def _insert(self, stream_id: str, current: int, rows: list[batch.Row]) -> None:
        (position,) = self._con.execute("SELECT position FROM event_log").fetchall()[0]
        n = len(rows)
        if n == 1:  # the common command: plain parameters are cheaper than an Arrow table
            row = rows[0]
            self._con.execute(
                f"INSERT INTO event_store ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",  # noqa: S608 (constant)
                [
                    stream_id,
                    current + 1,
                    row.event_id,
                    row.event_type,
                    row.data,
                    row.metadata,
                    row.timestamp,
                    position + 1,
                ],
            )
            companion.insert_row(
                self._con,
                self.event_types,
                stream_id,
                current + 1,
                row.event_type,
                row.timestamp,
                row.data,
            )
            self._set_heads(stream_id, current, rows, position)
            return
        table = batch.to_table(stream_id, current + 1, position + 1, rows)
        self._con.register("_append_batch", table)
        try:
            self._con.execute(f"INSERT INTO event_store SELECT {COLUMNS} FROM _append_batch")  # noqa: S608 (constant)
            companion.insert_from(self._con, "batch", self.event_types)
        finally:
            # After a failed insert DuckDB refuses all but a rollback, even an unregister;
            # the caller rolls back, and the next append's register replaces the view.
            with suppress(duckdb.TransactionException):
                self._con.unregister("_append_batch")
        self._set_heads(stream_id, current, rows, position)

    def _set_heads(
        self, stream_id: str, current: int, rows: list[batch.Row], position: int
    ) -> None:
        """The stream's new head and the log's new last position."""
        n = len(rows)
        # A plain UPDATE (a key lookup) or INSERT is cheaper than an upsert's conflict check.
        head = [current + n, rows[-1].timestamp, stream_id]
        if current:
            self._con.execute(
                "UPDATE event_streams SET version = ?, last_timestamp = ? WHERE stream_id = ?", head
            )
        else:
            self._con.execute(
                "INSERT INTO event_streams (version, last_timestamp, stream_id) VALUES (?, ?, ?)",
                head,
            )
        self._con.execute("UPDATE event_log SET position = ?", [position + n])

    # -- reading -----------------------------------------------------------------------
    def version(self, stream_id: str) -> int:
        """The stream's current version; 0 if it does not exist."""
        check_stream_id(stream_id)
        return self._head(stream_id)[0]

    def read_stream(
        self, stream_id: str, *, to_version: int | None = None, as_of: datetime | None = None
    ) -> list[Event]:
        """The stream's events in version order, up to a version and/or a time."""
        check_stream_id(stream_id)
        where: list[str] = ["stream_id = ?"]
        params: list[object] = [stream_id]
        if to_version is not None:
            where.append("version <= ?")
            params.append(_positive("to_version", to_version))
        if as_of is not None:
            where.append("timestamp <= ?")
            params.append(check_timestamp(as_of, "as_of"))
        query = (
            f"SELECT {READ_COLUMNS} FROM event_store WHERE {' AND '.join(where)} ORDER BY version"  # noqa: S608 (fixed fragments)
        )
        with _collector_paused():
            rows = self._con.execute(query, params).fetchall()
            events = _events(rows, repeat(stream_id))
        # The head is asked only when nothing came back: one query on the common path.
        if not rows and self._head(stream_id)[0] == 0:
            raise StreamNotFound(stream_id)
        return events

    def read_all(
        self, *, after: int = 0, event_types: Sequence[str] | None = None, limit: int | None = None
    ) -> list[Event]:
        """Events in commit order with ``position > after``, optionally of some types."""
        if isinstance(after, bool) or not isinstance(after, int) or after < 0:
            raise InvalidArgument(f"after must be a position >= 0, got {after!r}")
        where: list[str] = ["position > ?"]
        params: list[object] = [after]
        if event_types is not None:
            if isinstance(event_types, str):
                raise InvalidArgument(
                    f"event_types must be a list of names, got the string {event_types!r}"
                )
            for name in event_types:
                self.event_types.get(name)
            where.append("list_contains(?, event_type)")
            params.append(list(event_types))
        columns = f"{READ_COLUMNS}, stream_id"
        query = f"SELECT {columns} FROM event_store WHERE {' AND '.join(where)} ORDER BY position"  # noqa: S608 (fixed fragments)
        if limit is not None:
            query += " LIMIT ?"
            params.append(_positive("limit", limit))
        with _collector_paused():
            rows = self._con.execute(query, params).fetchall()
            return _events(rows, [row[7] for row in rows])

    def sql(self, query: str, params: Sequence[Any] | None = None) -> pd.DataFrame:
        """Run a query (values as ``?`` parameters, never pasted in) and return a DataFrame."""
        return self._con.execute(query, params or []).df()

    def info(self) -> dict[str, Any]:
        """Streams, events, counts per type and the time range, as plain values."""
        streams, events, first, last = self._con.execute(
            "SELECT (SELECT count(*) FROM event_streams), count(*), min(timestamp), max(timestamp) "
            "FROM event_store"
        ).fetchall()[0]
        types = dict(
            self._con.execute(
                "SELECT event_type, count(*) FROM event_store GROUP BY 1 ORDER BY 2 DESC, 1"
            ).fetchall()
        )
        return {
            "streams": streams,
            "events": events,
            "event_types": types,
            "first": first,
            "last": last,
        }

    # -- bulk --------------------------------------------------------------------------
    def load_parquet(self, path: str | Path) -> int:
        """Append every event of a Parquet file, checked like ``append``; all or nothing."""
        with self._lock:
            return parquet.load_parquet(self._con, Path(path), self.event_types, self.load_checks)

    def export_parquet(self, path: str | Path) -> int:
        """Write the whole log, in commit order, to a Parquet file; return the row count."""
        return parquet.export_parquet(self._con, Path(path))


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """All the statements in the block commit together, or none does (any exception)."""
    con.begin()
    try:
        yield
    except BaseException:
        con.rollback()
        raise
    con.commit()


def remove_streams(
    con: duckdb.DuckDBPyConnection, stream_ids: Sequence[str], *, own_transaction: bool = True
) -> int:
    """Delete whole streams from ``event_store`` and its companion; return the events removed.

    The one sanctioned deletion, for archiving: the log is otherwise append-only. The
    streams' heads stay in ``event_streams``, so an archived stream is not re-created from
    version 1 and its versions never repeat. Runs in a transaction of its own; inside the
    caller's (so that the archive's own writes commit with it) pass
    ``own_transaction=False``.

    >>> from eventsim.domains.bank import AccountOpened
    >>> types = EventTypes({"AccountOpened": AccountOpened})
    >>> with DuckDBEventStore(event_types=types) as store:
    ...     store.append("account-1", [NewEvent("AccountOpened", {"owner": "Ada"})],
    ...                  expected_version=0)
    ...     remove_streams(store.connection, ["account-1"])
    1
    1
    """
    if isinstance(stream_ids, str) or not all(isinstance(s, str) for s in stream_ids):
        raise InvalidArgument(f"stream_ids must be a list of stream ids, got {stream_ids!r}")
    ids = list(stream_ids)
    if own_transaction:
        con.begin()
    try:
        # DuckDB answers a DELETE with the number of rows it deleted.
        (removed,) = con.execute(
            "DELETE FROM event_store WHERE list_contains(?, stream_id)", [ids]
        ).fetchall()[0]
        con.execute("DELETE FROM event_typed WHERE list_contains(?, stream_id)", [ids])
        if own_transaction:
            con.commit()
    except BaseException:
        if own_transaction:
            con.rollback()
        raise
    return int(removed)


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
            f"{path!r} is not a DuckDB database file; pass a new file name, an existing "
            "eventsim DuckDB file, or ':memory:' (to load Parquet, use load_parquet)"
        )


def _check_expected_version(expected: object) -> None:
    if expected is not None and (
        isinstance(expected, bool) or not isinstance(expected, int) or expected < 0
    ):
        raise InvalidArgument(
            f"expected_version must be None or a version >= 0 (0: a new stream), got {expected!r}"
        )


def _positive(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidArgument(f"{name} must be a whole number >= 1, got {value!r}")
    return value


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause Python's cycle collector while rows become Events.

    Tens of thousands of new dicts and Events would set it off again and again, each
    time walking every object of the process: a third of a 10k-event read. Nothing built
    here forms a cycle, so nothing is left for it to find; it resumes afterwards.
    """
    if not gc.isenabled():  # paused by the caller (or another read): leave it to them
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _events(rows: list[tuple[Any, ...]], stream_ids: Iterable[str]) -> list[Event]:
    """Events from rows of ``READ_COLUMNS`` (anything after them is ignored)."""
    data = _parse_all([row[3] for row in rows])
    epoch, micro, loads = _EPOCH, timedelta, json.loads
    return [
        Event(
            stream_id,
            row[0],
            row[1],
            row[2],
            payload,
            # Most events carry no metadata: "{}" or NULL need no parser.
            loads(row[4]) if row[4] and row[4] != "{}" else {},
            epoch + micro(microseconds=row[5]),
            row[6],
        )
        for row, payload, stream_id in zip(rows, data, stream_ids, strict=False)
    ]


def _parse_all(texts: list[str]) -> list[Any]:
    """Parse many JSON texts; one parse of them as a JSON array is several times cheaper."""
    try:
        parsed: list[Any] = json.loads("[" + ",".join(texts) + "]")
    except RecursionError:  # a payload nested at the limit, one level deeper in the array
        parsed = [json.loads(text) for text in texts]
    return parsed
