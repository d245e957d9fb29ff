"""Every public entry point fed anything at all: values of the wrong type, text with
control and unusual Unicode characters, huge and non-finite numbers, extreme datetimes
and odd paths.

The property, for each: the call succeeds, or it raises an ``EventSimError`` subclass
whose message is one line; after a refusal every table is as it was and no file has
appeared. ``FUZZ_EXAMPLES`` sets how many examples each property tries (CI: the default;
``FUZZ_EXAMPLES=2000 pytest tests/reliability/test_fuzz_public_api.py`` for a deeper run).
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable, Iterator
from contextlib import redirect_stderr, redirect_stdout
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eventsim import EventSimError, EventStore, NewEvent, cli
from eventsim.catalog import open_store
from eventsim.domains import bank, orders
from eventsim.replay import all_states, state_at
from eventsim.store import EventStoreContract
from tests.strategies import any_value, extreme_times, huge_numbers, odd_paths, odd_text

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "60"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
# What identifies every row of every table: a refusal must leave it as it was.
FINGERPRINT_SQL = """
SELECT (SELECT count(*) FROM event_store),
       (SELECT coalesce(sum(hash(stream_id, version, event_id, event_type, data, metadata,
                                 timestamp, position)), 0) FROM event_store),
       (SELECT coalesce(sum(hash(stream_id, version, last_timestamp)), 0) FROM event_streams),
       (SELECT position FROM event_log),
       (SELECT coalesce(sum(hash(event_typed)), 0) FROM event_typed)
"""

stream_ids = st.one_of(st.sampled_from(["account-1", "account-2", "order-1"]), any_value)
event_types = st.one_of(
    st.sampled_from(["AccountOpened", "MoneyDeposited", "OrderPlaced", "MoneyTeleported"]),
    odd_text,
    any_value,
)
payloads = st.one_of(
    st.dictionaries(st.sampled_from(["owner", "amount", "reason"]), any_value, max_size=2),
    st.builds(lambda amount: {"amount": amount}, huge_numbers),
    any_value,
)
new_events = st.builds(
    NewEvent,
    event_types,
    payloads,
    st.one_of(st.just({}), any_value),
    st.one_of(st.none(), st.uuids(), any_value),
    st.one_of(st.none(), extreme_times, any_value),
)


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A scratch folder, also the working directory: a relative path lands here."""
    path = tmp_path_factory.mktemp("fuzz")
    before = Path.cwd()
    os.chdir(path)
    yield path
    os.chdir(before)


@pytest.fixture(scope="module")
def store(folder: Path) -> Iterator[EventStore]:
    with EventStore(folder / "fuzz.duckdb") as fresh:
        fresh.append("account-1", [bank.AccountOpened("Ada")], expected_version=0)
        fresh.append("account-1", [bank.MoneyDeposited(Decimal(100))], expected_version=1)
        yield fresh


