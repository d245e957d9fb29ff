"""Closing the books: an alternative to snapshots that keeps every fold short by design.

At the end of each period (a day, a month; an hour in the lesson) the account's stream
for that period ends with ``BooksClosed`` carrying the closing balance, and the next
period's stream starts with ``BalanceCarriedForward`` carrying it over. A load of the
current state folds only the current period's stream, however old the account is. The
closing events are facts of the business (an accountant closes a period), kept in the
log, unlike a snapshot, which is a cache beside it. A correction to a closed period is a
new event in the open one, never an edit of the closed stream.

>>> from datetime import UTC, datetime, timedelta
>>> from eventsim.evolution.snapshots import long_account
>>> store = closing_store()
>>> start = datetime(2024, 3, 1, 9, tzinfo=UTC)
>>> periods = write_in_periods(store, "account-9", list(long_account(150, seed=1)), start=start)
>>> periods
['account-9.2024-03-01T09', 'account-9.2024-03-01T10', 'account-9.2024-03-01T11']
>>> load_current(store, periods[-1]).events_folded
31
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import pandas as pd

from eventsim.catalog import EventStore
from eventsim.domains import EVENT_TYPES as COURSE_TYPES
from eventsim.domains import bank
from eventsim.errors import InvalidArgument
from eventsim.events import (
    DomainEvent,
    EventTypes,
    NewEvent,
    TickingClock,
    check_stream_id,
    check_timestamp,
    seeded_ids,
)
from eventsim.evolution.snapshots import Loaded, Snapshots, long_account

Money = bank.Money


@dataclass(frozen=True)
class BooksClosed(DomainEvent):
    """The last event of a period's stream: the balance the period closed with."""

    period: str
    closing_balance: Money


@dataclass(frozen=True)
class BalanceCarriedForward(DomainEvent):
    """The first event of a period's stream: who owns the account, and what it starts with."""

    owner: str
    period: str
    opening_balance: Money


EVENT_TYPES = EventTypes(
    {
        **{name: COURSE_TYPES.get(name) for name in COURSE_TYPES.names()},
        "BooksClosed": BooksClosed,
        "BalanceCarriedForward": BalanceCarriedForward,
    }
)


def closing_store() -> EventStore:
    """An in-memory store that also accepts the two closing events."""
    return EventStore(event_types=EVENT_TYPES)


def period_of(moment: datetime, length: timedelta) -> str:
    """The period a moment falls in, named by its start: hours as ``2024-03-01T09``."""
    start = datetime.min.replace(tzinfo=moment.tzinfo)
    begins = start + (moment - start) // length * length
    return begins.strftime("%Y-%m-%dT%H" if length < timedelta(days=1) else "%Y-%m-%d")


def evolve(state: bank.Account, event: DomainEvent) -> bank.Account:
    """``bank.evolve``, plus the two closing events (which leave the balance as it is)."""
    match event:
        case BalanceCarriedForward(owner=owner, opening_balance=balance):
            return bank.Account(owner, balance, "open", state.version + 1)
        case BooksClosed():
            return bank.Account(state.owner, state.balance, state.status, state.version + 1)
    return bank.evolve(state, event)


def write_in_periods(
    store: EventStore,
    account: str,
    events: Sequence[DomainEvent],
    *,
    start: datetime,
    gap: timedelta = timedelta(minutes=1),
    period: timedelta = timedelta(hours=1),
) -> list[str]:
    """Append ``events`` one ``gap`` apart from ``start``, one stream per period; return them.

    Each stream is ``<account>.<period>``; a period ends with ``BooksClosed`` and the next
    starts with ``BalanceCarriedForward``, both stamped with the first event of the new period.
    """
    check_stream_id(account)
    at = check_timestamp(start, "start")
    if not isinstance(period, timedelta) or period <= timedelta(0):
        raise InvalidArgument(f"period must be a positive timedelta, got {period!r}")
    if not events:
        raise InvalidArgument("events must hold at least one event (an AccountOpened first)")
    state = bank.INITIAL_STATE
    streams: list[str] = []
    batch: list[NewEvent] = []
    for event in events:
        name = f"{account}.{period_of(at, period)}"
        if streams and name != streams[-1]:  # a new period: close the old, open the new
            closed = BooksClosed(streams[-1].split(".")[-1], state.balance)
            store.append(streams[-1], [*batch, _at(closed, at)], expected_version=0)
            carried = BalanceCarriedForward(str(state.owner), name.split(".")[-1], state.balance)
            batch = [_at(carried, at)]
        if not streams or name != streams[-1]:
            streams.append(name)
        batch.append(_at(event, at))
        state = bank.evolve(state, event)
        at += gap
    store.append(streams[-1], batch, expected_version=0)
    return streams


