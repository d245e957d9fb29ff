"""The peers, on the same generated data: the ``eventsourcing`` library on SQLite, a plain
Python fold, pandas, and DuckDB over a typed column (the limit a store can approach).

The ``eventsourcing`` aggregate mirrors the bank domain: opened, deposited, withdrawn,
closed; amounts in cents.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any
from uuid import UUID

import duckdb
import pandas as pd
import pyarrow as pa

try:  # the peer is an optional dependency (the bench extra); the harness says if missing
    from eventsourcing.application import Application
    from eventsourcing.domain import Aggregate, event
except ImportError:  # pragma: no cover - reported as a missing peer
    Application = None


if Application is not None:

    class BankAccount(Aggregate):  # type: ignore[misc]
        """The bank account as an ``eventsourcing`` aggregate."""

        @event("Opened")
        def __init__(self, owner: str) -> None:
            self.owner = owner
            self.balance = 0
            self.status = "open"

        @event("Deposited")
        def deposit(self, cents: int) -> None:
            self.balance += cents

        @event("Withdrawn")
        def withdraw(self, cents: int) -> None:
            self.balance -= cents

        @event("Closed")
        def close(self) -> None:
            self.status = "closed"


def eventsourcing_app(folder: Path) -> Any:
    """A fresh ``eventsourcing`` application persisting to SQLite in ``folder``."""
    if Application is None:
        raise RuntimeError("the eventsourcing peer is not installed: pip install eventsourcing")
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("es.db*"):
        old.unlink()
    return Application(
        env={"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(folder / "es.db")}
    )


def apply_command(account: Any, kind: str, cents: int) -> None:
    """One bank command on the aggregate (the generated event replayed as a command)."""
    if kind == "MoneyDeposited":
        account.deposit(cents)
    elif kind == "MoneyWithdrawn":
        account.withdraw(cents)
    elif kind == "AccountClosed":
        account.close()


def new_account(owner: str = "Ada Lovelace") -> Any:
    return BankAccount(owner)


def eventsourcing_fold(app: Any) -> dict[UUID, int]:
    """Read every stored event of the application and fold balances per aggregate."""
    balances: dict[UUID, int] = {}
    mapper = app.mapper
    for notification in app.recorder.select_notifications(start=None, limit=10**9):
        domain_event = mapper.to_domain_event(notification)
        name = type(domain_event).__name__
        if name == "Deposited":
            balances[domain_event.originator_id] = (
                balances.get(domain_event.originator_id, 0) + domain_event.cents
            )
        elif name == "Withdrawn":
            balances[domain_event.originator_id] = (
                balances.get(domain_event.originator_id, 0) - domain_event.cents
            )
        else:
            balances.setdefault(domain_event.originator_id, 0)
    return balances


def rows(parquet: Path, limit: int) -> list[tuple[str, str, str]]:
    """The first ``limit`` events as (stream_id, event_type, data JSON) tuples."""
    return duckdb.execute(
        "SELECT stream_id, event_type, data FROM read_parquet(?) LIMIT ?", [str(parquet), limit]
    ).fetchall()


def stream_rows(parquet: Path, streams: list[str]) -> list[tuple[str, str, str]]:
    """Whole histories of some streams, in version order."""
    return duckdb.execute(
        "SELECT stream_id, event_type, data FROM read_parquet(?) "
        "WHERE list_contains(?, stream_id) ORDER BY stream_id, version",
        [str(parquet), streams],
    ).fetchall()


def python_fold(events: Iterable[tuple[str, str, str]]) -> dict[str, int]:
    """The naive replay: parse each event's JSON and fold balances in cents in a dict."""
    balances: dict[str, int] = {}
    for stream_id, event_type, data in events:
        if event_type == "MoneyDeposited":
            balances[stream_id] += round(json.loads(data)["amount"] * 100)
        elif event_type == "MoneyWithdrawn":
            balances[stream_id] -= round(json.loads(data)["amount"] * 100)
        elif event_type == "AccountOpened":
            balances[stream_id] = 0
    return balances


TYPED_SQL = """
CREATE OR REPLACE TABLE typed AS
SELECT stream_id, event_type, timestamp,
       CAST(CASE event_type WHEN 'MoneyWithdrawn' THEN -1 ELSE 1 END
            * coalesce(CAST(data->>'amount' AS DECIMAL(18, 2)), 0) * 100 AS BIGINT) AS cents
FROM read_parquet(?)
"""