def listing(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*")}


def refuses_cleanly(store: EventStore, folder: Path, call: Callable[[], Any]) -> bool:
    """Run ``call``: True if it succeeded; if it raised, it must be an EventSimError of one
    line that changed no row and made no file (then False)."""
    return _clean_refusal(
        lambda: (store.connection.execute(FINGERPRINT_SQL).fetchall(), listing(folder)), call
    )


def _clean_refusal(state: Callable[[], object], call: Callable[[], Any]) -> bool:
    """True if ``call`` succeeded; if it raised, it was an EventSimError of one line and
    ``state()`` (rows, files) is as before (then False)."""
    before = state()
    try:
        call()
    except EventSimError as exc:
        message = str(exc)
        assert message and 1 == len(message.splitlines()), repr(message)
        assert before == state()
        return False
    return True


@FUZZ
@given(
    stream=stream_ids,
    events=st.one_of(st.lists(new_events, max_size=3), any_value),
    expected=st.one_of(st.none(), huge_numbers, any_value),
)
def test_append_accepts_or_refuses_by_name_and_changes_nothing(
    store: EventStore, folder: Path, stream: Any, events: Any, expected: Any
) -> None:
    refuses_cleanly(store, folder, lambda: store.append(stream, events, expected_version=expected))


@FUZZ
@given(
    stream=stream_ids,
    to_version=st.one_of(st.none(), huge_numbers, any_value),
    as_of=st.one_of(st.none(), extreme_times, any_value),
)
def test_read_stream_answers_or_refuses_by_name(
    store: EventStore, folder: Path, stream: Any, to_version: Any, as_of: Any
) -> None:
    refuses_cleanly(
        store, folder, lambda: store.read_stream(stream, to_version=to_version, as_of=as_of)
    )
    refuses_cleanly(store, folder, lambda: store.version(stream))


@FUZZ
@given(
    after=st.one_of(huge_numbers, any_value),
    types=st.one_of(st.none(), any_value, st.lists(event_types, max_size=3)),
    limit=st.one_of(st.none(), huge_numbers, any_value),
)
def test_read_all_answers_or_refuses_by_name(
    store: EventStore, folder: Path, after: Any, types: Any, limit: Any
) -> None:
    refuses_cleanly(
        store, folder, lambda: store.read_all(after=after, event_types=types, limit=limit)
    )


@FUZZ
@given(path=st.one_of(odd_paths, any_value))
def test_load_parquet_loads_or_refuses_by_name(store: EventStore, folder: Path, path: Any) -> None:
    assert not refuses_cleanly(store, folder, lambda: store.load_parquet(path))


@FUZZ
@given(path=st.one_of(odd_paths, any_value))
def test_export_parquet_writes_the_file_named_or_refuses_by_name(
    store: EventStore, folder: Path, path: Any
) -> None:
    if refuses_cleanly(store, folder, lambda: store.export_parquet(path)):
        written = Path(os.fspath(path))
        assert written.is_file()
        written.unlink()


@FUZZ
@given(path=st.one_of(odd_paths.map(lambda p: p + ".duckdb"), any_value))
def test_opening_a_store_succeeds_or_refuses_by_name(
    store: EventStore, folder: Path, path: Any
) -> None:
    def open_and_close() -> None:
        EventStore(path).close()

    if refuses_cleanly(store, folder, open_and_close):
        Path(os.fspath(path)).unlink()


commands = st.one_of(
    st.builds(bank.OpenAccount, any_value),
    st.builds(bank.Deposit, st.one_of(huge_numbers, any_value)),
    st.builds(bank.Withdraw, st.one_of(huge_numbers, any_value)),
    st.builds(bank.CloseAccount, any_value),
    st.builds(orders.PlaceOrder, any_value, any_value),
    st.builds(orders.ChargePayment, st.one_of(huge_numbers, any_value), any_value),
    st.builds(orders.CancelOrder, any_value),
    any_value,
)
states = st.one_of(
    st.sampled_from([bank.INITIAL_STATE, orders.INITIAL_STATE]),
    st.builds(bank.Account, any_value, st.just(Decimal(5)), st.sampled_from(["new", "open"])),
    any_value,
)


@FUZZ
@given(state=states, command=commands)
def test_decide_returns_events_or_refuses_by_name(
    store: EventStore, folder: Path, state: Any, command: Any
) -> None:
    for domain in (bank, orders):
        refuses_cleanly(store, folder, lambda: domain.decide(state, command))  # noqa: B023


@FUZZ
@given(
    stream=stream_ids,
    as_of=st.one_of(st.none(), extreme_times, any_value),
    to_version=st.one_of(st.none(), huge_numbers, any_value),
    domain=st.one_of(st.sampled_from(["bank", "orders"]), any_value),
)
def test_replays_answer_or_refuse_by_name(
    store: EventStore, folder: Path, stream: Any, as_of: Any, to_version: Any, domain: Any
) -> None:
    refuses_cleanly(
        store, folder, lambda: state_at(store, stream, as_of=as_of, to_version=to_version)
    )
    refuses_cleanly(store, folder, lambda: all_states(store, domain, as_of=as_of))


@FUZZ
@given(query=any_value, params=any_value)
def test_sql_with_values_of_the_wrong_kind_is_refused_by_name(
    store: EventStore, folder: Path, query: Any, params: Any
) -> None:
    refuses_cleanly(store, folder, lambda: store.sql(query, params))


cli_values = st.one_of(
    odd_text,
    st.sampled_from(["9" * 40, "-1", "0", "nan", "1e999", "9999-12-31T23:59:59-05:00"]),
    st.sampled_from(["1960-01-01", "2099-12-01", "0001-01-01T00:00+14:00", "2024-02-30"]),
    odd_paths,
)
cli_argvs = st.one_of(
    st.tuples(st.just("state"), cli_values, cli_values, cli_values).map(
        lambda v: ["state", "--db", "fuzz.duckdb", "--stream", v[1], "--as-of", v[2]]
    ),
    st.tuples(cli_values, cli_values).map(
        lambda v: ["state", "--db", v[0], "--stream", "account-1", "--version", v[1]]
    ),
    cli_values.map(lambda v: ["info", "--db", v]),
    st.tuples(cli_values, cli_values).map(lambda v: ["load", v[0], "--db", v[1]]),
    st.tuples(cli_values, cli_values, cli_values, cli_values).map(
        lambda v: (
            ["generate", "bank", "--seed", v[0], "--start", v[1], "--days", v[2]]
            + ["--accounts", "2", "--out", v[3]]
        )
    ),
    st.lists(cli_values, max_size=5),
)


@FUZZ
@given(argv=cli_argvs)
def test_the_command_line_exits_0_or_2_with_one_line_and_changes_nothing(
    store: EventStore, folder: Path, argv: list[str]
) -> None:
    before = store.connection.execute(FINGERPRINT_SQL).fetchall()
    files = listing(folder)
    out, errors = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(errors):
        try:
            code = cli.main(argv)
        except SystemExit as exc:  # --help prints and exits 0
            code = exc.code
    err = errors.getvalue()
    assert code in (0, 2), err
    if code == 2:
        assert 1 == len(err.strip().splitlines()), err
        assert before == store.connection.execute(FINGERPRINT_SQL).fetchall()
        assert files == listing(folder)
    for made in listing(folder) - files:  # what a successful call promised: remove it
        path = folder / made
        if path.is_file():
            path.unlink()


# -- the same properties on the PostgreSQL backend ------------------------------------------
POSTGRES_FINGERPRINT_SQL = """
SELECT (SELECT count(*) FROM event_store),
       (SELECT coalesce(string_agg(md5(e::text), '' ORDER BY position), '') FROM event_store e),
       (SELECT coalesce(string_agg(md5(h::text), '' ORDER BY stream_id), '') FROM event_streams h),
       (SELECT position FROM event_log)
"""


@pytest.fixture(scope="module")
def postgres_store(postgres_run_database: str) -> Iterator[EventStoreContract]:
    with psycopg.connect(postgres_run_database, autocommit=True) as con:
        con.execute("DROP TABLE IF EXISTS event_store, event_streams, event_log")
    with open_store(postgres_run_database) as fresh:
        fresh.append("account-1", [bank.AccountOpened("Ada")], expected_version=0)
        fresh.append("account-1", [bank.MoneyDeposited(Decimal(100))], expected_version=1)
        yield fresh


def refuses_cleanly_on_postgres(store: EventStoreContract, call: Callable[[], Any]) -> bool:
    """``refuses_cleanly`` for the PostgreSQL store: a refusal is one line, no row changed."""
    return _clean_refusal(lambda: store.sql(POSTGRES_FINGERPRINT_SQL).values.tolist(), call)


@FUZZ
@given(
    stream=stream_ids,
    events=st.one_of(st.lists(new_events, max_size=3), any_value),
    expected=st.one_of(st.none(), huge_numbers, any_value),
)
def test_append_on_postgres_accepts_or_refuses_by_name_and_changes_nothing(
    postgres_store: EventStoreContract, stream: Any, events: Any, expected: Any
) -> None:
    refuses_cleanly_on_postgres(
        postgres_store, lambda: postgres_store.append(stream, events, expected_version=expected)
    )


@FUZZ
@given(
    stream=stream_ids,
    to_version=st.one_of(st.none(), huge_numbers, any_value),
    as_of=st.one_of(st.none(), extreme_times, any_value),
    after=st.one_of(huge_numbers, any_value),
    types=st.one_of(st.none(), any_value, st.lists(event_types, max_size=3)),
    limit=st.one_of(st.none(), huge_numbers, any_value),
)
def test_reads_on_postgres_answer_or_refuse_by_name(
    postgres_store: EventStoreContract,
    stream: Any,
    to_version: Any,
    as_of: Any,
    after: Any,
    types: Any,
    limit: Any,
) -> None:
    store = postgres_store
    refuses_cleanly_on_postgres(
        store, lambda: store.read_stream(stream, to_version=to_version, as_of=as_of)
    )
    refuses_cleanly_on_postgres(store, lambda: store.version(stream))
    refuses_cleanly_on_postgres(
        store, lambda: store.read_all(after=after, event_types=types, limit=limit)
    )
