"""The course's catalogue: every domain's event types and SQL, and the store bound to them.

The store kernel (``eventsim.store``) knows no domain; this is where the two meet. Lessons,
the command line and notebooks open ``EventStore`` from here (or ``from eventsim import
EventStore``), which accepts the bank and orders events and folds them in SQL.

>>> from eventsim.events import NewEvent
>>> with EventStore() as store:
...     store.append("account-1", [NewEvent("AccountOpened", {"owner": "Ada"})],
...                  expected_version=0)
1
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from eventsim.domains import EVENT_TYPES
from eventsim.events import EventTypes
from eventsim.sql import LOAD_CHECKS
from eventsim.store import DuckDBEventStore, EventStoreContract
from eventsim.store.ids import time_ordered_id


class EventStore(DuckDBEventStore):
    """The DuckDB event store, a file or ``:memory:``, for the course's domains."""

    def __init__(
        self,
        path: str | Path = ":memory:",
        *,
        clock: Callable[[], datetime] | None = None,
        new_id: Callable[[], uuid.UUID] = time_ordered_id,
        event_types: EventTypes = EVENT_TYPES,
    ) -> None:
        load_checks = LOAD_CHECKS if event_types is EVENT_TYPES else {}
        super().__init__(
            path, clock=clock, new_id=new_id, event_types=event_types, load_checks=load_checks
        )


def open_store(
    location: str | Path = ":memory:",
    *,
    clock: Callable[[], datetime] | None = None,
    new_id: Callable[[], uuid.UUID] = time_ordered_id,
) -> EventStoreContract:
    """The course's event store at ``location``: a PostgreSQL URL or a DuckDB file.

    ``open_store("postgresql://postgres@127.0.0.1:5432/postgres")`` opens the same
    contract on a server (``eventsim.services.postgres_url()`` starts the project's own);
    anything else is a DuckDB file, or ``:memory:``.
    """
    if is_postgres_url(location):
        # Imported here: psycopg is needed only by those who use a server.
        from eventsim.store.postgres_store import PostgresEventStore

        return PostgresEventStore(
            str(location),
            clock=clock,
            new_id=new_id,
            event_types=EVENT_TYPES,
            load_checks=LOAD_CHECKS,
        )
    return EventStore(location, clock=clock, new_id=new_id)


def is_postgres_url(location: object) -> bool:
    """True for ``postgresql://...`` and ``postgres://...`` URLs."""
    return isinstance(location, str) and location.startswith(("postgresql://", "postgres://"))
