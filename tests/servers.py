"""The real servers of the tests: PostgreSQL and NATS JetStream, once per test run.

They are the project's own (``eventsim.services``, data under ``.services/``): the tests
reuse a server ``make services`` has started, and otherwise start it and stop it at the
end of the run. On PostgreSQL each run works in a database of its own, dropped at the end,
emptied before each test; on NATS each test gets a stream of events nobody else uses.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator

import psycopg
import pytest

from eventsim import services
from eventsim.store.postgres_store import PostgresEventStore

_RUNNING_AT_START: dict[str, bool] = {}


def pytest_sessionstart(session: pytest.Session) -> None:
    _RUNNING_AT_START.update(postgres=services.postgres_running(), nats=services.nats_running())


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Servers this run started (fixtures, notebook 15, the README example) stop at its
    end; a server that was running before (``make services``) stays up."""
    if not _RUNNING_AT_START.get("nats", True):
        services.stop_nats()
    if not _RUNNING_AT_START.get("postgres", True):
        services.stop_postgres()


@pytest.fixture(scope="session")
def postgres_server() -> str:
    """The URL of a running server's ``postgres`` database."""
    return _started(services.postgres_url)


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


@pytest.fixture(scope="session")
def nats_server() -> str:
    """The URL of a running NATS server with JetStream."""
    return _started(services.nats_url)


def _started(start: Callable[[], str]) -> str:
    """The server's URL; where its wheel does not exist for this platform, the tests that
    need it are skipped with the one-line reason (CI has the wheels: nothing skips there)."""
    try:
        return start()
    except services.ServiceUnavailable as exc:
        pytest.skip(str(exc))
