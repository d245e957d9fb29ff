"""The store's tables, and the two operations that touch them outside the store object.

``event_store`` holds exactly the canonical columns plus ``position``, the global
gap-free commit order. Two small side tables make the write path cheap without scanning
the log: ``event_streams`` (each stream's head: version and last timestamp, like Marten's
``mt_streams``) and ``event_log`` (the last position). All change in the same transaction
as the events they describe. The typed companion's table is in ``eventsim.store.companion``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import duckdb
import pyarrow as pa

from eventsim.errors import InvalidArgument

_LOG_COLUMNS = """
    stream_id  VARCHAR     NOT NULL,
    version    INTEGER     NOT NULL,
    event_id   UUID        NOT NULL,
    event_type VARCHAR     NOT NULL,
    data       JSON        NOT NULL,
    metadata   JSON,
    timestamp  TIMESTAMPTZ NOT NULL,
    position   BIGINT      NOT NULL"""
# A stream holds each version once; an event id is stored once in the whole log.
LOG_KEYS = ("PRIMARY KEY (stream_id, version)", "UNIQUE (event_id)")

SCHEMA_SQL = f"""
CREATE TABLE IF NOT EXISTS event_store ({_LOG_COLUMNS},
    {", ".join(LOG_KEYS)}
);
CREATE TABLE IF NOT EXISTS event_streams (
    stream_id      VARCHAR PRIMARY KEY,
    version        INTEGER     NOT NULL,
    last_timestamp TIMESTAMPTZ NOT NULL
);
CREATE TABLE IF NOT EXISTS event_log (position BIGINT NOT NULL);
INSERT INTO event_log SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM event_log);
"""  # noqa: S608 (constants)
# The empty log re-created without its keys, and the keys added back: a bulk load's way
# (eventsim.store.bulk_keys).
LOG_WITHOUT_KEYS_SQL = f"DROP TABLE event_store; CREATE TABLE event_store ({_LOG_COLUMNS})"
ADD_LOG_KEYS_SQL = "; ".join(f"ALTER TABLE event_store ADD {key}" for key in LOG_KEYS)

COLUMNS = "stream_id, version, event_id, event_type, data, metadata, timestamp, position"
# The log's rows as Arrow columns with portable types (ids and JSON as text), as exported.
LOG_SCHEMA = pa.schema(
    [
        ("stream_id", pa.string()),
        ("version", pa.int32()),
        ("event_id", pa.string()),
        ("event_type", pa.string()),
        ("data", pa.string()),
        ("metadata", pa.string()),
        ("timestamp", pa.timestamp("us", tz="UTC")),
        ("position", pa.int64()),
    ]
)


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """All the statements in the block commit together, or none does (any exception)."""
    con.begin()
    try:
        yield
    except BaseException:
        con.rollback()
        raise
    con.commit()


def remove_streams(
    con: duckdb.DuckDBPyConnection, stream_ids: Sequence[str], *, own_transaction: bool = True
) -> int:
    """Delete whole streams from ``event_store`` and its companion; return the events removed.

    The one sanctioned deletion, for archiving: the log is otherwise append-only. The
    streams' heads stay in ``event_streams``, so an archived stream is not re-created from
    version 1 and its versions never repeat. Runs in a transaction of its own; inside the
    caller's (so that the archive's own writes commit with it) pass
    ``own_transaction=False``.

    >>> from eventsim.domains.bank import AccountOpened
    >>> from eventsim.events import EventTypes, NewEvent
    >>> from eventsim.store import DuckDBEventStore
    >>> types = EventTypes({"AccountOpened": AccountOpened})
    >>> with DuckDBEventStore(event_types=types) as store:
    ...     store.append("account-1", [NewEvent("AccountOpened", {"owner": "Ada"})],
    ...                  expected_version=0)
    ...     remove_streams(store.connection, ["account-1"])
    1
    1
    """
    if isinstance(stream_ids, str) or not all(isinstance(s, str) for s in stream_ids):
        raise InvalidArgument(f"stream_ids must be a list of stream ids, got {stream_ids!r}")
    ids = list(stream_ids)
    if own_transaction:
        con.begin()
    try:
        # DuckDB answers a DELETE with the number of rows it deleted.
        (removed,) = con.execute(
            "DELETE FROM event_store WHERE list_contains(?, stream_id)", [ids]
        ).fetchall()[0]
        con.execute("DELETE FROM event_typed WHERE list_contains(?, stream_id)", [ids])
        if own_transaction:
            con.commit()
    except BaseException:
        if own_transaction:
            con.rollback()
        raise
    return int(removed)
