"""Upcasting: old event payloads turned into today's shape on read, one version step at a time.

The bank's money events changed shape twice:

- v1 (2022): ``{"amt": "12.50"}``. The first mobile app sent the amount as a text and
  abbreviated its name.
- v2 (2023): ``{"amount_cents": 1250}``. Money became a whole number of cents, so no
  client could send ``"12.5O"`` or a float with binary error.
- v3 (2024, today): ``{"amount": 12.5}``. The store learned to check exact amounts itself
  (``parse_money``), so the payload says the amount in currency units again.

Each step is one small function registered by ``(event_type, from_version)``; reading an
event applies the chain from its ``schema_version`` (in the metadata) to the current one.
An event without ``schema_version`` is taken to be current: every writer in this package
today writes the current shape, and the bank simulator stamps no version.

>>> BANK_UPCASTERS.upcast("MoneyDeposited", {"amt": "12.50"}, 1)
{'amount': Decimal('12.5')}
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pandas as pd

from eventsim.catalog import EventStore
from eventsim.domains import EVENT_TYPES, bank
from eventsim.errors import InvalidEvent
from eventsim.events import DomainEvent, Event, EventTypes, NewEvent
from eventsim.replay import fold

SCHEMA_VERSION = "schema_version"  # the metadata key (events.py's convention)
Payload = dict[str, Any]
Upcaster = Callable[[Payload], Payload]


class UnknownSchemaVersion(InvalidEvent):
    """An event's schema version has no way to today's shape: too new, invalid, or a gap."""


class Upcasters:
    """Upcaster functions by (event type, from version), and each type's current version."""

    def __init__(self, current: Mapping[str, int]) -> None:
        self.current = dict(current)
        self._steps: dict[tuple[str, int], Upcaster] = {}
        self.steps_applied = 0  # a deterministic measure of the work done on read

    def register(self, event_type: str, from_version: int) -> Callable[[Upcaster], Upcaster]:
        """Decorator: ``fn`` turns a ``from_version`` payload into a ``from_version + 1`` one."""
        current = self.current_version(event_type)
        if not 1 <= from_version < current:
            raise UnknownSchemaVersion(
                f"cannot register an upcaster for {event_type} from version {from_version}: "
                f"steps go from 1 up to the current version {current}"
            )
        if (event_type, from_version) in self._steps:
            raise UnknownSchemaVersion(
                f"{event_type} already has an upcaster from version {from_version}; "
                "one function per step"
            )

        def add(fn: Upcaster) -> Upcaster:
            self._steps[event_type, from_version] = fn
            return fn

        return add

    def current_version(self, event_type: str) -> int:
        """Today's version of the type; a type that never changed is at version 1."""
        return self.current.get(event_type, 1)

    def upcast(self, event_type: str, data: Mapping[str, Any], version: int) -> Payload:
        """The payload in the current shape, after every step from ``version``."""
        current = self.current_version(event_type)
        if isinstance(version, bool) or not isinstance(version, int) or version < 1:
            raise UnknownSchemaVersion(
                f"{event_type} has schema_version {version!r}; versions are whole numbers >= 1"
            )
        if version > current:
            raise UnknownSchemaVersion(
                f"{event_type} version {version} is newer than this reader's {current}; "
                "it was written by newer code: upgrade the reader"
            )
        payload = dict(data)
        for step in range(version, current):
            fn = self._steps.get((event_type, step))
            if fn is None:
                raise UnknownSchemaVersion(
                    f"no upcaster for {event_type} from version {step} to {step + 1}: the "
                    f"chain from {version} to {current} has a gap; register one for "
                    f"({event_type!r}, {step})"
                )
            payload = fn(payload)
            self.steps_applied += 1
        return payload

    def version_of(self, event: Event) -> int:
        """The event's schema version; absent means current (see the module docstring)."""
        version: int = event.metadata.get(SCHEMA_VERSION, self.current_version(event.event_type))
        return version

    def upcast_event(self, event: Event) -> Event:
        """The same event (id, time, position) with its payload and version made current."""
        current = self.current_version(event.event_type)
        data = self.upcast(event.event_type, event.data, self.version_of(event))
        return replace(event, data=data, metadata={**event.metadata, SCHEMA_VERSION: current})

    def deserialize(self, event: Event, types: EventTypes = EVENT_TYPES) -> DomainEvent:
        """The typed domain event for a stored event of any known version."""
        data = self.upcast(event.event_type, event.data, self.version_of(event))
        return types.parse(event.event_type, data)

    def read_stream(
        self,
        store: EventStore,
        stream_id: str,
        *,
        to_version: int | None = None,
        as_of: datetime | None = None,
    ) -> list[Event]:
        """``store.read_stream`` with every event upcast to the current shape."""
        events = store.read_stream(stream_id, to_version=to_version, as_of=as_of)
        return [self.upcast_event(e) for e in events]


