"""Turning what a caller appends into rows the store can insert, or a clear refusal.

Everything here runs before the store's transaction opens: a bad batch is refused whole,
naming the bad value, and the store is never touched.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pyarrow as pa

from eventsim.errors import DuplicateEventId, InvalidArgument, InvalidEvent
from eventsim.events import (
    DomainEvent,
    EventTypes,
    NewEvent,
    as_new_event,
    check_timestamp,
    to_json,
)

MAX_BATCH = 100_000  # larger batches belong in load_parquet, which streams from disk


@dataclass(frozen=True)
class Row:
    """One event ready to insert: validated, serialized, with its id and time."""

    event_id: str
    event_type: str
    data: str
    metadata: str
    timestamp: datetime


def prepare(
    events: Sequence[NewEvent | DomainEvent],
    types: EventTypes,
    clock: Callable[[], datetime],
    new_id: Callable[[], uuid.UUID],
) -> list[Row]:
    """Validate and serialize a batch; ids and times missing from it come from the sources."""
    if isinstance(events, NewEvent | DomainEvent) or not isinstance(events, Sequence):
        raise InvalidArgument(f"events must be a list of events, got {type(events).__name__}")
    if not 0 < len(events) <= MAX_BATCH:
        raise InvalidArgument(
            f"a batch holds 1 to {MAX_BATCH:,} events, got {len(events):,}; "
            "for bulk data write a Parquet file and use load_parquet"
        )
    try:
        rows = [_row(e, types, clock, new_id) for e in events]
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
    clock: Callable[[], datetime],
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
        raise InvalidEvent(f"metadata must be a JSON object, got {metadata!r}")
    event_id = given_id or new_id()
    if not isinstance(event_id, uuid.UUID):
        raise InvalidEvent(f"event_id must be a uuid.UUID, got {event_id!r}")
    timestamp = clock() if given_time is None else given_time
    return Row(
        event_id=str(event_id),
        event_type=event_type,
        data=to_json(parsed.to_data(), f"{event_type} data"),
        metadata=to_json(metadata, f"{event_type} metadata"),
        timestamp=check_timestamp(timestamp, f"{event_type} timestamp", InvalidEvent),
    )


def check_time_order(rows: Sequence[Row], last_time: datetime | None) -> None:
    """A stream's events are in time order, continuing from its last event's time."""
    previous = last_time
    for row in rows:
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
        }
    )
