"""Snapshots: a stream's state saved at a version, so a load folds only the events after it.

A snapshot is a cache, never the truth: the events stay in ``event_store`` and a load is
always "the latest usable snapshot + the fold of the tail". A snapshot newer than the
wanted moment (``to_version``/``as_of``) is not usable, so time travel still works.

>>> from eventsim import EventStore, TickingClock, bank
>>> from datetime import UTC, datetime
>>> store = EventStore(clock=TickingClock(datetime(2024, 3, 1, tzinfo=UTC)))
>>> snapshots = Snapshots(store, every=2, clock=TickingClock(datetime(2024, 3, 2, tzinfo=UTC)))
>>> snapshots.append("account-1", list(long_account(5, seed=1)), expected_version=0)
5
>>> loaded = snapshots.load("account-1")
>>> loaded.snapshot_version, loaded.events_folded, loaded.state.version
(4, 1, 5)
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pandas as pd

from eventsim.catalog import EventStore
from eventsim.domains import DOMAINS, EVENT_TYPES, bank, domain_of, orders
from eventsim.errors import InvalidArgument, StreamNotFound
from eventsim.events import (
    DomainEvent,
    Event,
    NewEvent,
    TickingClock,
    check_stream_id,
    check_timestamp,
    seeded_ids,
)
from eventsim.store import COLUMNS

STATE_SCHEMA = 1  # the shape of the JSON in ``state``; bump it when a state class changes
SNAPSHOT_SQL = """
CREATE TABLE IF NOT EXISTS snapshots (
    stream_id       VARCHAR     NOT NULL,
    version         INTEGER     NOT NULL,
    domain          VARCHAR     NOT NULL,
    state_schema    INTEGER     NOT NULL,
    state           JSON        NOT NULL,
    event_timestamp TIMESTAMPTZ NOT NULL,
    taken_at        TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (stream_id, version)
)
"""
# The usable snapshot: at or below the version, and its event at or before the time.
LATEST_SQL = """
SELECT version, domain, state_schema, state FROM snapshots
WHERE stream_id = ? AND version <= ? AND event_timestamp <= ?
ORDER BY version DESC LIMIT 1
"""
TAIL_SQL = f"""
SELECT {COLUMNS} FROM event_store
WHERE stream_id = ? AND version > ? AND version <= ? AND timestamp <= ?
ORDER BY version
"""  # noqa: S608 (COLUMNS is a constant)
EVENT_BYTES_SQL = "SELECT sum(strlen(CAST(data AS VARCHAR))) FROM event_store"
NO_LIMIT = 2**31 - 1  # versions are INTEGER
LATEST_TIME = datetime(2100, 1, 1, tzinfo=UTC)  # events.LATEST: every stored time is before it
START = datetime(2024, 1, 1, tzinfo=UTC)  # virtual time of the measuring stores


class SnapshotSchemaMismatch(InvalidArgument):
    """A stored snapshot has a state shape this code does not read."""


@dataclass(frozen=True)
class Loaded:
    """A rehydrated state and what it cost: the snapshot used (0: none) and events folded."""

    state: Any
    snapshot_version: int
    events_folded: int


@dataclass
class WriteCost:
    """What snapshots added to the database: rows and bytes of state JSON."""

    rows: int = 0
    bytes: int = 0


# -- state (de)serialization ----------------------------------------------------------------
def state_to_json(state: bank.Account | orders.Order) -> dict[str, Any]:
    """A state as JSON-ready values; money as strings, so no digit is lost.

    >>> state_to_json(bank.Account("Ada", Decimal("10.50"), "open", 2))
    {'owner': 'Ada', 'balance': '10.50', 'status': 'open', 'version': 2}
    """
    if isinstance(state, bank.Account):
        return {**vars(state), "balance": str(state.balance)}
    if isinstance(state, orders.Order):
        items = [
            {"sku": i.sku, "quantity": i.quantity, "unit_price": str(i.unit_price)}
            for i in state.items
        ]
        money = {k: str(getattr(state, k)) for k in ("total", "paid")}
        return {**vars(state), "items": items, **money}
    raise InvalidArgument(f"no snapshot format for {type(state).__name__}; use Account or Order")


def state_from_json(domain: str, data: dict[str, Any]) -> bank.Account | orders.Order:
    """The state ``state_to_json`` wrote, rebuilt exactly (Decimals, tuples of lines)."""
    if domain == "bank":
        return bank.Account(**{**data, "balance": Decimal(data["balance"])})
    if domain == "orders":
        items = tuple(
            orders.LineItem(i["sku"], i["quantity"], Decimal(i["unit_price"]))
            for i in data["items"]
        )
        money = {k: Decimal(data[k]) for k in ("total", "paid")}
        return orders.Order(**{**data, "items": items, **money})
    raise InvalidArgument(f"unknown domain {domain!r} in a snapshot; expected one of {DOMAINS}")


def _domain_name(state: object) -> str:
    return "bank" if isinstance(state, bank.Account) else "orders"


# -- the snapshot table ---------------------------------------------------------------------
# A snapshot policy: given the version of the stream's latest snapshot (0: none) and the
# version an append just reached, the versions at which to take snapshots now.
Policy = Callable[[int, int], list[int]]


def every(n: int) -> Policy:
    """Snapshot at each multiple of ``n`` the stream reaches.

    >>> every(25)(0, 60)
    [25, 50]
    """
    _check_interval(n)
    return lambda last_snapshot, new_version: list(
        range((last_snapshot // n + 1) * n, new_version + 1, n)
    )


def versions_due(last_snapshot: int, new_version: int, max_tail: int) -> list[int]:
    """Versions up to ``new_version`` to snapshot so no load folds ``max_tail`` events or more.

    Each snapshot as late as allowed, so as few as possible; counted from the latest
    snapshot, whether a policy or a ``take`` made it.

    >>> versions_due(30, 60, max_tail=25)
    [55]
    """
    return list(range(last_snapshot + _check_interval(max_tail), new_version + 1, max_tail))


def tail_below(max_tail: int) -> Policy:
    """Snapshot so that a load never folds ``max_tail`` events or more (``versions_due``)."""
    _check_interval(max_tail)
    return lambda last_snapshot, new_version: versions_due(last_snapshot, new_version, max_tail)


class Snapshots:
    """Snapshots of a store's streams, in a ``snapshots`` table of the same database.

    ``policy`` decides after each ``append`` which versions to snapshot (``None``: only
    on demand, with ``take``); ``every=n`` is short for ``policy=every(n)``.
    """

    def __init__(
        self,
        store: EventStore,
        *,
        every: int | None = None,
        policy: Policy | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        if every is not None and policy is not None:
            raise InvalidArgument("give a policy or every=..., not both")
        self.store = store
        self.policy = _every(every) if every is not None else policy
        self.write_cost = WriteCost()
        self._clock = clock or (lambda: datetime.now(UTC))
        store.connection.execute(SNAPSHOT_SQL)

    def append(
        self, stream_id: str, events: Sequence[NewEvent | DomainEvent], *, expected_version: int
    ) -> int:
        """``store.append``, then the snapshots the policy asks for; returns the new version."""
        new_version = self.store.append(stream_id, events, expected_version=expected_version)
        if self.policy is not None:
            for version in self.policy(self.latest(stream_id), new_version):
                if not 0 < version <= new_version:  # a version the stream has, or refuse
                    raise InvalidArgument(
                        f"the policy asked for a snapshot at version {version!r}; the stream "
                        f"has versions 1 to {new_version}: fix the policy"
                    )
                self.take(stream_id, to_version=version)
        return new_version

    def latest(self, stream_id: str) -> int:
        """The version of the stream's latest snapshot; 0 if it has none."""
        (version,) = self.store.connection.execute(
            "SELECT coalesce(max(version), 0) FROM snapshots WHERE stream_id = ?", [stream_id]
        ).fetchone() or (0,)
        return int(version)

    def take(self, stream_id: str, *, to_version: int | None = None) -> int:
        """Save the state at ``to_version`` (default: the head); return the snapshot's version."""
        state = self.load(stream_id, to_version=to_version).state
        (event_time,) = self.store.connection.execute(
            "SELECT timestamp FROM event_store WHERE stream_id = ? AND version = ?",
            [stream_id, state.version],
        ).fetchone() or (None,)
        text = json.dumps(state_to_json(state), separators=(",", ":"))
        inserted = self.store.connection.execute(
            "INSERT INTO snapshots VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING 1",
            [
                stream_id,
                state.version,
                _domain_name(state),
                STATE_SCHEMA,
                text,
                event_time,
                self._clock(),
            ],
        ).fetchall()
        if inserted:  # a snapshot already there costs nothing more
            self.write_cost.rows += 1
            self.write_cost.bytes += len(text.encode())
        return int(state.version)

    def take_every(self, stream_id: str, every: int) -> int:
        """Snapshots at versions every, 2*every, ... up to the head; return how many exist."""
        head = self.store.version(check_stream_id(stream_id))
        versions = range(_check_interval(every), head + 1, every)
        for version in versions:
            self.take(stream_id, to_version=version)
        return len(versions)

    def load(
        self, stream_id: str, *, to_version: int | None = None, as_of: datetime | None = None
    ) -> Loaded:
        """The state at a version and/or time: latest usable snapshot + fold of the tail."""
        check_stream_id(stream_id)
        last = NO_LIMIT if to_version is None else _positive_version(to_version)
        moment = LATEST_TIME if as_of is None else check_timestamp(as_of, "as_of")
        con = self.store.connection
        row = con.execute(LATEST_SQL, [stream_id, last, moment]).fetchone()
        start, state = (0, None) if row is None else (row[0], _state_of(stream_id, row))
        tail = [
            _event(r) for r in con.execute(TAIL_SQL, [stream_id, start, last, moment]).fetchall()
        ]
        if state is None:
            if not tail and self.store.version(stream_id) == 0:  # asked only when nothing came
                raise StreamNotFound(stream_id)
            if not tail:
                raise InvalidArgument(
                    f"stream {stream_id!r} did not exist yet at {as_of}; ask about a later time"
                )
            state = domain_of(tail[0].event_type).INITIAL_STATE
        module = bank if isinstance(state, bank.Account) else orders
        for event in tail:
            state = module.evolve(state, EVENT_TYPES.parse(event.event_type, event.data))
        return Loaded(state, start, len(tail))

    def table(self) -> pd.DataFrame:
        """Every snapshot row, by stream and version."""
        return self.store.sql("SELECT * FROM snapshots ORDER BY stream_id, version")


