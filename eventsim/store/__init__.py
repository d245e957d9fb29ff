"""The store kernel: the event store contract and its DuckDB backend.

It knows no domain: the event types it accepts (and any SQL load checks) are handed in.
"""

from eventsim.store.contract import EventStoreContract
from eventsim.store.duckdb_store import DuckDBEventStore
from eventsim.store.schema import COLUMNS, remove_streams, transaction

__all__ = ["COLUMNS", "DuckDBEventStore", "EventStoreContract", "remove_streams", "transaction"]
