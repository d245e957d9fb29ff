"""The store contract runs on every backend: ``store`` here is DuckDB, then PostgreSQL.

Tests of what only one backend has (DuckDB's file handling, its typed companion) ask for
``duckdb_store`` instead.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from eventsim import TickingClock, seeded_ids
from eventsim.catalog import EventStore, open_store
from eventsim.store import EventStoreContract
from tests.conftest import START, reproducible_store

BACKENDS = ["duckdb", "postgres"]


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest) -> Iterator[EventStoreContract]:
    """An empty store with a ticking clock and seeded ids, on each backend in turn."""
    if request.param == "duckdb":
        location = ":memory:"
    else:
        location = request.getfixturevalue("postgres_database")
    with open_store(location, clock=TickingClock(START), new_id=seeded_ids(7)) as fresh:
        yield fresh


@pytest.fixture
def duckdb_store() -> Iterator[EventStore]:
    """An empty in-memory DuckDB store, for what only that backend has."""
    with reproducible_store() as fresh:
        yield fresh
