"""Projections: read models fed by the log, each with a checkpoint stored beside it.

A projection folds events into a table that answers one kind of question. The runner
keeps, per projection, the position of the last event it folded in
``projection_checkpoints``, in the store's own DuckDB database, and commits each batch's
read-model changes and the new checkpoint in ONE transaction: a crash between the two
cannot happen, so no event is ever folded twice or skipped.

The runner knows a projection only through ``Projection``, a protocol: the event types it
handles, how it opens its tables, folds a ``Batch`` and resets. Two kinds keep it:

- ``order_views.SqlProjection``: set-based SQL over a range of positions, for speed;
- ``PythonProjection``: one Python handler per event type, in a dict, for learning. Its
  rows live in a dict and are saved as JSON in ``projection_rows`` with the checkpoint.

Events come two ways: ``run()`` pulls them from the log in batches; ``handle(event)``
takes one pushed by a message broker (duplicates are skipped by position; a gap is
filled by fetching the missing positions from the store, the source of truth).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Sequence
from contextlib import suppress
from dataclasses import dataclass
from typing import Any, Protocol

import duckdb
import pandas as pd

from eventsim.catalog import EventStore
from eventsim.errors import InvalidArgument
from eventsim.events import Event, to_jsonable
from eventsim.store import transaction

CHECKPOINTS_SQL = """
CREATE TABLE IF NOT EXISTS projection_checkpoints (
    name VARCHAR PRIMARY KEY, position BIGINT NOT NULL)"""
ROWS_SQL = """
CREATE TABLE IF NOT EXISTS projection_rows (
    projection VARCHAR NOT NULL, key VARCHAR NOT NULL, value JSON NOT NULL,
    PRIMARY KEY (projection, key))"""
PUSHED = "pushed_events"  # the name under which handle() shows its events to SQL
SOURCES = ("event_store", PUSHED)  # the tables a SQL projection may read events from


class UnknownProjection(InvalidArgument):
    """A projection name the runner does not keep."""


@dataclass(frozen=True)
class Batch:
    """The events one projection folds: ``after < position <= upto``, of its types.

    Offered two ways: a SQL projection reads the table named ``source`` (a constant the
    runner picks) with the range as parameters; a Python one calls ``events()``, which
    reads the log once per batch for every projection that asks.
    """

    source: str
    after: int
    upto: int
    event_types: frozenset[str]
    fetch: Callable[[], list[Event]]

    def events(self) -> list[Event]:
        return [
            e
            for e in self.fetch()
            if self.after < e.position <= self.upto and e.event_type in self.event_types
        ]


class Projection(Protocol):
    """What the runner needs of a read model; it calls these inside its transactions."""

    @property
    def name(self) -> str:
        """Names its checkpoint; distinct per runner."""

    @property
    def event_types(self) -> frozenset[str]:
        """The event types it handles; its batches hold only these."""

    def open(self, con: duckdb.DuckDBPyConnection) -> None:
        """Create its tables if missing and load what it keeps in memory from them.

        Called when the runner starts and after a batch rolled back.
        """

    def apply(self, con: duckdb.DuckDBPyConnection, batch: Batch) -> None:
        """Fold the batch into its tables (the runner then moves the checkpoint)."""

    def reset(self, con: duckdb.DuckDBPyConnection) -> None:
        """Empty the read model (the runner sets the checkpoint back to 0)."""

    def frame(self, con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
        """The read model as a sorted DataFrame."""


class PythonProjection:
    """A read model written in Python: ``handlers`` maps an event type to a function.

    Subclasses set ``name`` and fill ``self.handlers`` in ``__init__``; each handler
    updates ``self.rows`` (key -> a dict of JSON values). The runner saves the rows with
    the checkpoint, in one transaction; it rewrites all of them per batch, which suits
    lessons (thousands of rows), not millions.
    """

    name = "python_projection"

    def __init__(self) -> None:
        self.rows: dict[str, dict[str, Any]] = {}
        self.handlers: dict[str, Callable[[Event], None]] = {}

    @property
    def event_types(self) -> frozenset[str]:
        return frozenset(self.handlers)

    def handle(self, event: Event) -> None:
        handler = self.handlers.get(event.event_type)
        if handler is not None:
            handler(event)

    def open(self, con: duckdb.DuckDBPyConnection) -> None:
        con.execute(ROWS_SQL)
        rows = con.execute(
            "SELECT key, value FROM projection_rows WHERE projection = ?", [self.name]
        ).fetchall()
        self.rows = {key: json.loads(value) for key, value in rows}

    def apply(self, con: duckdb.DuckDBPyConnection, batch: Batch) -> None:
        for event in batch.events():
            self.handle(event)
        con.execute("DELETE FROM projection_rows WHERE projection = ?", [self.name])
        rows = [
            [self.name, key, json.dumps(to_jsonable(row), sort_keys=True)]
            for key, row in self.rows.items()
        ]
        if rows:
            con.executemany("INSERT INTO projection_rows VALUES (?, ?, ?)", rows)

    def reset(self, con: duckdb.DuckDBPyConnection) -> None:
        con.execute("DELETE FROM projection_rows WHERE projection = ?", [self.name])
        self.rows = {}

    def frame(self, con: duckdb.DuckDBPyConnection | None = None) -> pd.DataFrame:
        """The rows as a DataFrame sorted by key (the key is the first column)."""
        records = [{"key": key, **row} for key, row in sorted(self.rows.items())]
        return pd.DataFrame(records) if records else pd.DataFrame({"key": []})


class OrdersPerCustomer(PythonProjection):
    """An example: per customer, the orders placed and their total value."""

    name = "orders_per_customer"

    def __init__(self) -> None:
        super().__init__()
        self.handlers = {"OrderPlaced": self.order_placed}

    def order_placed(self, event: Event) -> None:
        row = self.rows.setdefault(event.data["customer_id"], {"orders": 0, "placed": 0.0})
        row["orders"] += 1
        row["placed"] = round(row["placed"] + event.data["total"], 2)


class ProjectionRunner:
    """Keeps projections up to date with the store, batch by batch, from their checkpoints.

    ``batch_size`` bounds the positions folded per transaction (memory, and how much
    work a crash throws away). Measured on 2 cores: the three order views rebuild from
    1.2 million events in under 1 s, and from 10 million in about 7 s with the default
    (more when other work shares the machine).
    """

    def __init__(
        self,
        store: EventStore,
        projections: Sequence[Projection],
        *,
        batch_size: int = 5_000_000,
    ) -> None:
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise InvalidArgument(f"batch_size must be a whole number >= 1, got {batch_size!r}")
        names = [p.name for p in projections]
        if not names or len(set(names)) < len(names):
            raise InvalidArgument(
                f"projections must be a non-empty list with distinct names, got {names}"
            )
        self.store, self._con, self.batch_size = store, store.connection, batch_size
        self.projections = {p.name: p for p in projections}
        self.duplicates = 0  # pushed events skipped because they were already folded
        with transaction(self._con):
            self._con.execute(CHECKPOINTS_SQL)
            for p in projections:
                p.open(self._con)
                self._con.execute(
                    "INSERT OR IGNORE INTO projection_checkpoints VALUES (?, 0)", [p.name]
                )

    # -- reading the checkpoints ----------------------------------------------------------
    def checkpoints(self) -> dict[str, int]:
        """Each projection's checkpoint: the position of the last event it folded."""
        rows = self._con.execute("SELECT name, position FROM projection_checkpoints").fetchall()
        stored = dict(rows)
        return {name: int(stored[name]) for name in self.projections}

    def checkpoint(self, name: str) -> int:
        return self.checkpoints()[self._get(name).name]

    def head(self) -> int:
        """The position of the last event in the store (0 when empty)."""
        ((head,),) = self._con.execute(
            "SELECT coalesce(max(position), 0) FROM event_store"
        ).fetchall()
        return int(head)

    def lag(self) -> dict[str, int]:
        """Events behind the head, per projection: the metric to watch and alert on."""
        head = self.head()
        return {name: head - position for name, position in self.checkpoints().items()}

    def frame(self, name: str) -> pd.DataFrame:
        """A projection's read model as a sorted DataFrame."""
        return self._get(name).frame(self._con)

    # -- pulling from the log ---------------------------------------------------------------
    def run(self, *, until: int | None = None) -> int:
        """Catch every projection up to ``until`` (default: the head); return positions folded.

        >>> from eventsim import EventStore, orders
        >>> from eventsim.cqrs.order_views import ORDER_VIEWS
        >>> store = EventStore()
        >>> _ = store.append("order-1", [orders.PaymentFailed("card declined")], expected_version=0)
        >>> runner = ProjectionRunner(store, ORDER_VIEWS)
        >>> runner.run(), runner.lag()
        (1, {'order_summary': 0, 'revenue_by_day': 0, 'shipping_manifest': 0})
        """
        head = self.head()
        if until is not None:
            if isinstance(until, bool) or not isinstance(until, int) or until < 0:
                raise InvalidArgument(f"until must be a position >= 0, got {until!r}")
            head = min(head, until)
        start = min(self.checkpoints().values())
        for after in range(start, head, self.batch_size):
            upto = min(after + self.batch_size, head)
            self._commit(upto, "event_store", self._read)
        return max(head - start, 0)

    def rebuild(self, name: str, *, until: int | None = None) -> int:
        """Clear one read model, set its checkpoint to 0, and replay the log into it."""
        projection = self._get(name)
        try:
            with transaction(self._con):
                projection.reset(self._con)
                self._con.execute(
                    "UPDATE projection_checkpoints SET position = 0 WHERE name = ?", [name]
                )
        except BaseException:
            projection.open(self._con)
            raise
        return self.run(until=until)

    # -- pushed by a broker -----------------------------------------------------------------
    def handle(self, event: Event) -> None:
        """Fold one pushed event: a subscriber for a message broker (``handler(event)``).

        Idempotent by position: an event at or below every checkpoint is a duplicate,
        counted in ``duplicates`` and skipped. An event past a gap does not wait in a
        buffer: the missing positions are folded from the store first (each batch in its
        own transaction with its checkpoint), then the event; so delivery order does not
        matter, and a crash anywhere in between leaves nothing half-done.
        """
        if not isinstance(event, Event):
            raise InvalidArgument(f"handle takes an eventsim Event, got {type(event).__name__}")
        lowest = min(self.checkpoints().values())
        if event.position <= lowest:
            self.duplicates += 1
            return
        head = self.head()
        if event.position > head + 1:
            raise InvalidArgument(
                f"event at position {event.position} is past a gap the store cannot fill "
                f"(its last position is {head}); a pushed event must be stored first"
            )
        if event.position - lowest > 1:  # a gap: fill it from the log, batch by batch
            self.run(until=event.position - 1)
        self._con.register(PUSHED, _as_frame([event]))
        try:
            self._commit(event.position, PUSHED, lambda low, upto: [event])
        finally:
            with suppress(duckdb.Error):
                self._con.unregister(PUSHED)

    # -- the one transaction per batch ------------------------------------------------------
    def _commit(self, upto: int, source: str, fetch: Callable[[int, int], list[Event]]) -> None:
        """Fold ``(checkpoint, upto]`` into every projection behind it, with the checkpoints.

        ``fetch(low, upto)`` gives the events in ``(low, upto]``; it runs at most once,
        and only if a projection asks for the events as objects.
        """
        checkpoints = self.checkpoints()
        behind = [p for name, p in self.projections.items() if checkpoints[name] < upto]
        low = min((checkpoints[p.name] for p in behind), default=upto)
        events = functools.cache(lambda: fetch(low, upto))
        try:
            with transaction(self._con):
                for projection in behind:
                    after = checkpoints[projection.name]
                    batch = Batch(source, after, upto, projection.event_types, events)
                    projection.apply(self._con, batch)
                    self._con.execute(
                        "UPDATE projection_checkpoints SET position = ? WHERE name = ?",
                        [upto, projection.name],
                    )
        except BaseException:
            for projection in behind:  # memory may hold half a batch: back to the saved state
                projection.open(self._con)
            raise

    def _read(self, after: int, upto: int) -> list[Event]:
        return self.store.read_all(after=after, limit=upto - after)

    def _get(self, name: str) -> Projection:
        if name not in self.projections:
            raise UnknownProjection(
                f"no projection named {name!r}; this runner keeps {sorted(self.projections)}"
            )
        return self.projections[name]


def _as_frame(events: list[Event]) -> pd.DataFrame:
    """Pushed events as rows with the event store's columns, for the SQL projections."""
    return pd.DataFrame(
        {
            "stream_id": [e.stream_id for e in events],
            "version": pd.Series([e.version for e in events], dtype="int32"),
            "event_type": [e.event_type for e in events],
            "data": [json.dumps(e.data) for e in events],
            "timestamp": pd.to_datetime([e.timestamp for e in events], utc=True),
            "position": pd.Series([e.position for e in events], dtype="int64"),
        }
    )
