"""eventsim: a lab for Event-Driven Architecture, Event Sourcing and CQRS.

Generate a seeded event stream, load it into an embedded DuckDB event store, replay it,
travel through time, and compare it with a state-based model.

The pure parts (errors, events, the domains) are imported at once; the store and replay
on first use, so that ``import eventsim.domains.bank`` needs neither DuckDB nor pandas.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from eventsim.datasets import data_file
from eventsim.domains import bank, orders
from eventsim.errors import (
    ConcurrencyError,
    DomainError,
    DuplicateEventId,
    EventSimError,
    InvalidArgument,
    InvalidDataset,
    InvalidEvent,
    StreamNotFound,
    UnknownEventType,
)
from eventsim.events import DomainEvent, Event, NewEvent, TickingClock, caused_by, seeded_ids

if TYPE_CHECKING:
    from eventsim.catalog import EventStore
    from eventsim.replay import all_states, fold, history, state_at

# Names loaded on first use, and the module each comes from.
_ON_FIRST_USE = {
    "EventStore": "eventsim.catalog",
    "all_states": "eventsim.replay",
    "fold": "eventsim.replay",
    "history": "eventsim.replay",
    "state_at": "eventsim.replay",
}


def __getattr__(name: str) -> Any:
    if name not in _ON_FIRST_USE:
        raise AttributeError(f"module 'eventsim' has no attribute {name!r}")
    value = getattr(importlib.import_module(_ON_FIRST_USE[name]), name)
    globals()[name] = value  # later look-ups skip this function
    return value


__version__ = "0.1.0"

# Kept in step with the README's API table by tests/test_public_api.py.
__all__ = [
    "ConcurrencyError",
    "DomainError",
    "DomainEvent",
    "DuplicateEventId",
    "Event",
    "EventSimError",
    "EventStore",
    "InvalidArgument",
    "InvalidDataset",
    "InvalidEvent",
    "NewEvent",
    "StreamNotFound",
    "TickingClock",
    "UnknownEventType",
    "all_states",
    "bank",
    "caused_by",
    "data_file",
    "fold",
    "history",
    "orders",
    "seeded_ids",
    "state_at",
]
