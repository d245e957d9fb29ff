"""Archiving closed streams to Parquet, querying hot and cold together, and retention.

The event log is append-only, so it only grows. Once a stream is finished (an account
closed, an order delivered or cancelled) nothing will ever be appended to it again, and
its events can move from the hot DuckDB table to a cold Parquet file. Archiving copies
the streams, verifies the copy (row count and a checksum of the event ids), and only
then removes them from ``event_store`` in one transaction, recording each stream in
``archived_streams``. The stream heads in ``event_streams`` stay, so the version of an
archived stream is still known; ``guarded_append`` refuses to write to it.

>>> from eventsim import EventStore
>>> with EventStore() as store:
...     closed_streams(store)
[]
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from eventsim.catalog import EventStore
from eventsim.domains import DOMAINS
from eventsim.errors import EventSimError, InvalidArgument
from eventsim.events import DomainEvent, Event, NewEvent, check_timestamp
from eventsim.replay import fold
from eventsim.sql import STATE_SQL
from eventsim.store import remove_streams

ARCHIVE_SQL = """
CREATE TABLE IF NOT EXISTS archived_streams (
    stream_id    VARCHAR PRIMARY KEY,
    last_version INTEGER     NOT NULL,
    file         VARCHAR     NOT NULL,
    checksum     VARCHAR     NOT NULL,
    archived_at  TIMESTAMPTZ NOT NULL,
    dropped_at   TIMESTAMPTZ
);
"""
# The events that end a stream for good: after them, the domain accepts no command.
CLOSING_TYPES = ("AccountClosed", "OrderDelivered", "OrderCancelled")
CANONICAL = (
    "stream_id, version, CAST(event_id AS VARCHAR) AS event_id, event_type, "
    "CAST(data AS VARCHAR) AS data, CAST(metadata AS VARCHAR) AS metadata, timestamp, position"
)
# Hot and cold as one relation named event_store: a CTE shadows the table of that name,
# so a domain's STATE_SQL runs unchanged over both. The file list is parameter 1.
# Put in front of a query, these CTEs shadow the hot tables with hot + cold rows, so a
# domain's STATE_SQL runs unchanged over both. The cold files are the view COLD_VIEW,
# made from the file list by DuckDB's API (a view cannot hold a ? parameter).
COLD_VIEW = "_cold_events"
HOT_AND_COLD = """
WITH event_store AS (
    SELECT * FROM main.event_store
    UNION ALL
    SELECT stream_id, version, CAST(event_id AS UUID), event_type, CAST(data AS JSON),
           CAST(metadata AS JSON), timestamp, position
    FROM _cold_events
),
event_typed AS (
    SELECT * FROM main.event_typed
    UNION ALL
    SELECT stream_id, CAST(version AS INTEGER), event_type, timestamp,
           TRY_CAST(json_extract_string(data, '$.amount') AS DECIMAL(38, 2))
    FROM _cold_events
)
"""


class StreamArchived(EventSimError):
    """The stream was archived: its events are in a cold file and it takes no new ones."""


class ArchiveVerificationFailed(EventSimError):
    """The Parquet copy does not match the hot rows; nothing was removed."""


class ArchiveDropped(EventSimError, LookupError):
    """The stream's cold file was deleted under a retention rule: its history is gone."""


@dataclass(frozen=True)
class ArchiveRun:
    """What one archive run moved: which streams, how many rows, to which file."""

    file: Path
    stream_ids: tuple[str, ...]
    rows: int
    checksum: str


def ensure_schema(store: EventStore) -> None:
    """Create the ``archived_streams`` table if it is missing."""
    store.connection.execute(ARCHIVE_SQL)


def closed_streams(store: EventStore, *, closed_before: datetime | None = None) -> list[str]:
    """Hot streams whose last event closes them (at or before ``closed_before`` if given).

    "Keep hot for N days after close" is ``closed_before=now - timedelta(days=N)``.
    """
    moment = None if closed_before is None else check_timestamp(closed_before, "closed_before")
    rows = store.connection.execute(
        "SELECT stream_id FROM event_store WHERE list_contains(?, event_type) "
        "AND (CAST(? AS TIMESTAMPTZ) IS NULL OR timestamp <= ?) ORDER BY stream_id",
        [list(CLOSING_TYPES), moment, moment],
    ).fetchall()
    return [stream_id for (stream_id,) in rows]


def checksum(event_ids: Sequence[str]) -> str:
    """SHA-256 of the sorted event ids, one per line: equal sets, equal checksums.

    >>> checksum(["b", "a"]) == checksum(["a", "b"])
    True
    """
    return hashlib.sha256("\n".join(sorted(event_ids)).encode()).hexdigest()


