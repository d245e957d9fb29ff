"""The store kernel: the event store contract and its DuckDB backend."""

from eventsim.store.duckdb_store import COLUMNS, EventStore, remove_streams, transaction

__all__ = ["COLUMNS", "EventStore", "remove_streams", "transaction"]
