"""Turning what a caller appends into rows the store can insert, or a clear refusal.

Everything but the store's own timestamps runs before the store's transaction opens: a bad
batch is refused whole, naming the bad value, and the store is never touched. The times
the store supplies are taken under the writer lock (``stamp``), so they follow the
stream's last event whichever store object or thread appended it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any, NamedTuple

import pyarrow as pa

from eventsim.errors import DuplicateEventId, InvalidArgument, InvalidEvent, shown
from eventsim.events import (
    DomainEvent,
    EventTypes,
    NewEvent,
    as_new_event,
    check_timestamp,
    to_json,
)
from eventsim.store import companion

MAX_BATCH = 100_000  # larger batches belong in load_parquet, which streams from disk


class Row(NamedTuple):
    """One event ready to insert: validated, serialized, with its id and time (None until
    ``stamp`` gives it the store's). A tuple: a batch makes thousands, and a frozen
    dataclass costs several times as much to build."""

    event_id: str
    event_type: str
    data: str
    metadata: str
    timestamp: datetime | None
    amount: Decimal | None = None  # the typed companion's amount (companion.amount_of)


def prepare(
    events: Sequence[NewEvent | DomainEvent],
    types: EventTypes,
    new_id: Callable[[], uuid.UUID],
) -> list[Row]:
    """Validate and serialize a batch; ids missing from it come from ``new_id``."""
    if isinstance(events, NewEvent | DomainEvent) or not isinstance(events, Sequence):
        raise InvalidArgument(f"events must be a list of events, got {type(events).__name__}")
    if not 0 < len(events) <= MAX_BATCH:
        raise InvalidArgument(
            f"a batch holds 1 to {MAX_BATCH:,} events, got {len(events):,}; "
            "for bulk data write a Parquet file and use load_parquet"
        )
    try:
        rows = [_row(e, types, new_id) for e in events]
    except RecursionError:  # raised by parsing, serializing, even printing such a payload
        raise InvalidEvent(
            "an event's data or metadata is nested too deeply to store as JSON (hundreds of "
            "levels of objects or lists); flatten it"
        ) from None
    seen: set[str] = set()
    for row in rows:
        if row.event_id in seen:
            raise DuplicateEventId(f"event id {row.event_id} appears twice in the batch")
        seen.add(row.event_id)
    return rows


def _row(
    event: NewEvent | DomainEvent,
    types: EventTypes,
    new_id: Callable[[], uuid.UUID],
) -> Row:
    if isinstance(event, DomainEvent):
        # What as_new_event would wrap it in, without building that NewEvent.
        event_type = event.event_type()
        data: Mapping[str, Any] = event.to_data()
        metadata: object = {}
        given_id: object = None
        given_time: object = None
    else:
        new = as_new_event(event)  # a NewEvent passes through; anything else is refused
        event_type, data, metadata = new.event_type, new.data, new.metadata
        given_id, given_time = new.event_id, new.timestamp
    # The parsed form is what gets stored, so "10.50" is kept as the JSON number 10.5 that
    # load_parquet (and every other reader) expects.
    parsed = types.parse(event_type, data)
    if not isinstance(metadata, dict):
        raise InvalidEvent(f"metadata must be a JSON object, got {shown(metadata)}")
    event_id = new_id() if given_id is None else given_id
    if not isinstance(event_id, uuid.UUID):
        raise InvalidEvent(f"event_id must be a uuid.UUID, got {shown(event_id)}")
    return Row(
        event_id=str(event_id),
        event_type=event_type,
        data=to_json(parsed.to_data(), f"{event_type} data"),
        metadata=to_json(metadata, f"{event_type} metadata"),
        timestamp=(
            None
            if given_time is None
            else check_timestamp(given_time, f"{event_type} timestamp", InvalidEvent)
        ),
        amount=companion.amount_of(parsed),
    )


def stamp(
    rows: Sequence[Row], clock: Callable[[], datetime], last_time: datetime | None
) -> list[Row]:
    """The rows with the store's times filled in, taken under the writer lock.

    A time the store supplies never goes back: it is at least the previous event's (a
    wall clock stepped back, or a caller's time ahead of it, must not refuse an append).
    """
    stamped, previous = [], last_time
    for row in rows:
        if row.timestamp is None:
            now = check_timestamp(clock(), f"{row.event_type} timestamp", InvalidEvent)
            row = row._replace(timestamp=now if previous is None else max(now, previous))
        stamped.append(row)
        previous = row.timestamp
    return stamped


def check_time_order(rows: Sequence[Row], last_time: datetime | None) -> None:
    """A stream's events are in time order, continuing from its last event's time; only a
    caller's own time can break it (``stamp`` keeps the store's in order)."""
    previous = last_time
    for row in rows:
        assert row.timestamp is not None, "stamp the rows first"
        if previous is not None and row.timestamp < previous:
            raise InvalidEvent(
                f"timestamp {row.timestamp.isoformat()} is earlier than the stream's "
                f"previous event at {previous.isoformat()}; a stream's events are in time order"
            )
        previous = row.timestamp


def to_table(
    stream_id: str, first_version: int, first_position: int, rows: Sequence[Row]
) -> pa.Table:
    """The rows as an Arrow table with the store's columns (DuckDB inserts it in one go)."""
    n = len(rows)
    return pa.table(
        {
            "stream_id": pa.array([stream_id] * n, pa.string()),
            "version": pa.array(range(first_version, first_version + n), pa.int32()),
            "event_id": [r.event_id for r in rows],
            "event_type": [r.event_type for r in rows],
            "data": [r.data for r in rows],
            "metadata": [r.metadata for r in rows],
            "timestamp": pa.array([r.timestamp for r in rows], pa.timestamp("us", tz="UTC")),
            "position": pa.array(range(first_position, first_position + n), pa.int64()),
            "amount": pa.array([r.amount for r in rows], pa.decimal128(38, 2)),
        }
    )


def is_resend(stream_id: str, ids: Sequence[str], found: Sequence[tuple[str, str]]) -> bool:
    """Whether a batch whose ids are partly stored is an exact re-send (a no-op).

    ``found``: (event id, stream id) of each of the batch's ids already stored. True if
    every id is stored in this stream; False if none is; a partial or misdirected re-send
    is refused, naming an id, because its new events would be lost or its old ones doubled.
    """
    if not found:
        return False
    if len({event_id for event_id, stream in found if stream == stream_id}) == len(ids):
        return True
    stored = sorted(event_id for event_id, _ in found)
    streams = sorted({stream for _, stream in found})
    raise DuplicateEventId(
        f"{len(stored)} of the batch's {len(ids)} event ids are already stored "
        f"(e.g. {stored[0]}, in {streams}): a re-send must repeat the original batch "
        "exactly, to the same stream; new events need new ids"
    )
