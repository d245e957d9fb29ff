"""The typed companion of ``event_store``: each event's scalar columns and its amount, typed.

``event_store`` stays the source of truth. ``event_typed`` repeats, for every event, the
few columns the SQL folds group and filter on, plus the payload's ``amount`` as a
``DECIMAL(38, 2)``, so a replay of ten million events sums a typed column instead of
parsing ten million JSON texts. It is written in the same transaction as the events it
describes (``append``, ``load_parquet``), rebuilt from ``event_store`` if a store file
predates it, and emptied of a stream only by ``store.remove_streams``.

>>> import duckdb
>>> con = duckdb.connect()
>>> con.execute(SCHEMA_SQL) and None
>>> [name for name, *_ in con.execute("DESCRIBE event_typed").fetchall()]
['stream_id', 'version', 'event_type', 'timestamp', 'amount']
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import duckdb

from eventsim.events import DomainEvent, EventTypes, field_kinds

SCHEMA_SQL = """
CREATE TABLE IF NOT EXISTS event_typed (
    stream_id  VARCHAR     NOT NULL,
    version    INTEGER     NOT NULL,
    event_type VARCHAR     NOT NULL,
    timestamp  TIMESTAMPTZ NOT NULL,
    amount     DECIMAL(38, 2)
);
"""

# Parameter: the event types whose payload has an ``amount`` of kind Money. The rows come
# from a relation with the store's columns (the load's staging table, or event_store
# itself when rebuilding).
_SELECT_SQL = """
SELECT stream_id, CAST(version AS INTEGER), event_type, timestamp,
       CASE WHEN list_contains(?, event_type)
            THEN CAST(json_extract_string(data, '$.amount') AS DECIMAL(38, 2)) END
FROM {source}
"""
SOURCES = {"incoming": "_incoming", "store": "event_store"}
_INSERT_VALUES = "INSERT INTO event_typed VALUES (?, ?, ?, ?, ?)"
# An append's batch (eventsim.store.insert) comes as a view of this name, and brings each
# amount typed already.
BATCH_VIEW = "_append_batch"
INSERT_BATCH_SQL = (
    "INSERT INTO event_typed "  # noqa: S608 (constants)
    f"SELECT stream_id, version, event_type, timestamp, amount FROM {BATCH_VIEW}"
)


def carries_amount(event_class: type[DomainEvent]) -> bool:
    """Whether the type's payload has an ``amount`` of kind Money: the one typed column."""
    carries = _CARRIES.get(event_class)
    if carries is None:  # asked per appended event: worked out once per class
        carries = _CARRIES[event_class] = field_kinds(event_class).get("amount") == "Money"
    return carries


_CARRIES: dict[type[DomainEvent], bool] = {}


def amount_of(event: DomainEvent) -> Decimal | None:
    """The event's typed amount, as the companion stores it (None if it carries none)."""
    return getattr(event, "amount", None) if carries_amount(type(event)) else None


def amount_types(types: EventTypes) -> list[str]:
    """The event types that carry a Money ``amount``."""
    return [n for n in types.names() if carries_amount(types.get(n))]


def insert_from(
    con: duckdb.DuckDBPyConnection,
    source: str,
    types: EventTypes,
) -> None:
    """Add the typed rows of every event in ``source`` (a key of ``SOURCES``)."""
    # A load's rows come staged in stream order, which the insert keeps: one stream's rows
    # sit together in few row groups.
    query = "INSERT INTO event_typed " + _SELECT_SQL.format(source=SOURCES[source])  # noqa: S608
    con.execute(query, [amount_types(types)])


def insert_row(
    con: duckdb.DuckDBPyConnection,
    stream_id: str,
    version: int,
    event_type: str,
    timestamp: datetime,
    amount: Decimal | None,
) -> None:
    """Add the typed row of one appended event (``amount``: ``amount_of`` its event)."""
    con.execute(_INSERT_VALUES, [stream_id, version, event_type, timestamp, amount])


def rebuild_if_stale(con: duckdb.DuckDBPyConnection, types: EventTypes) -> None:
    """Fill the companion from ``event_store`` when the counts differ (an older store file)."""
    (events, typed) = con.execute(
        "SELECT (SELECT count(*) FROM event_store), (SELECT count(*) FROM event_typed)"
    ).fetchall()[0]
    if events == typed:
        return
    con.begin()
    try:
        con.execute("DELETE FROM event_typed")
        con.execute(
            "INSERT INTO event_typed "
            + _SELECT_SQL.format(source=SOURCES["store"])  # noqa: S608 (constant)
            + " ORDER BY stream_id, version",
            [amount_types(types)],
        )
        con.commit()
    except BaseException:
        con.rollback()
        raise
