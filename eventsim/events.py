"""The event record, domain events as typed payloads, and the JSON contract between them.

Three shapes of one fact:

- a domain event (``MoneyDeposited(amount=Decimal("50"))``): a frozen dataclass a
  domain's ``decide`` returns and ``evolve`` folds;
- a ``NewEvent``: what ``EventStore.append`` takes (type, JSON payload, metadata);
- an ``Event``: what the store gives back, with stream, version, id, time and position.

Metadata conventions: ``correlation_id`` (the business flow an event belongs to),
``causation_id`` (the event or command that caused it) and ``schema_version``.
"""

from __future__ import annotations

import dataclasses
import json
import random
import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar, Self

from eventsim.errors import EventSimError, InvalidArgument, InvalidEvent, UnknownEventType, shown

MAX_PAYLOAD_BYTES = 64 * 1024
# Amounts are below this: 26 digits, and with two decimals they fit Decimal's 28. The bulk
# loader's SQL takes the same constant as a parameter.
MONEY_LIMIT = 10**26
STREAM_ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:@-]{0,254}")
# Timestamps outside these bounds are almost always a unit mistake (ms for s, a year typo).
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Event:
    """One stored event, as read back from the store."""

    stream_id: str
    version: int
    event_id: uuid.UUID
    event_type: str
    data: dict[str, Any]
    metadata: dict[str, Any]
    timestamp: datetime
    position: int


@dataclass(frozen=True)
class NewEvent:
    """An event to append: the store assigns stream, version and position.

    ``event_id`` and ``timestamp`` default to a random UUID and the store's clock; pass
    them to make a re-send idempotent or a lesson reproducible.
    """

    event_type: str
    data: Mapping[str, Any]
    metadata: Mapping[str, Any] = field(default_factory=dict)
    event_id: uuid.UUID | None = None
    timestamp: datetime | None = None