# -- the bank's story -------------------------------------------------------------------
BANK_UPCASTERS = Upcasters({"MoneyDeposited": 3, "MoneyWithdrawn": 3})


def amt_text_to_cents(data: Payload) -> Payload:
    """v1 -> v2: ``{"amt": "12.50"}`` becomes ``{"amount_cents": 1250}``."""
    rest = {k: v for k, v in data.items() if k != "amt"}
    cents = Decimal(data["amt"]) * 100
    if cents != cents.to_integral_value():  # v1 never held fractions of a cent; refuse, not round
        raise InvalidEvent(f"v1 amt {data['amt']!r} is not a whole number of cents")
    return {**rest, "amount_cents": int(cents)}


def cents_to_amount(data: Payload) -> Payload:
    """v2 -> v3: ``{"amount_cents": 1250}`` becomes ``{"amount": Decimal("12.50")}``."""
    rest = {k: v for k, v in data.items() if k != "amount_cents"}
    return {**rest, "amount": Decimal(data["amount_cents"]) / 100}


for _type in ("MoneyDeposited", "MoneyWithdrawn"):
    BANK_UPCASTERS.register(_type, 1)(amt_text_to_cents)
    BANK_UPCASTERS.register(_type, 2)(cents_to_amount)


# The classes the writers of 2022 and 2023 validated against: same names, old fields.
def _legacy_class(name: str, annotations: dict[str, str]) -> type[DomainEvent]:
    namespace = {"__annotations__": annotations, "__module__": __name__}
    cls = type(name, (DomainEvent,), namespace)
    return dataclass(frozen=True)(cls)


LEGACY_FIELDS = {1: {"amt": "str"}, 2: {"amount_cents": "int"}}
BANK_EVENT_TYPES: dict[int, EventTypes] = {
    version: EventTypes(
        {
            **bank.EVENT_TYPES,
            **{n: _legacy_class(n, fields) for n in ("MoneyDeposited", "MoneyWithdrawn")},
        }
    )
    for version, fields in LEGACY_FIELDS.items()
} | {3: EVENT_TYPES}


@contextmanager
def legacy_writer(store: EventStore, schema_version: int) -> Iterator[None]:
    """Inside the block the store checks bank events against that version's classes.

    This is what the application of that year did: it validated what it wrote against the
    event classes it had. The store's own check stays on; only the classes differ.
    """
    if schema_version not in BANK_EVENT_TYPES:
        raise UnknownSchemaVersion(
            f"the bank has schema versions {sorted(BANK_EVENT_TYPES)}, not {schema_version!r}"
        )
    previous, store.event_types = store.event_types, BANK_EVENT_TYPES[schema_version]
    try:
        yield
    finally:
        store.event_types = previous


def legacy_money_event(kind: str, amount: Decimal, schema_version: int) -> NewEvent:
    """A deposit or withdrawal as the writer of ``schema_version`` shaped it."""
    shapes: dict[int, Payload] = {
        1: {"amt": f"{amount:.2f}"},
        2: {"amount_cents": int(amount * 100)},
        3: {"amount": amount},
    }
    data = shapes[schema_version]
    return NewEvent(kind, data, {SCHEMA_VERSION: schema_version})


