"""Rebuilding state from events: one stream through ``evolve``, or all streams in SQL.

The two paths must agree; the tests hold them to it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from datetime import datetime
from types import ModuleType
from typing import Any

import pandas as pd

from eventsim.catalog import EventStore
from eventsim.domains import DOMAINS, EVENT_TYPES, bank, domain_of
from eventsim.errors import InvalidArgument, shown
from eventsim.events import DomainEvent, Event, check_timestamp
from eventsim.sql import STATE_SQL
from eventsim.sql import bank as bank_sql
from eventsim.store import DuckDBEventStore, EventStoreContract, reads

# Stored times are < 2100-01-01 (events.LATEST), so "<= this" takes every event, even one
# in the last second of 2099.
LATEST_SQL_TIME = datetime.fromisoformat("2100-01-01T00:00:00+00:00")
# Up to this many events, an account's rows come to Python one by one and are summed there;
# a longer stream is summed by DuckDB (turning rows into Python objects costs ~1 us each).
SHORT_STREAM = 500


def fold(events: Iterable[Event], domain: ModuleType | None = None) -> Any:
    """The state after applying ``events`` in order, starting from the domain's empty state."""
    events = list(events)
    if not events:
        raise InvalidArgument(
            "cannot fold an empty list of events: there is no state before the first"
        )
    domain = domain or domain_of(events[0].event_type)
    state, evolve = domain.INITIAL_STATE, domain.evolve
    # Each type's parser, looked up once per fold rather than once per event.
    parsers: dict[str, Callable[[object], DomainEvent]] = {}
    for event in events:
        parse = parsers.get(event.event_type)
        if parse is None:
            parse = parsers[event.event_type] = EVENT_TYPES.get(event.event_type).from_data
        state = evolve(state, parse(event.data))
    return state


def state_at(
    store: EventStoreContract,
    stream_id: str,
    *,
    as_of: datetime | None = None,
    to_version: int | None = None,
) -> Any:
    """The stream's state as of a time and/or a version (both: whichever comes first).

    A bank account on DuckDB is summed in SQL (``account_in_sql``) to the very state the
    fold below gives, without building its Events. An ``as_of`` before the stream existed
    raises ``InvalidArgument``.
    """
    account = account_in_sql(store, stream_id, as_of=as_of, to_version=to_version)
    if account is not None:
        return account
    events = store.read_stream(stream_id, as_of=as_of, to_version=to_version)
    if not events:
        raise InvalidArgument(
            f"stream {stream_id!r} did not exist yet at {as_of.isoformat() if as_of else as_of}; "
            "ask about a later time"
        )
    return fold(events)


def account_in_sql(
    store: EventStoreContract,
    stream_id: str,
    *,
    as_of: datetime | None = None,
    to_version: int | None = None,
) -> bank.Account | None:
    """A bank account's state from its rows' amounts in DuckDB (``bank_sql``), the same
    state as ``fold`` of its events; None where only ``fold`` answers: another backend,
    another domain, no event, or a stream whose sums would not be exactly that state."""
    if not isinstance(store, DuckDBEventStore) or store.event_types is not EVENT_TYPES:
        return None
    stream_id, to_version, as_of = reads.stream_bounds(stream_id, to_version, as_of)
    bounds = [stream_id, reads.BEYOND_ANY if to_version is None else to_version]
    bounds.append(LATEST_SQL_TIME if as_of is None else as_of)
    with store.reading() as con:
        rows = con.execute(bank_sql.STREAM_EVENTS_SQL, [*bounds, SHORT_STREAM + 1]).fetchall()
        if len(rows) > SHORT_STREAM:
            rows = con.execute(bank_sql.STREAM_SUMS_SQL, bounds).fetchall()
    return bank_sql.account_from_sums(rows)


def history(store: EventStore, stream_id: str) -> pd.DataFrame:
    """One row per event of the stream: what happened, and the state right after it."""
    events = store.read_stream(stream_id)
    domain = domain_of(events[0].event_type)
    rows, state = [], domain.INITIAL_STATE
    for event in events:
        state = domain.evolve(state, EVENT_TYPES.parse(event.event_type, event.data))
        rows.append(
            {
                "version": event.version,
                "timestamp": event.timestamp,
                "event_type": event.event_type,
                "data": event.data,
                **{f"state_{k}": v for k, v in dataclasses.asdict(state).items() if k != "version"},
            }
        )
    return pd.DataFrame(rows)


def all_states(store: EventStore, domain: str, *, as_of: datetime | None = None) -> pd.DataFrame:
    """Every stream of ``domain`` as of a time, folded by the domain's SQL in one query."""
    if not isinstance(domain, str) or domain not in DOMAINS:
        raise InvalidArgument(f"unknown domain {shown(domain)}; choose one of {sorted(DOMAINS)}")
    moment = LATEST_SQL_TIME if as_of is None else check_timestamp(as_of, "as_of")
    return store.sql(STATE_SQL[domain], [moment])