def _parse_str(name: str, value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidEvent(f"field {name!r} must be a non-empty string, got {shown(value)}")
    return value


def _parse_int(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidEvent(f"field {name!r} must be a whole number, got {shown(value)}")
    return value


def parse_money(name: str, value: object) -> Decimal:
    """A positive, finite amount with at most two decimals, as an exact Decimal.

    >>> parse_money("amount", 1000.5)
    Decimal('1000.5')
    """
    if type(value) is int and 0 < value < MONEY_LIMIT:
        return Decimal(value)  # the common stored amount: nothing below can refuse it
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        raise InvalidEvent(f"field {name!r} must be a number, got {shown(value)}")
    if isinstance(value, int) and value >= MONEY_LIMIT:  # before str(): 10**5000 has none
        raise InvalidEvent(f"field {name!r} is too large: {shown(value)}; check its units")
    try:
        # str() first: Decimal(0.1) would carry the float's binary error into the ledger.
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise InvalidEvent(f"field {name!r} must be a number, got {shown(value)}") from None
    if not amount.is_finite() or amount <= 0:
        raise InvalidEvent(f"field {name!r} must be a finite amount > 0, got {shown(value)}")
    if amount >= MONEY_LIMIT:
        raise InvalidEvent(f"field {name!r} is too large: {shown(value)}; check its units")
    try:
        cents = amount.quantize(Decimal("0.01"))
    except InvalidOperation:  # more digits than Decimal's 28 of precision
        raise InvalidEvent(
            f"field {name!r} is too large: {shown(value)}; check its units"
        ) from None
    if amount != cents:
        raise InvalidEvent(
            f"field {name!r} has more than 2 decimals: {shown(value)}; round to cents"
        )
    # A fraction is stored as a JSON number, a double: refuse what a double cannot hold
    # exactly. A float holds itself: its shortest repr is where ``amount`` came from.
    if (
        type(value) is not float
        and amount != amount.to_integral_value()
        and Decimal(repr(float(amount))) != amount
    ):
        raise InvalidEvent(
            f"field {name!r} has more digits than a JSON number keeps exactly: {shown(value)}; "
            "use at most 15 significant digits"
        )
    return amount


Parser = Callable[[str, object], object]
BASE_PARSERS: dict[str, Parser] = {"str": _parse_str, "int": _parse_int, "Money": parse_money}


class DomainEvent:
    """Mix-in for a domain's frozen event dataclasses: name, payload and validation.

    Fields are parsed by their annotation: ``str``, ``int``, ``Money`` (an exact positive
    Decimal), plus whatever a domain adds in ``FIELD_PARSERS``.
    """

    FIELD_PARSERS: ClassVar[Mapping[str, Parser]] = {}

    @classmethod
    def event_type(cls) -> str:
        return cls.__name__

    @classmethod
    def from_data(cls, data: object) -> Self:
        """Build the event from a JSON payload, or raise ``InvalidEvent`` naming the field."""
        if not isinstance(data, Mapping):
            raise InvalidEvent(
                f"{cls.__name__} data must be a JSON object, got {type(data).__name__}: "
                f"{shown(data)}"
            )
        names, parsers = _plan(cls)
        if data.keys() != names:
            fields = field_kinds(cls)
            missing = sorted(set(fields) - set(data))
            extra = sorted(set(data) - set(fields), key=str)  # keys need not be text
            raise InvalidEvent(
                f"{cls.__name__} data must have exactly the fields {sorted(fields)}; "
                f"missing {missing}, unexpected {shown(extra)}"
            )
        return cls(**{name: parse(name, data[name]) for name, parse in parsers})

    def to_data(self) -> dict[str, Any]:
        """The JSON-ready payload (Decimals become numbers)."""
        return {name: to_jsonable(getattr(self, name)) for name, _ in _plan(type(self))[1]}


# Per event class: its field names, and each field's parser in field order. Worked out
# once per class, not per event: ``dataclasses.fields`` and merging the parsers cost more
# than parsing a small payload.
_Plan = tuple[frozenset[str], tuple[tuple[str, Parser], ...]]
_PLANS: dict[type[DomainEvent], _Plan] = {}


def _plan(cls: type[DomainEvent]) -> _Plan:
    plan = _PLANS.get(cls)
    if plan is None:
        kinds = field_kinds(cls)
        parsers = {**BASE_PARSERS, **cls.FIELD_PARSERS}
        plan = _PLANS[cls] = (
            frozenset(kinds),
            tuple((name, parsers.get(kind) or _no_parser(kind)) for name, kind in kinds.items()),
        )
    return plan


def _no_parser(kind: str) -> Parser:
    """A field of a kind nobody parses fails when parsed, as a lookup of its parser would."""

    def fail(name: str, value: object) -> object:
        raise KeyError(kind)

    return fail


def field_kinds(cls: type[DomainEvent]) -> dict[str, str]:
    """Each payload field's name and annotation (``"Money"``, ``"str"``, ...), in order."""
    return {f.name: str(f.type) for f in dataclasses.fields(cls)}  # type: ignore[arg-type]


def to_jsonable(value: object) -> object:
    """Decimals to int or float, tuples to lists, dataclasses to dicts, recursively."""
    # Exact types first (the common payload is a dict of scalars and Decimals): none of
    # them is a dataclass, so the order of the answers does not change.
    if type(value) in _JSON_SCALARS:
        return value
    if type(value) is dict:
        return {k: to_jsonable(v) for k, v in value.items()}
    if type(value) is Decimal:
        return _decimal(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Decimal):
        return _decimal(value)
    if isinstance(value, Mapping):
        return {k: to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_jsonable(v) for v in value]
    return value


def _decimal(value: Decimal) -> int | float:
    """A whole Decimal as an int, any other as a float (infinite or NaN if it is, or if it
    is beyond a double: JSON refuses those, and a billion-digit int is never built)."""
    if value.is_finite() and value.adjusted() < 309 and value == value.to_integral_value():
        return int(value)
    return float(value)  # a signalling NaN raises ValueError, which to_json reports


_JSON_SCALARS = frozenset({str, int, float, bool, type(None)})
# One encoder for every payload: json.dumps with options builds a new one per call.
_ENCODER = json.JSONEncoder(allow_nan=False, separators=(",", ":"))


def to_json(value: Mapping[str, Any], what: str) -> str:
    """Compact JSON text; NaN, infinities, oversized or unserializable values are refused."""
    if type(value) is dict and not value:
        return "{}"  # the usual metadata
    try:
        text = _ENCODER.encode(to_jsonable(value))
    except RecursionError:
        raise InvalidEvent(
            f"{what} is nested too deeply to store as JSON (hundreds of levels of objects or "
            "lists); flatten it"
        ) from None
    except (TypeError, ValueError) as exc:
        raise InvalidEvent(f"{what} is not valid JSON ({exc}): {shown(value)}") from None
    if "\\ud" in text:  # a surrogate escape: valid in a pair, but DuckDB refuses a lone one
        try:
            json.dumps(to_jsonable(value), ensure_ascii=False).encode()
        except UnicodeEncodeError as exc:
            raise InvalidEvent(
                f"{what} has text that is not valid Unicode (the lone surrogate "
                f"{ascii(exc.object[exc.start : exc.end])}): {ascii(value)[:300]}; "
                "decode the text properly before storing it"
            ) from None
    # The encoder escapes every non-ASCII character: a character is a byte.
    if len(text) > MAX_PAYLOAD_BYTES:
        raise InvalidEvent(
            f"{what} is {len(text)} bytes, over the {MAX_PAYLOAD_BYTES}-byte limit; "
            "store large documents elsewhere and put a reference in the event"
        )
    return text


def as_new_event(
    event: NewEvent | DomainEvent, metadata: Mapping[str, Any] | None = None
) -> NewEvent:
    """Wrap a domain event as a ``NewEvent``; a ``NewEvent`` passes through."""
    if isinstance(event, NewEvent):
        return event
    if isinstance(event, DomainEvent):
        return NewEvent(event.event_type(), event.to_data(), dict(metadata or {}))
    raise InvalidEvent(
        f"expected a NewEvent or a domain event, got {type(event).__name__}: {shown(event)}"
    )


def caused_by(cause: Event, **extra: Any) -> dict[str, Any]:
    """Metadata for an event caused by ``cause``: same correlation, causation = its id."""
    correlation = cause.metadata.get("correlation_id", str(cause.event_id))
    return {"correlation_id": correlation, "causation_id": str(cause.event_id), **extra}


class TickingClock:
    """A reproducible clock for lessons and tests: start, start + step, start + 2 steps...

    >>> clock = TickingClock(datetime(2024, 3, 15, 9, 0, tzinfo=UTC))
    >>> clock().isoformat(), clock().isoformat()
    ('2024-03-15T09:00:00+00:00', '2024-03-15T09:01:00+00:00')
    """

    def __init__(self, start: datetime, step: timedelta = timedelta(minutes=1)) -> None:
        self._next = start
        self._step = step

    def __call__(self) -> datetime:
        now, self._next = self._next, self._next + self._step
        return now


def seeded_ids(seed: int) -> Callable[[], uuid.UUID]:
    """A source of UUID-4-shaped ids that repeats for the same seed (ids a lesson can print).

    >>> next_id = seeded_ids(7)
    >>> next_id() == seeded_ids(7)()
    True
    """
    rng = random.Random(seed)
    return lambda: uuid.UUID(int=rng.getrandbits(128), version=4)


def check_stream_id(stream_id: object) -> str:
    """Return the id if it is 1-255 letters, digits or ``._:@-`` (starting alphanumeric)."""
    if not isinstance(stream_id, str) or not STREAM_ID_PATTERN.fullmatch(stream_id):
        raise InvalidArgument(
            f"stream id {shown(stream_id)} is not valid: use 1 to 255 characters from letters, "
            "digits and . _ : @ - starting with a letter or digit, e.g. 'account-42'"
        )
    return stream_id


def check_timestamp(
    value: object, what: str = "timestamp", error: type[EventSimError] = InvalidArgument
) -> datetime:
    """Return the time in UTC; naive or implausible times raise ``error``."""
    if not isinstance(value, datetime):
        raise error(f"{what} must be a datetime, got {type(value).__name__}: {shown(value)}")
    try:
        offset = value.utcoffset()
    except (TypeError, ValueError):  # a tzinfo that answers nonsense
        offset = None
    if value.tzinfo is None or offset is None:
        raise error(
            f"{what} {value.isoformat()} has no time zone; pass an aware time such as "
            f"datetime({value.year}, {value.month}, {value.day}, tzinfo=UTC)"
        )
    try:
        utc = value.astimezone(UTC)
    except OverflowError:  # datetime.max at -05:00 is past the year 9999 in UTC
        utc = None
    if utc is None or not EARLIEST <= utc < LATEST:
        raise error(f"{what} {value.isoformat()} is outside 1970..2099; check its units")
    return utc


class EventTypes:
    """The registry of known event types: name -> domain event class."""

    def __init__(self, classes: Mapping[str, type[DomainEvent]]) -> None:
        self._classes = dict(classes)

    def __contains__(self, event_type: object) -> bool:
        return isinstance(event_type, str) and event_type in self._classes

    def names(self) -> list[str]:
        return sorted(self._classes)

    def get(self, event_type: str) -> type[DomainEvent]:
        if event_type not in self:
            raise UnknownEventType(
                f"unknown event type {shown(event_type)}; known types: {', '.join(self.names())}"
            )
        return self._classes[event_type]

    def parse(self, event_type: str, data: object) -> DomainEvent:
        """The typed domain event for a stored payload."""
        return self.get(event_type).from_data(data)
