"""eventsim: a lab for Event-Driven Architecture, Event Sourcing and CQRS.

Generate a seeded event stream, load it into an embedded DuckDB event store, replay it,
travel through time, and compare it with a state-based model.
"""

from eventsim.catalog import EventStore
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
from eventsim.replay import all_states, fold, history, state_at
from eventsim.store.parquet import data_file

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
