"""Fixtures shared by the store, I/O, replay and domain tests: real DuckDB stores only."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from eventsim import EventStore, TickingClock, seeded_ids
from eventsim.domains import bank
from eventsim.sim import kit as simkit

START = datetime(2024, 3, 15, 9, 0, tzinfo=UTC)
"""The first tick of every fixture store's clock; later events are one minute apart."""

SNAPSHOT_QUERIES = {
    "event_store": "SELECT * FROM event_store ORDER BY position",
    "event_streams": "SELECT * FROM event_streams ORDER BY stream_id",
    "event_log": "SELECT * FROM event_log",
}


def snapshot(store: EventStore) -> dict[str, pd.DataFrame]:
    """Every row the store keeps: the events, the stream heads and the log head."""
    return {name: store.sql(query) for name, query in SNAPSHOT_QUERIES.items()}


def assert_same_snapshot(before: dict[str, pd.DataFrame], after: dict[str, pd.DataFrame]) -> None:
    for name, frame in before.items():
        pd.testing.assert_frame_equal(frame, after[name], obj=name)


def reproducible_store(path: str | Path = ":memory:") -> EventStore:
    return EventStore(path, clock=TickingClock(START), new_id=seeded_ids(7))


@pytest.fixture
def store() -> Iterator[EventStore]:
    """An empty in-memory store with a ticking clock and seeded ids."""
    with reproducible_store() as fresh:
        yield fresh


@pytest.fixture
def filled_store(store: EventStore) -> EventStore:
    """Two accounts with a little history, so "nothing changed" has something to compare."""
    store.append(
        "account-1",
        [bank.AccountOpened("Ada"), bank.MoneyDeposited(Decimal("100"))],
        expected_version=0,
    )
    store.append("account-2", [bank.AccountOpened("Alan")], expected_version=0)
    store.append("account-1", [bank.MoneyWithdrawn(Decimal("30.25"))], expected_version=2)
    return store


@pytest.fixture
def unchanged() -> Callable[[EventStore], AbstractContextManager[None]]:
    """``with unchanged(store): ...`` fails if the block changed any row of the store."""

    @contextmanager
    def check(store: EventStore) -> Iterator[None]:
        before = snapshot(store)
        yield
        assert_same_snapshot(before, snapshot(store))

    return check


@pytest.fixture
def write_parquet(tmp_path: Path) -> Callable[[pa.Table | list[dict[str, object]], str], Path]:
    """Write a table (or rows in the canonical schema) to a Parquet file under tmp_path."""

    def write(table: pa.Table | list[dict[str, object]], name: str = "events.parquet") -> Path:
        if isinstance(table, list):
            table = pa.Table.from_pylist(table, schema=simkit.SCHEMA)
        path = tmp_path / name
        pq.write_table(table, path)
        return path

    return write