def archive_streams(
    store: EventStore, stream_ids: Sequence[str], directory: Path, *, now: datetime
) -> ArchiveRun:
    """Move closed streams to a new Parquet file in ``directory``; verify; then delete them.

    ``now`` (an explicit, virtual clock) is recorded as ``archived_at``.
    """
    ensure_schema(store)
    now = check_timestamp(now, "now")
    wanted = _check_closable(store, stream_ids)
    directory = Path(directory)
    if not directory.is_dir():
        raise InvalidArgument(f"archive directory {str(directory)!r} does not exist; create it")
    con = store.connection
    (runs,) = con.execute("SELECT count(DISTINCT file) FROM archived_streams").fetchall()[0]
    file = directory / f"archive-{runs + 1:04d}.parquet"
    if file.exists():
        raise InvalidArgument(f"{str(file)!r} already exists; archive into an empty directory")
    query = (
        f"SELECT {CANONICAL} FROM event_store WHERE list_contains(?, stream_id) ORDER BY position"  # noqa: S608 (constant)
    )
    pq.write_table(con.sql(query, params=[wanted]).to_arrow_table(), file, compression="zstd")
    rows, digest = _verify(con, wanted, file)
    heads = con.execute(
        "SELECT stream_id, version FROM event_streams WHERE list_contains(?, stream_id)", [wanted]
    ).fetchall()
    con.begin()
    try:
        removed = remove_streams(con, wanted, own_transaction=False)
        if removed != rows:  # a writer slipped in between the copy and the delete
            raise ArchiveVerificationFailed(
                f"{removed} rows to remove but {rows} in {str(file)!r}; archive again"
            )
        con.executemany(
            "INSERT INTO archived_streams VALUES (?, ?, ?, ?, ?, NULL)",
            [[stream_id, version, str(file), digest, now] for stream_id, version in heads],
        )
    except BaseException:
        con.rollback()
        file.unlink()
        raise
    con.commit()
    return ArchiveRun(file, tuple(wanted), rows, digest)


def _check_closable(store: EventStore, stream_ids: Sequence[str]) -> list[str]:
    if isinstance(stream_ids, str) or not stream_ids:
        raise InvalidArgument(f"stream_ids must be a non-empty list of ids, got {stream_ids!r}")
    wanted = sorted(set(stream_ids))
    closed = set(closed_streams(store))
    open_ones = [stream_id for stream_id in wanted if stream_id not in closed]
    if open_ones:
        raise InvalidArgument(
            f"only closed, hot streams can be archived; not closed or not hot: {open_ones[:5]}; "
            "pick ids from closed_streams(store)"
        )
    return wanted


def _verify(con: duckdb.DuckDBPyConnection, wanted: list[str], file: Path) -> tuple[int, str]:
    hot = [
        event_id
        for (event_id,) in con.execute(
            "SELECT CAST(event_id AS VARCHAR) FROM event_store WHERE list_contains(?, stream_id)",
            [wanted],
        ).fetchall()
    ]
    cold = [str(event_id) for event_id in pq.read_table(file, columns=["event_id"])["event_id"]]
    if len(hot) != len(cold) or checksum(hot) != checksum(cold):
        file.unlink()
        raise ArchiveVerificationFailed(
            f"{str(file)!r} holds {len(cold)} rows, the hot table {len(hot)} (or their ids "
            "differ); nothing was removed: check the disk and archive again"
        )
    return len(hot), checksum(hot)


def archived(store: EventStore) -> pd.DataFrame:
    """The ``archived_streams`` table, by stream id."""
    ensure_schema(store)
    return store.sql("SELECT * FROM archived_streams ORDER BY stream_id")


def archive_files(store: EventStore) -> list[str]:
    """The cold files still kept (not dropped), in the order they were written."""
    ensure_schema(store)
    rows = store.connection.execute(
        "SELECT DISTINCT file FROM archived_streams WHERE dropped_at IS NULL ORDER BY file"
    ).fetchall()
    return [file for (file,) in rows]


def guarded_append(
    store: EventStore,
    stream_id: str,
    events: Sequence[NewEvent | DomainEvent],
    *,
    expected_version: int | None,
) -> int:
    """``store.append``, refusing a stream that was archived (the store cannot know)."""
    ensure_schema(store)
    found = store.connection.execute(
        "SELECT file FROM archived_streams WHERE stream_id = ?", [stream_id]
    ).fetchall()
    if found:
        raise StreamArchived(
            f"stream {stream_id!r} was archived to {Path(found[0][0]).name!r} and is closed "
            "for good; start a new stream instead of appending to it"
        )
    return store.append(stream_id, events, expected_version=expected_version)


