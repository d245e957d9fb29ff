"""Replay: one stream folded through ``evolve`` and all streams folded in SQL agree."""

from __future__ import annotations

import tempfile
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pandas as pd
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from eventsim import (
    Event,
    EventStore,
    InvalidArgument,
    NewEvent,
    UnknownEventType,
    all_states,
    fold,
    history,
    state_at,
)
from eventsim.domains import bank
from eventsim.sim import SIMULATORS
from eventsim.sim import bank as bank_sim
from tests.conftest import START
from tests.strategies import seeds

SIM_START = datetime(2024, 1, 1, tzinfo=UTC)
MOMENTS = [
    SIM_START + timedelta(days=d, hours=h) for d, h in [(0, 12), (3, 0), (9, 17), (20, 9), (29, 23)]
]


@pytest.fixture(scope="module", params=[3, 8], ids=lambda seed: f"seed {seed}")
def simulated(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> EventStore:
    path = tmp_path_factory.mktemp("replay") / "bank.parquet"
    bank_sim.simulate(40, seed=request.param, days=30, close_rate=0.4).to_pandas().to_parquet(path)
    store = EventStore()
    store.load_parquet(path)
    request.addfinalizer(store.close)
    return store


def as_row(state: bank.Account) -> tuple[object, ...]:
    return (state.owner, state.balance, state.status, state.version)


def sql_rows(frame: pd.DataFrame) -> dict[str, tuple[object, ...]]:
    return {
        r.account_id: (r.owner, Decimal(f"{r.balance:.2f}"), r.status, r.version)
        for r in frame.itertuples()
    }


@pytest.mark.parametrize("as_of", [*MOMENTS, None], ids=str)
def test_evolve_and_sql_replay_agree_on_every_account(
    simulated: EventStore, as_of: datetime | None
) -> None:
    from_sql = sql_rows(all_states(simulated, "bank", as_of=as_of))
    from_events = {}
    for stream_id in simulated.sql("SELECT stream_id FROM event_streams")["stream_id"]:
        try:
            from_events[stream_id] = as_row(state_at(simulated, stream_id, as_of=as_of))
        except InvalidArgument:  # not opened yet at as_of
            continue
    assert from_events == from_sql


def test_the_simulated_set_has_closed_and_open_accounts(simulated: EventStore) -> None:
    final = all_states(simulated, "bank")
    assert 40 == len(final)
    assert {"open", "closed"} == set(final["status"])


@pytest.fixture
def ledger(store: EventStore) -> EventStore:
    """account-1: opened at START, +100 at +1 min, -30.25 at +2 min, +0.25 at +3 min."""
    store.append(
        "account-1",
        [
            bank.AccountOpened("Ada"),
            bank.MoneyDeposited(Decimal(100)),
            bank.MoneyWithdrawn(Decimal("30.25")),
            bank.MoneyDeposited(Decimal("0.25")),
        ],
        expected_version=0,
    )
    return store


@pytest.mark.parametrize(
    ("bounds", "balance", "version"),
    [
        ({}, Decimal(70), 4),
        ({"to_version": 1}, Decimal(0), 1),
        ({"to_version": 3}, Decimal("69.75"), 3),
        ({"as_of": START + timedelta(minutes=1)}, Decimal(100), 2),
        ({"as_of": START + timedelta(minutes=2), "to_version": 4}, Decimal("69.75"), 3),
        ({"as_of": START + timedelta(minutes=9), "to_version": 2}, Decimal(100), 2),
    ],
    ids=repr,
)
def test_state_at_stops_at_the_first_bound_reached(
    ledger: EventStore, bounds: dict[str, object], balance: Decimal, version: int
) -> None:
    expected = bank.Account(owner="Ada", balance=balance, status="open", version=version)
    assert expected == state_at(ledger, "account-1", **bounds)  # type: ignore[arg-type]


def test_state_before_the_stream_existed_is_refused_with_the_time(ledger: EventStore) -> None:
    with pytest.raises(InvalidArgument, match="2024-03-15T08:59:00"):
        state_at(ledger, "account-1", as_of=START - timedelta(minutes=1))


def test_folding_nothing_is_refused() -> None:
    with pytest.raises(InvalidArgument):
        fold([])


def test_fold_of_a_stream_equals_folding_its_events_one_by_one(ledger: EventStore) -> None:
    events = ledger.read_stream("account-1")
    state = bank.INITIAL_STATE
    for event in events:
        state = bank.evolve(state, bank.EVENT_TYPES[event.event_type].from_data(event.data))
    assert state == fold(events) == fold(events, bank)


def test_history_shows_the_state_after_each_event(ledger: EventStore) -> None:
    frame = history(ledger, "account-1")
    assert [1, 2, 3, 4] == list(frame["version"])
    assert [Decimal(0), Decimal(100), Decimal("69.75"), Decimal(70)] == list(frame["state_balance"])
    assert ["open"] * 4 == list(frame["state_status"])


def test_all_states_refuses_an_unknown_domain_by_name(ledger: EventStore) -> None:
    with pytest.raises(InvalidArgument, match="'shop'"):
        all_states(ledger, "shop")


def test_all_states_refuses_a_naive_time(ledger: EventStore) -> None:
    with pytest.raises(InvalidArgument, match="no time zone"):
        all_states(ledger, "bank", as_of=datetime(2024, 3, 15))


def test_all_states_without_a_time_includes_the_last_second_of_2099(store: EventStore) -> None:
    late = datetime(2099, 12, 31, 23, 59, 59, 500_000, tzinfo=UTC)
    store.append(
        "account-1",
        [NewEvent("AccountOpened", {"owner": "Ada"}, timestamp=late)],
        expected_version=0,
    )
    assert ["account-1"] == list(all_states(store, "bank")["account_id"])


def test_all_states_sums_amounts_beyond_sixteen_digits(store: EventStore) -> None:
    big = Decimal(10**17)
    store.append(
        "account-1",
        [bank.AccountOpened("Ada"), bank.MoneyDeposited(big), bank.MoneyWithdrawn(Decimal("0.5"))],
        expected_version=0,
    )
    frame = all_states(store, "bank")
    assert big - Decimal("0.5") == state_at(store, "account-1").balance
    assert [float(big)] == list(frame["balance"])


def test_replay_refuses_an_event_type_no_domain_knows() -> None:
    unheard = Event("x-1", 1, uuid.UUID(int=1, version=4), "MoneyTeleported", {}, {}, START, 1)
    with pytest.raises(UnknownEventType, match="'MoneyTeleported'"):
        fold([unheard])


def replay_both_ways(store: EventStore, domain: str, as_of: datetime) -> tuple[dict, dict]:
    """Each stream's state through evolve and through the domain's SQL, on shared fields."""
    frame = all_states(store, domain, as_of=as_of)
    key, columns = frame.columns[0], list(frame.columns[1:])
    from_sql, from_events = {}, {}
    for row in frame.to_dict("records"):
        from_sql[row[key]] = {c: _comparable(row[c]) for c in columns}
    for stream_id in store.sql("SELECT stream_id FROM event_streams")["stream_id"]:
        events = store.read_stream(stream_id, as_of=as_of)
        if events:
            state = vars(fold(events))
            from_events[stream_id] = {c: _comparable(state[c]) for c in columns}
    return from_events, from_sql


def _comparable(value: object) -> object:
    """Money as exact cents whichever way it came (Decimal from evolve, float from SQL)."""
    if isinstance(value, float | Decimal) and value == value:  # not NaN
        return Decimal(f"{value:.2f}")
    return None if value is None or value != value else value


@settings(max_examples=20, deadline=None)
@given(
    domain=st.sampled_from(["bank", "orders"]),
    seed=seeds,
    size=st.integers(1, 25),
    hours=st.integers(0, 24 * 31),
)
def test_for_any_seed_and_moment_the_evolve_and_sql_replays_agree(
    domain: str, seed: int, size: int, hours: int
) -> None:
    simulated = SIMULATORS[domain].simulate(size, seed=seed, days=30)
    with tempfile.TemporaryDirectory() as folder, EventStore() as store:
        pq.write_table(simulated, f"{folder}/events.parquet")
        store.load_parquet(f"{folder}/events.parquet")
        from_events, from_sql = replay_both_ways(store, domain, SIM_START + timedelta(hours=hours))
    assert from_events == from_sql