def _state_of(stream_id: str, row: tuple[Any, ...]) -> bank.Account | orders.Order:
    version, domain, schema, text = row
    if schema != STATE_SCHEMA:
        raise SnapshotSchemaMismatch(
            f"snapshot of {stream_id!r} at version {version} has state schema {schema}, "
            f"this code reads {STATE_SCHEMA}; delete the old snapshots and take new ones"
        )
    return state_from_json(domain, json.loads(text))


_every = every  # the policy, under a name the keyword argument ``every`` does not hide


def _check_interval(every: object) -> int:
    if isinstance(every, bool) or not isinstance(every, int) or every < 1:
        raise InvalidArgument(f"every must be None or a number of events >= 1, got {every!r}")
    return every


def _positive_version(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidArgument(f"to_version must be a whole number >= 1, got {value!r}")
    return value


def _event(row: tuple[Any, ...]) -> Event:
    stream_id, version, event_id, event_type, data, metadata, timestamp, position = row
    meta = json.loads(metadata) if metadata else {}
    return Event(
        stream_id, version, event_id, event_type, json.loads(data), meta, timestamp, position
    )


# -- measuring ------------------------------------------------------------------------------
def long_account(n_events: int, *, seed: int) -> Iterator[DomainEvent]:
    """A seeded account history of ``n_events`` events: opened, then deposits and withdrawals.

    >>> [type(e).__name__ for e in long_account(3, seed=0)]
    ['AccountOpened', 'MoneyDeposited', 'MoneyDeposited']
    """
    rng, balance = random.Random(seed), Decimal(0)
    yield bank.AccountOpened("Ada Lovelace")
    for _ in range(n_events - 1):
        amount = Decimal(rng.randint(100, 50_000)) / 100
        if balance >= amount:
            balance -= amount
            yield bank.MoneyWithdrawn(amount)
        else:
            balance += amount
            yield bank.MoneyDeposited(amount)


def rehydration_cost(
    lengths: Sequence[int], intervals: Sequence[int | None], *, seed: int
) -> pd.DataFrame:
    """Events folded to load one account at each length, per snapshot interval (None: none).

    Deterministic: it counts work, it does not time it. One store per interval holds an
    account of ``max(lengths)`` events with snapshots every ``interval`` versions;
    ``event_bytes`` is the JSON of those events' payloads, to weigh the snapshots against.
    """
    rows = []
    for interval in intervals:
        with EventStore(clock=TickingClock(START), new_id=seeded_ids(seed)) as store:
            snapshots = Snapshots(store, clock=TickingClock(START))
            store.append(
                "account-1", list(long_account(max(lengths), seed=seed)), expected_version=0
            )
            if interval is not None:
                snapshots.take_every("account-1", interval)
            (event_bytes,) = store.connection.execute(EVENT_BYTES_SQL).fetchone() or (0,)
            for length in lengths:
                loaded = snapshots.load("account-1", to_version=length)
                rows.append(
                    {
                        "interval": interval or 0,
                        "stream_length": length,
                        "events_folded": loaded.events_folded,
                        "snapshot_rows": snapshots.write_cost.rows,
                        "snapshot_bytes": snapshots.write_cost.bytes,
                        "event_bytes": int(event_bytes),
                    }
                )
    return pd.DataFrame(rows)
