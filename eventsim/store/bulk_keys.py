"""Into an empty store, a load inserts first and builds the log's keys once, afterwards.

Kept row by row, the primary key ``(stream_id, version)`` and the unique event id cost an
index update per inserted row; built once over the inserted rows, they cost one sort. So
when the log is empty (the common case: a lesson loading a data set) the load re-creates
the empty table without its keys and adds them back after the insert, in the same
transaction. Every invariant still holds at commit: a duplicate id or version refuses the
commit, and a refused commit leaves the empty table with its keys, as before the load.
Into a log that holds events the keys stay, and the insert itself refuses a clash.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import duckdb

from eventsim.store.schema import ADD_LOG_KEYS_SQL, LOG_WITHOUT_KEYS_SQL

# Empty, and with no index of anyone's own on it (re-creating the table would drop it).
_REBUILDABLE_SQL = """
SELECT NOT EXISTS (SELECT 1 FROM event_store)
   AND NOT EXISTS (SELECT 1 FROM duckdb_indexes() WHERE table_name = 'event_store')
"""


@contextmanager
def keys_built_after(con: duckdb.DuckDBPyConnection) -> Iterator[bool]:
    """Inside the caller's transaction: the block inserts into the log, whose keys are
    built after it if the log was empty (yields whether they are)."""
    (bulk,) = con.execute(_REBUILDABLE_SQL).fetchall()[0]
    if bulk:
        con.execute(LOG_WITHOUT_KEYS_SQL)
    yield bool(bulk)
    if bulk:
        con.execute(ADD_LOG_KEYS_SQL)
