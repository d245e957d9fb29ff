"""Rebuilding state from events: one stream through ``evolve``, or all streams in SQL.

The two paths must agree; the tests hold them to it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from types import ModuleType
from typing import Any

import pandas as pd

from eventsim.catalog import EventStore
from eventsim.domains import DOMAINS, EVENT_TYPES, domain_of
from eventsim.errors import InvalidArgument, shown
from eventsim.events import DomainEvent, Event, check_timestamp
from eventsim.sql import STATE_SQL
from eventsim.sql import bank as bank_sql
from eventsim.store import DuckDBEventStore, EventStoreContract, reads
from eventsim.store.decode import parse_all

# Stored times are < 2100-01-01 (events.LATEST), so "<= this" takes every event, even one
# in the last second of 2099.
LATEST_SQL_TIME = datetime.fromisoformat("2100-01-01T00:00:00+00:00")
# The columns a fold needs, of one stream up to a version and a time (DuckDB's SQL), at most
# parameter 4 rows: a longer stream is not read whole (any rows will do to count them).
PAYLOADS_SQL = (
    "SELECT version, event_type, data FROM event_store "
    "WHERE stream_id = ? AND version <= ? AND timestamp <= ? LIMIT ?"
)
# Up to this many events, a stream's payloads are folded as read (about 2.5 us an event);
# a longer bank account is summed by DuckDB instead (bank_sql.STREAM_SUMS_SQL).
SHORT_STREAM = 500


def fold(events: Iterable[Event], domain: ModuleType | None = None) -> Any:
    """The state after applying ``events`` in order, starting from the domain's empty state."""
    events = list(events)
    if not events:
        raise InvalidArgument(
            "cannot fold an empty list of events: there is no state before the first"
        )
    return _fold_payloads([e.event_type for e in events], (e.data for e in events), domain)


def _fold_payloads(
    types: Sequence[str], payloads: Iterable[object], domain: ModuleType | None = None
) -> Any:
    """``fold`` of events given as their types and payloads, in order (at least one)."""
    domain = domain or domain_of(types[0])
    state, evolve = domain.INITIAL_STATE, domain.evolve
    # Each type's parser, looked up once per fold rather than once per event.
    parsers: dict[str, Callable[[object], DomainEvent]] = {}
    for event_type, data in zip(types, payloads, strict=True):
        parse = parsers.get(event_type)
        if parse is None:
            parse = parsers[event_type] = EVENT_TYPES.get(event_type).from_data
        state = evolve(state, parse(data))
    return state


def state_at(
    store: EventStoreContract,
    stream_id: str,
    *,
    as_of: datetime | None = None,
    to_version: int | None = None,
) -> Any:
    """The stream's state as of a time and/or a version (both: whichever comes first).

    On DuckDB it skips building the Events (``state_on_duckdb``), to the very state the
    fold below gives. An ``as_of`` before the stream existed raises ``InvalidArgument``.
    """
    state = state_on_duckdb(store, stream_id, as_of=as_of, to_version=to_version)
    if state is not None:
        return state
    events = store.read_stream(stream_id, as_of=as_of, to_version=to_version)
    if not events:
        raise InvalidArgument(
            f"stream {stream_id!r} did not exist yet at {as_of.isoformat() if as_of else as_of}; "
            "ask about a later time"
        )
    return fold(events)


def state_on_duckdb(
    store: EventStoreContract,
    stream_id: str,
    *,
    as_of: datetime | None = None,
    to_version: int | None = None,
) -> Any:
    """The state ``fold`` gives the stream's events, without building them: its payloads
    folded as read, or a long bank account summed by DuckDB (``bank_sql``). None where only
    the Events answer: another backend, no event (which error, the store says), or a long
    stream that is not a bank account the sums state exactly."""
    if not isinstance(store, DuckDBEventStore) or store.event_types is not EVENT_TYPES:
        return None
    stream_id, to_version, as_of = reads.stream_bounds(stream_id, to_version, as_of)
    bounds = [stream_id, reads.BEYOND_ANY if to_version is None else to_version]
    bounds.append(LATEST_SQL_TIME if as_of is None else as_of)
    with store.reading() as con:
        rows = con.execute(PAYLOADS_SQL, [*bounds, SHORT_STREAM + 1]).fetchall()
        if len(rows) > SHORT_STREAM:
            return bank_sql.account_from_sums(
                con.execute(bank_sql.STREAM_SUMS_SQL, bounds).fetchall()
            )
    if not rows:
        return None
    rows.sort()  # by version: sorting a few rows in Python costs less than ORDER BY
    return _fold_payloads([row[1] for row in rows], parse_all([row[2] for row in rows]))


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