def all_states_over(
    store: EventStore, domain: str, files: Sequence[str], *, as_of: datetime
) -> pd.DataFrame:
    """Like ``replay.all_states``: every stream of ``domain`` as of a time, hot and cold."""
    if domain not in DOMAINS:
        raise InvalidArgument(f"unknown domain {domain!r}; choose one of {sorted(DOMAINS)}")
    moment = check_timestamp(as_of, "as_of")
    if not files:
        return store.sql(STATE_SQL[domain], [moment])
    _cold_view(store, files)
    return store.sql(STATES_OVER_HOT_AND_COLD[domain], [moment])


def stream_over(store: EventStore, stream_id: str, files: Sequence[str]) -> pd.DataFrame:
    """One stream's events from hot and cold, in version order; refuses a dropped stream."""
    ensure_schema(store)
    dropped = store.connection.execute(
        "SELECT file, dropped_at FROM archived_streams "
        "WHERE stream_id = ? AND dropped_at IS NOT NULL",
        [stream_id],
    ).fetchall()
    if dropped:
        file, when = dropped[0]
        raise ArchiveDropped(
            f"the history of {stream_id!r} was in {Path(file).name!r}, deleted on "
            f"{when:%Y-%m-%d} by the retention rule; it cannot be replayed any more "
            "(only its last version is known)"
        )
    if not files:
        return store.sql(STREAM_SQL, [stream_id])
    _cold_view(store, files)
    return store.sql(STREAM_OVER_HOT_AND_COLD, [stream_id])


def over_hot_and_cold(query: str) -> str:
    """``query`` with HOT_AND_COLD in front, joined to its own WITH clause if it has one."""
    body = query.lstrip()
    if body[:5].upper() == "WITH ":
        return HOT_AND_COLD.rstrip() + ",\n" + body[5:]
    return HOT_AND_COLD + body


STREAM_SQL = "SELECT * FROM event_store WHERE stream_id = ? ORDER BY version"
STREAM_OVER_HOT_AND_COLD = over_hot_and_cold(STREAM_SQL)
STATES_OVER_HOT_AND_COLD = {name: over_hot_and_cold(sql) for name, sql in STATE_SQL.items()}


def _cold_view(store: EventStore, files: Sequence[str]) -> None:
    """The connection's temporary view of the cold files, named COLD_VIEW.

    Read by pyarrow: DuckDB's read_parquet takes a name as a glob pattern (``cold[1]``).
    """
    cold = pa.concat_tables([pq.read_table(pa.OSFile(str(file))) for file in files])
    store.connection.register(COLD_VIEW, cold)


def state_over(
    store: EventStore, stream_id: str, files: Sequence[str], *, as_of: datetime | None = None
) -> Any:
    """Like ``replay.state_at``: one stream's state, folded from its hot and cold events."""
    rows = stream_over(store, stream_id, files)
    if as_of is not None:
        rows = rows[rows["timestamp"] <= check_timestamp(as_of, "as_of")]
    if rows.empty:
        raise InvalidArgument(f"stream {stream_id!r} has no events (by {as_of}); check the id")
    events = [
        Event(
            r["stream_id"],
            r["version"],
            r["event_id"],
            r["event_type"],
            json.loads(r["data"]),
            json.loads(r["metadata"]) if isinstance(r["metadata"], str) else {},
            r["timestamp"],
            r["position"],
        )
        for r in rows.to_dict("records")
    ]
    return fold(events)


def drop_expired(store: EventStore, *, now: datetime, keep_days: int) -> list[str]:
    """Retention for cold data: delete files archived more than ``keep_days`` before ``now``.

    The rows of ``archived_streams`` stay, marked ``dropped_at``: the log still knows the
    streams existed and their last version, but no longer what happened in them.
    """
    ensure_schema(store)
    now = check_timestamp(now, "now")
    if isinstance(keep_days, bool) or not isinstance(keep_days, int) or keep_days < 0:
        raise InvalidArgument(f"keep_days must be a whole number >= 0, got {keep_days!r}")
    expired = [
        file
        for (file,) in store.connection.execute(
            "SELECT DISTINCT file FROM archived_streams WHERE dropped_at IS NULL "
            "AND archived_at < CAST(? AS TIMESTAMPTZ) - to_days(CAST(? AS INTEGER)) ORDER BY file",
            [now, keep_days],
        ).fetchall()
    ]
    for file in expired:
        Path(file).unlink(missing_ok=True)
    store.connection.execute(
        "UPDATE archived_streams SET dropped_at = ? WHERE list_contains(?, file)", [now, expired]
    )
    return expired