def typed_copy(parquet: Path) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB table of the same events with the amount as a typed column."""
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    threads = os.environ.get("BENCH_THREADS")
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    con.execute(TYPED_SQL, [str(parquet)])
    return con


DUCKDB_LIMIT_SQL = "SELECT stream_id, sum(cents) FROM typed GROUP BY stream_id"
DUCKDB_AS_OF_SQL = "SELECT stream_id, sum(cents) FROM typed WHERE timestamp <= ? GROUP BY stream_id"


def duckdb_limit(con: duckdb.DuckDBPyConnection) -> int:
    """DuckDB's GROUP BY over the typed column: every account's balance."""
    return len(con.execute(DUCKDB_LIMIT_SQL).fetchall())


STREAM_COLUMNS_SQL = (
    "SELECT version, event_type, amount FROM event_typed WHERE stream_id = ? ORDER BY version"
)
POINT_QUERY_SQL = (
    "SELECT version, event_type, data FROM event_store WHERE stream_id = ? AND timestamp <= ?"
)


def duckdb_stream_columns(con: duckdb.DuckDBPyConnection, stream_id: str) -> int:
    """DuckDB reading one stream's typed columns (the store's companion) into numpy."""
    return len(con.execute(STREAM_COLUMNS_SQL, [stream_id]).fetchnumpy()["version"])


def duckdb_point_query(con: duckdb.DuckDBPyConnection, stream_id: str, as_of: Any) -> int:
    """DuckDB's point query of one stream's rows up to a time, as Python tuples."""
    return len(con.execute(POINT_QUERY_SQL, [stream_id, as_of]).fetchall())


def pandas_frame(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    return con.execute("SELECT stream_id, cents, timestamp FROM typed").df()


def pandas_groupby(frame: pd.DataFrame) -> pd.Series:
    """pandas' groupby over the same typed column."""
    return frame.groupby("stream_id", sort=False)["cents"].sum()


_EVENTS_COLUMNS = (
    "stream_id VARCHAR, version INTEGER, event_id UUID, event_type VARCHAR, data JSON, "
    "metadata JSON, timestamp TIMESTAMPTZ"
)
KEYED_TABLE_SQL = (
    f"CREATE TABLE events ({_EVENTS_COLUMNS}, PRIMARY KEY (stream_id, version), UNIQUE (event_id))"
)
PLAIN_TABLE_SQL = f"CREATE TABLE events ({_EVENTS_COLUMNS})"


def duckdb_load(parquet: Path, database: Path, memory_limit: str, table_sql: str) -> int:
    """DuckDB loading the Parquet into a table of the store's columns, no check at all:
    with the store's keys (``KEYED_TABLE_SQL``, the peer) or none (``PLAIN_TABLE_SQL``,
    the limit)."""
    con = duckdb.connect(str(database))
    try:
        con.execute("SET memory_limit = ?", [memory_limit])
        con.execute(table_sql)
        con.execute("INSERT INTO events SELECT * FROM read_parquet(?)", [str(parquet)])
        return int(con.execute("SELECT count(*) FROM events").fetchall()[0][0])
    finally:
        con.close()


def read_table(parquet: Path) -> Any:
    """The whole file as one Arrow table in memory."""
    import pyarrow.parquet as pq

    return pq.read_table(parquet)


def pyarrow_write(table: Any, path: Path, settings: dict[str, Any], row_group_rows: int) -> None:
    """The generation's limit: pyarrow writing a table already in memory, same settings."""
    import pyarrow.parquet as pq

    pq.write_table(table, path, row_group_size=row_group_rows, **settings)


def chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for lo in range(0, len(items), size):
        yield items[lo : lo + size]


# -- the limits: DuckDB's own operation on the same data, with none of the store's work ----
LIMIT_PREFIX = "limit-"  # the streams the limits write, removed after them


def limit_rows(stream_id: str, count: int, first_position: int) -> list[tuple[Any, ...]]:
    """``count`` deposit rows of one stream in the store's columns, ready to insert."""
    from datetime import UTC, datetime
    from uuid import uuid4

    now = datetime.now(UTC)
    return [
        (stream_id, v, str(uuid4()), "MoneyDeposited", f'{{"amount":{v}}}', "{}", now, p)
        for v, p in zip(
            range(1, count + 1), range(first_position, first_position + count), strict=True
        )
    ]


def insert_batches(con: duckdb.DuckDBPyConnection, batches: list[pa.Table]) -> None:
    """Each batch in one INSERT of an Arrow table and one COMMIT, into the store's table."""
    for batch in batches:
        con.register("_limit_batch", batch)
        con.execute("BEGIN")
        con.execute("INSERT INTO event_store SELECT * FROM _limit_batch")
        con.execute("COMMIT")
    con.unregister("_limit_batch")


def insert_one_each(con: duckdb.DuckDBPyConnection, rows: list[tuple[Any, ...]]) -> None:
    """Each row in its own INSERT and COMMIT, into the store's table."""
    for row in rows:
        con.execute("BEGIN")
        con.execute("INSERT INTO event_store VALUES (?, ?, ?, ?, ?, ?, ?, ?)", list(row))
        con.execute("COMMIT")


def remove_limit_rows(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("DELETE FROM event_store WHERE starts_with(stream_id, ?)", [LIMIT_PREFIX])
