"""A real PostgreSQL server for the tests: one database per test run, emptied per test.

The server is the project's own (``eventsim.services``, data under ``.services/``): the
tests reuse it when ``make services`` has started it, and otherwise start it and stop it
at the end of the run. Each run works in a database of its own, dropped at the end.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import psycopg
import pytest

from eventsim import services
from eventsim.store.postgres_store import PostgresEventStore


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """The URL of a running server's ``postgres`` database."""
    was_running = services.postgres_running()
    url = services.postgres_url()
    yield url
    if not was_running:
        services.stop()


@pytest.fixture(scope="session")
def postgres_run_database(postgres_server: str) -> Iterator[str]:
    """The URL of this test run's own database."""
    name = f"eventsim_test_{os.getpid()}"  # generated here, never a user's string
    with psycopg.connect(postgres_server, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {name}")
        admin.execute(f"CREATE DATABASE {name}")
    yield postgres_server.rsplit("/", 1)[0] + f"/{name}"
    with psycopg.connect(postgres_server, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE {name} WITH (FORCE)")


@pytest.fixture
def postgres_database(postgres_run_database: str) -> str:
    """The URL of the run's database with an empty event store (tables created, no rows)."""
    with psycopg.connect(postgres_run_database, autocommit=True) as con:
        con.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        con.execute(PostgresEventStore.SCHEMA_SQL)
        con.execute("TRUNCATE event_store, event_streams")
        con.execute("UPDATE event_log SET position = 0")
    return postgres_run_database
