"""Upcasting: old event payloads turned into today's shape on read, one version step at a time.

The bank's money events changed shape twice, each time for the better:

- v1 (2022): ``{"amt": "12.50"}``. The first mobile app sent the amount as text, under an
  abbreviated name.
- v2 (2023): ``{"amount": "12.50"}``. The field was renamed to say what it holds; the
  value was still text, so a client could send ``"12,50"`` and only readers would notice.
- v3 (2024, today): ``{"amount": 12.5}``. The amount is typed: the store checks it on
  write (``parse_money``: positive, at most two decimals, exact as a JSON number) and
  readers get an exact ``Decimal``. Money is an exact decimal in every version.

Each step is one small function registered by ``(event_type, from_version)``; reading an
event applies the chain from its ``schema_version`` (in the metadata) to the current one.
Writers stamp the current version (``Upcasters.stamp``). An event without
``schema_version`` is read as version 1, the first shape: "absent" must keep one meaning
forever, and only the first shape was ever written before versions were stamped. (Taking
"absent" as "current" would silently misread every unstamped event the day a new version
ships.)

>>> BANK_UPCASTERS.upcast("MoneyDeposited", {"amt": "12.50"}, 1)
{'amount': Decimal('12.50')}
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
from eventsim.events import DomainEvent, Event, EventTypes, NewEvent, as_new_event, parse_money
from eventsim.replay import fold

SCHEMA_VERSION = "schema_version"  # the metadata key (events.py's convention)
FIRST_VERSION = 1  # what an event without a schema_version is
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

    def stamp(self, event: NewEvent | DomainEvent) -> NewEvent:
        """The event to write, with today's ``schema_version`` of its type in its metadata."""
        new = as_new_event(event)
        version = self.current_version(new.event_type)
        return replace(new, metadata={**new.metadata, SCHEMA_VERSION: version})

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
            payload = self._step(event_type, step, version, current)(payload)
            self.steps_applied += 1
        return payload

    def _step(self, event_type: str, step: int, version: int, current: int) -> Upcaster:
        fn = self._steps.get((event_type, step))
        if fn is None:
            raise UnknownSchemaVersion(
                f"no upcaster for {event_type} from version {step} to {step + 1}: the "
                f"chain from {version} to {current} has a gap; register one for "
                f"({event_type!r}, {step})"
            )

        def checked(payload: Payload) -> Payload:
            try:
                return fn(payload)
            except KeyError as missing:  # the payload is not the shape its version says
                raise UnknownSchemaVersion(
                    f"{event_type} payload {payload!r} has no field {missing} of version "
                    f"{step}; an event without schema_version is read as version "
                    f"{FIRST_VERSION}: stamp every write with Upcasters.stamp"
                ) from None

        return checked

    def version_of(self, event: Event) -> int:
        """The event's schema version; absent means the first (see the module docstring)."""
        version: int = event.metadata.get(SCHEMA_VERSION, FIRST_VERSION)
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
MONEY_EVENTS = ("MoneyDeposited", "MoneyWithdrawn")


def rename_amt(data: Payload) -> Payload:
    """v1 -> v2: ``{"amt": "12.50"}`` becomes ``{"amount": "12.50"}`` (a renamed field)."""
    rest = {k: v for k, v in data.items() if k != "amt"}
    return {**rest, "amount": data["amt"]}


def parse_amount(data: Payload) -> Payload:
    """v2 -> v3: the text ``"12.50"`` becomes the exact amount ``Decimal("12.50")``.

    Text that is not an exact amount (``"12,50"``, ``"1.005"``) is refused, not rounded.
    """
    return {**data, "amount": parse_money("amount", data["amount"])}


def add_usd(data: Payload) -> Payload:
    """v3 -> v4: the bank goes international; everything written before v4 was in USD."""
    return {**data, "currency": "USD"}


def bank_upcasters(current: int = 3, *, v3_to_v4: Upcaster = add_usd) -> Upcasters:
    """The money events' chain up to ``current`` (3 is today; 4 adds a currency)."""
    upcasters = Upcasters(dict.fromkeys(MONEY_EVENTS, current))
    steps = [rename_amt, parse_amount, v3_to_v4][: current - 1]
    for event_type in MONEY_EVENTS:
        for from_version, step in enumerate(steps, start=1):
            upcasters.register(event_type, from_version)(step)
    return upcasters


BANK_UPCASTERS = bank_upcasters()


# The classes the writers of 2022 and 2023 validated against: same names, old fields.
def _legacy_class(name: str, annotations: dict[str, str]) -> type[DomainEvent]:
    namespace = {"__annotations__": annotations, "__module__": __name__}
    cls = type(name, (DomainEvent,), namespace)
    return dataclass(frozen=True)(cls)


LEGACY_FIELDS = {1: {"amt": "str"}, 2: {"amount": "str"}}
BANK_EVENT_TYPES: dict[int, EventTypes] = {
    version: EventTypes(
        {
            **bank.EVENT_TYPES,
            **{n: _legacy_class(n, fields) for n in MONEY_EVENTS},
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
    """A deposit or withdrawal as the writer of ``schema_version`` shaped and stamped it."""
    if schema_version == 3:  # today's writer: today's class, stamped with today's version
        money = {"MoneyDeposited": bank.MoneyDeposited, "MoneyWithdrawn": bank.MoneyWithdrawn}
        return BANK_UPCASTERS.stamp(money[kind](amount))
    shapes: dict[int, Payload] = {1: {"amt": f"{amount:.2f}"}, 2: {"amount": f"{amount:.2f}"}}
    return NewEvent(kind, shapes[schema_version], {SCHEMA_VERSION: schema_version})


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
    return BANK_UPCASTERS.stamp(NewEvent("AccountOpened", {"owner": owner}, timestamp=at))


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
