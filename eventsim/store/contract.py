"""The event store contract: what every backend promises, stated once.

A backend (DuckDB today; PostgreSQL is the next) implements these methods with these
guarantees, and one contract test suite (``tests/store/``) runs against each:

- ``append`` is all-or-nothing and checks ``expected_version`` inside its transaction: a
  stale writer gets ``ConcurrencyError``, never a silent overwrite; re-sending a stored
  batch (same event ids, same stream) is a no-op that returns the current version.
- ``position`` is the global commit order, gap-free; ``read_all(after=p)`` never skips an
  event that a later read would show below ``p``.
- ``read_stream`` and ``read_all`` return ``Event`` objects in version or position order;
  bounds are keyword-only.
- Bad input raises an ``EventSimError`` subclass with a one-line message and changes
  nothing.
- A store may be shared by threads; one file opened under several names is one store; a
  path is read or written exactly as named, never as a pattern.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol, Self

import pandas as pd

from eventsim.events import DomainEvent, Event, EventTypes, NewEvent


class EventStoreContract(Protocol):
    """The methods lessons, replay and projections may rely on, on any backend."""

    event_types: EventTypes
    PARAM: str  # the placeholder sql() takes: "?" on DuckDB, "%s" on PostgreSQL

    def append(
        self,
        stream_id: str,
        events: Sequence[NewEvent | DomainEvent],
        *,
        expected_version: int | None,
    ) -> int:
        """Append atomically; return the stream's new version."""
        ...

    def version(self, stream_id: str) -> int:
        """The stream's current version; 0 if it does not exist."""
        ...

    def read_stream(
        self, stream_id: str, *, to_version: int | None = None, as_of: datetime | None = None
    ) -> list[Event]:
        """The stream's events in version order, up to a version and/or a time."""
        ...

    def read_all(
        self, *, after: int = 0, event_types: Sequence[str] | None = None, limit: int | None = None
    ) -> list[Event]:
        """Events in commit order with ``position > after``."""
        ...

    def sql(self, query: str, params: Sequence[Any] | None = None) -> pd.DataFrame:
        """A read query over the store's tables, values as ``PARAM`` parameters."""
        ...

    def info(self) -> dict[str, Any]:
        """Streams, events, counts per type and the time range."""
        ...

    def load_parquet(self, path: str | Path) -> int:
        """Append every event of a Parquet file, checked like ``append``; all or nothing."""
        ...

    def export_parquet(self, path: str | Path) -> int:
        """Write the whole log, in commit order, to a Parquet file."""
        ...

    def close(self) -> None: ...

    def __enter__(self) -> Self: ...

    def __exit__(self, *exc: object) -> None: ...


class ClosesOnExit:
    """What every backend does the same way around its connection: ``with`` closes it,
    and the repr names the store by its location (``path``)."""

    path: str

    def close(self) -> None:
        raise NotImplementedError  # each backend closes its own connection

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.path!r})"
