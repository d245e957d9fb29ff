"""The business domains, pure: events, commands, state, decide, evolve, a state-based twin."""

from __future__ import annotations

from types import ModuleType

from eventsim.domains import bank, orders
from eventsim.events import EventTypes

DOMAINS: dict[str, ModuleType] = {"bank": bank, "orders": orders}
EVENT_TYPES = EventTypes(
    {name: cls for d in DOMAINS.values() for name, cls in d.EVENT_TYPES.items()}
)


def domain_of(event_type: str) -> ModuleType:
    """The domain module that owns ``event_type``."""
    EVENT_TYPES.get(event_type)  # raises UnknownEventType with the list of known ones
    return next(d for d in DOMAINS.values() if event_type in d.EVENT_TYPES)