def load_current(store: EventStore, stream_id: str, *, as_of: datetime | None = None) -> Loaded:
    """The account's state from one period's stream alone: it starts from the carried balance."""
    events = store.read_stream(stream_id, as_of=as_of)
    state = bank.INITIAL_STATE
    for event in events:
        state = evolve(state, EVENT_TYPES.parse(event.event_type, event.data))
    return Loaded(state, 0, len(events))


def _at(event: DomainEvent, at: datetime) -> NewEvent:
    return NewEvent(event.event_type(), event.to_data(), timestamp=at)


def compare_with_snapshots(
    n_events: int, *, seed: int, start: datetime, every: int, period: timedelta, sample: int = 1
) -> pd.DataFrame:
    """The same account kept with snapshots every ``every`` events, and with closed books.

    For every ``sample``-th event, each way loads the state as it was just after that event,
    and both must agree on it; the table says what a load read and what each way stored.
    """
    history = list(long_account(n_events, seed=seed))
    one = EventStore(clock=TickingClock(start), new_id=seeded_ids(seed))
    snaps = Snapshots(one, every=every, clock=TickingClock(start))
    snaps.append("account-1", history, expected_version=0)
    books = closing_store()
    streams = write_in_periods(books, "account-1", history, start=start, period=period)
    moments = [start + i * timedelta(minutes=1) for i in range(0, n_events, sample)]
    by_snapshot = [snaps.load("account-1", as_of=moment) for moment in moments]
    by_period = [
        load_current(books, f"account-1.{period_of(moment, period)}", as_of=moment)
        for moment in moments
    ]
    for a, b in zip(by_snapshot, by_period, strict=True):
        if (a.state.owner, a.state.balance) != (b.state.owner, b.state.balance):
            raise AssertionError(f"the two ways disagree: {a.state} against {b.state}")
    closing = books.sql(
        "SELECT count(*) AS n, coalesce(sum(strlen(CAST(data AS VARCHAR))), 0) AS b "
        "FROM event_store WHERE event_type IN ('BooksClosed', 'BalanceCarriedForward')"
    )
    rows = {
        f"snapshots every {every} events": {
            "most events read by a load": max(r.events_folded for r in by_snapshot),
            "mean events read by a load": sum(r.events_folded for r in by_snapshot) / len(moments),
            "rows added": snaps.write_cost.rows,
            "bytes added": snaps.write_cost.bytes,
            "streams for the account": 1,
            "what the extra rows are": "a cache beside the log: drop and rebuild at will",
        },
        f"books closed every {period_name(period)}": {
            "most events read by a load": max(r.events_folded for r in by_period),
            "mean events read by a load": sum(r.events_folded for r in by_period) / len(moments),
            "rows added": int(closing["n"][0]),
            "bytes added": int(closing["b"][0]),
            "streams for the account": len(streams),
            "what the extra rows are": "events of the business, kept in the log for ever",
        },
    }
    table = pd.DataFrame(rows)
    table.loc["mean events read by a load"] = table.loc["mean events read by a load"].map(
        lambda mean: round(float(mean), 1)
    )
    return table


def period_name(period: timedelta) -> str:
    """``timedelta(hours=1)`` as "hour", ``timedelta(days=1)`` as "day", else the timedelta."""
    names = {timedelta(hours=1): "hour", timedelta(days=1): "day"}
    return names.get(period, str(period))
