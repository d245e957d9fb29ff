"""Rows of ``event_store`` become ``Event`` objects: the read path's speed lives here.

The plain version is one ``Event(...)`` per row with ``json.loads`` on its payload and
DuckDB's own TIMESTAMPTZ conversion. Three tricks buy most of a 10k-event read's time
back, each measured when it went in (see benchmarks/RESULTS.md):

- the time is fetched as microseconds since the epoch, which Python turns into a datetime
  several times faster than DuckDB's conversion;
- the payloads are parsed in one ``json.loads`` of a JSON array, not one call per row;
- the cycle collector is paused while the objects are built (``collector_paused``).
"""

from __future__ import annotations

import gc
import json
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from eventsim.events import Event

# What the readers fetch: the time as microseconds since the epoch, which Python turns into
# a datetime several times faster than DuckDB's own TIMESTAMPTZ conversion does; no
# stream_id when the caller named the stream (each column fetched costs a column scan).
READ_COLUMNS = "version, event_id, event_type, data, metadata, epoch_us(timestamp), position"
# DuckDB hands back times in this zone (the connection's TimeZone); the same object keeps
# an Event's timestamp, its repr and its isoformat exactly as before.
_UTC = ZoneInfo("UTC")
_EPOCH = datetime(1970, 1, 1, tzinfo=_UTC)


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause Python's cycle collector while rows become Events.

    Tens of thousands of new dicts and Events would set it off again and again, each
    time walking every object of the process: a third of a 10k-event read. Nothing built
    here forms a cycle, so nothing is left for it to find; it resumes afterwards.
    """
    if not gc.isenabled():  # paused by the caller (or another read): leave it to them
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def events_from_rows(rows: list[tuple[Any, ...]], stream_ids: Iterable[str]) -> list[Event]:
    """Events from rows of ``READ_COLUMNS`` (anything after them is ignored)."""
    data = parse_all([row[3] for row in rows])
    epoch, micro, loads = _EPOCH, timedelta, json.loads
    return [
        Event(
            stream_id,
            row[0],
            row[1],
            row[2],
            payload,
            # Most events carry no metadata: "{}" or NULL need no parser.
            loads(row[4]) if row[4] and row[4] != "{}" else {},
            epoch + micro(microseconds=row[5]),
            row[6],
        )
        for row, payload, stream_id in zip(rows, data, stream_ids, strict=False)
    ]


def parse_all(texts: list[str]) -> list[Any]:
    """Parse many JSON texts; one parse of them as a JSON array is several times cheaper."""
    try:
        parsed: list[Any] = json.loads("[" + ",".join(texts) + "]")
    except RecursionError:  # a payload nested at the limit, one level deeper in the array
        parsed = [json.loads(text) for text in texts]
    return parsed
