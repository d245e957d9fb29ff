"""The two read queries, built once for every backend: the rows of one stream, and the
log in commit order. A backend says only how its SQL spells three things (``Dialect``).

The bounds are checked here, the same way for every backend, and every value travels as
a parameter; only fixed fragments of this module and of the dialect make up the text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from eventsim.errors import InvalidArgument, shown
from eventsim.events import EventTypes, check_stream_id, check_timestamp
from eventsim.store.arguments import positive

# A read bound past every version and position (a BIGINT holds it; 2**200 it would not):
# a larger bound reads the same rows.
BEYOND_ANY = 2**62


@dataclass(frozen=True)
class Dialect:
    """How a backend's SQL spells what the read queries need."""

    param: str  # the placeholder: "?" or "%s"
    read_columns: str  # what decode.events_from_rows expects, in its order
    type_in_list: str  # "event_type is one of the list given as one parameter"


Query = tuple[str, list[object]]


def stream_bounds(
    stream_id: str, to_version: int | None, as_of: datetime | None
) -> tuple[str, int | None, datetime | None]:
    """The read bounds of one stream, checked (the same errors for every reader of a stream)."""
    check_stream_id(stream_id)
    if to_version is not None:
        to_version = min(positive("to_version", to_version), BEYOND_ANY)
    if as_of is not None:
        as_of = check_timestamp(as_of, "as_of")
    return stream_id, to_version, as_of


def stream_query(
    dialect: Dialect, stream_id: str, to_version: int | None, as_of: datetime | None
) -> Query:
    """The stream's rows in version order, up to a version and/or a time (both inclusive)."""
    stream_id, to_version, as_of = stream_bounds(stream_id, to_version, as_of)
    p = dialect.param
    where: list[str] = [f"stream_id = {p}"]
    params: list[object] = [stream_id]
    if to_version is not None:
        where.append(f"version <= {p}")
        params.append(to_version)
    if as_of is not None:
        where.append(f"timestamp <= {p}")
        params.append(as_of)
    return (
        f"SELECT {dialect.read_columns} FROM event_store "  # noqa: S608 (fixed fragments)
        f"WHERE {' AND '.join(where)} ORDER BY version",
        params,
    )


def all_query(
    dialect: Dialect,
    types: EventTypes,
    after: int,
    event_types: Sequence[str] | None,
    limit: int | None,
) -> Query:
    """The log's rows after a position, in commit order, with ``stream_id`` last."""
    if isinstance(after, bool) or not isinstance(after, int) or after < 0:
        raise InvalidArgument(f"after must be a position >= 0, got {shown(after)}")
    p = dialect.param
    where: list[str] = [f"position > {p}"]
    params: list[object] = [min(after, BEYOND_ANY)]
    if event_types is not None:
        if isinstance(event_types, str) or not isinstance(event_types, Sequence):
            raise InvalidArgument(f"event_types must be a list of names, got {shown(event_types)}")
        for name in event_types:
            types.get(name)  # an unknown name is refused, not silently matched by nothing
        where.append(dialect.type_in_list)
        params.append(list(event_types))
    query = (
        f"SELECT {dialect.read_columns}, stream_id FROM event_store "  # noqa: S608 (fixed fragments)
        f"WHERE {' AND '.join(where)} ORDER BY position"
    )
    if limit is not None:
        query += f" LIMIT {p}"
        params.append(min(positive("limit", limit), BEYOND_ANY))
    return query, params


# ``info``: the same two questions on every backend, answered as plain values.
INFO_TOTALS_SQL = (
    "SELECT (SELECT count(*) FROM event_streams), count(*), min(timestamp), max(timestamp) "
    "FROM event_store"
)
INFO_TYPES_SQL = "SELECT event_type, count(*) FROM event_store GROUP BY 1 ORDER BY 2 DESC, 1"


def info(totals: Sequence[Any], types: Sequence[Sequence[Any]]) -> dict[str, Any]:
    """Streams, events, counts per type and the time range, from the two answers."""
    streams, events, first, last = totals
    return {
        "streams": streams,
        "events": events,
        "event_types": {name: count for name, count in types},
        "first": first,
        "last": last,
    }