ERAS = {
    1: datetime(2022, 3, 1, tzinfo=UTC),
    2: datetime(2023, 3, 1, tzinfo=UTC),
    3: datetime(2024, 3, 1, tzinfo=UTC),
}  # when each writer was in production
OWNERS = ("Ada Lovelace", "Alan Turing", "Grace Hopper", "Edsger Dijkstra", "Barbara Liskov")


def write_mixed_history(store: EventStore, *, accounts: int, seed: int) -> int:
    """Accounts opened in 2022 and used through 2024, each year by that year's writer.

    Returns the number of events written: v1, v2 and v3 money events side by side.
    """
    rng, balances, written = random.Random(seed), [Decimal(0)] * accounts, 0
    for version, start in ERAS.items():
        with legacy_writer(store, version):
            for i in range(accounts):
                stream_id = f"account-{i + 1:03d}"
                batch = [] if version > 1 else [_opened(OWNERS[i % len(OWNERS)], start)]
                for day in range(1, rng.randint(2, 4) + 1):
                    amount = Decimal(rng.randint(500, 40_000)) / 100
                    kind = "MoneyWithdrawn" if balances[i] >= amount else "MoneyDeposited"
                    balances[i] += -amount if kind == "MoneyWithdrawn" else amount
                    event = legacy_money_event(kind, amount, version)
                    batch.append(replace(event, timestamp=start + timedelta(days=day, hours=i)))
                written += len(batch)
                store.append(stream_id, batch, expected_version=None)
    return written


def _opened(owner: str, at: datetime) -> NewEvent:
    return NewEvent("AccountOpened", {"owner": owner}, {SCHEMA_VERSION: 1}, timestamp=at)


# -- copy-and-transform -----------------------------------------------------------------
@dataclass(frozen=True)
class Migration:
    """What a copy-and-transform migration did and cost."""

    events_copied: int
    events_transformed: int
    source_bytes: int
    target_bytes: int


def migrate_copy(source: EventStore, target: EventStore, upcasters: Upcasters) -> Migration:
    """Copy every event, upcast, into an empty ``target``; ids, times and order are kept."""
    events = source.read_all()
    transformed = sum(
        upcasters.version_of(e) < upcasters.current_version(e.event_type) for e in events
    )
    for run in _runs_by_stream(events):
        new = [
            NewEvent(e.event_type, u.data, u.metadata, e.event_id, e.timestamp)
            for e, u in ((e, upcasters.upcast_event(e)) for e in run)
        ]
        target.append(run[0].stream_id, new, expected_version=run[0].version - 1)
    return Migration(len(events), transformed, payload_bytes(source), payload_bytes(target))


def _runs_by_stream(events: Sequence[Event]) -> Iterator[list[Event]]:
    """Consecutive events of one stream, in commit order: one append each."""
    run: list[Event] = []
    for event in events:
        if run and event.stream_id != run[0].stream_id:
            yield run
            run = []
        run.append(event)
    if run:
        yield run


def payload_bytes(store: EventStore) -> int:
    """Bytes of JSON the store keeps in ``data`` and ``metadata``."""
    (size,) = store.connection.execute(
        "SELECT coalesce(sum(strlen(CAST(data AS VARCHAR)) "
        "+ strlen(coalesce(CAST(metadata AS VARCHAR), ''))), 0) FROM event_store"
    ).fetchone() or (0,)
    return int(size)


def read_model(store: EventStore, upcasters: Upcasters) -> pd.DataFrame:
    """Every account's state, folded from upcast events: the projection a migration must keep."""
    streams = store.sql("SELECT stream_id FROM event_streams ORDER BY stream_id")["stream_id"]
    rows = []
    for stream_id in streams:
        state = fold(upcasters.read_stream(store, stream_id))
        rows.append({"account_id": stream_id, **vars(state)})
    return pd.DataFrame(rows, columns=["account_id", "owner", "balance", "status", "version"])
