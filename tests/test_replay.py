"""Replay: one stream folded through ``evolve`` and all streams folded in SQL agree."""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from eventsim import (
    Event,
    EventSimError,
    EventStore,
    InvalidArgument,
    NewEvent,
    TickingClock,
    UnknownEventType,
    all_states,
    fold,
    history,
    replay,
    state_at,
)
from eventsim.catalog import open_store
from eventsim.domains import bank
from eventsim.sim import SIMULATORS
from eventsim.sim import bank as bank_sim
from eventsim.sim import kit as simkit
from eventsim.store import EventStoreContract
from tests.conftest import START
from tests.strategies import amounts, seeds

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


# -- state_at's SQL path (bank accounts on DuckDB) equals read_stream + fold -------------------
def plain_state_at(
    store: EventStoreContract, stream_id: str, as_of: datetime | None, to_version: int | None
) -> object:
    """The plain path: read the stream's Events and fold them (state_at before its SQL path)."""
    events = store.read_stream(stream_id, as_of=as_of, to_version=to_version)
    if not events:
        raise InvalidArgument(f"stream {stream_id!r} did not exist yet at {as_of}")
    return fold(events)


def outcome(work: Callable[..., object], *args: object, **kwargs: object) -> tuple[str, str]:
    """What a call gives, to compare two paths: the value's repr (so Decimal('5') differs
    from Decimal('5.00')), or the error's type and its message's first words."""
    try:
        return ("value", repr(work(*args, **kwargs)))
    except EventSimError as exc:
        return (type(exc).__name__, str(exc)[:33])


# Amounts of every size and shape an append turns into JSON: ints, floats with 0-2 places,
# big numbers, text.
json_amounts = st.one_of(
    st.integers(1, 10**6),
    st.integers(1, 10**8).map(lambda cents: cents / 100),
    st.integers(1, 10**6).map(lambda tenths: tenths / 10),
    st.integers(1, 10**5).map(float),
    st.sampled_from([10**15 - 1, 10**15, 10**17, 10**25, 99999999999999.99, 1e20]),
    st.sampled_from(["10.50", "10.500", "7", "1E+2", "0.07"]),
    amounts,  # Decimals, as domain events carry them
)
bank_payloads = st.one_of(
    st.tuples(st.just("AccountOpened"), st.sampled_from(["Ada", "Zoë", " O'Brien ", "李"])).map(
        lambda t: (t[0], {"owner": t[1]})
    ),
    st.tuples(st.sampled_from(["MoneyDeposited", "MoneyWithdrawn"]), json_amounts).map(
        lambda t: (t[0], {"amount": t[1]})
    ),
    st.just(("AccountClosed", {"reason": "moved"})),
    st.just(("PaymentFailed", {"reason": "card declined"})),  # the orders domain's
)


@st.composite
def bank_streams(draw: st.DrawFn) -> list[tuple[str, dict[str, object]]]:
    """Mostly an opening then money, sometimes anything in any order (the store accepts it)."""
    body = draw(st.lists(bank_payloads.filter(lambda p: p[0] != "PaymentFailed"), max_size=12))
    if draw(st.booleans()):
        return [("AccountOpened", {"owner": "Ada"}), *body]
    return draw(st.lists(bank_payloads, min_size=1, max_size=12))


@settings(max_examples=150, deadline=None)
@given(
    stream=bank_streams(),
    minutes=st.one_of(st.none(), st.integers(-2, 16)),
    to_version=st.one_of(st.none(), st.integers(1, 16)),
    short_stream=st.sampled_from([0, replay.SHORT_STREAM]),
)
def test_state_at_equals_folding_the_read_events_for_any_bank_stream(
    stream: list[tuple[str, dict[str, object]]],
    minutes: int | None,
    to_version: int | None,
    short_stream: int,
) -> None:
    as_of = None if minutes is None else START + timedelta(minutes=minutes, seconds=30)
    with EventStore(clock=TickingClock(START)) as store, pytest.MonkeyPatch.context() as patch:
        store.append("acct-1", [NewEvent(t, data) for t, data in stream], expected_version=0)
        # 0: every stream summed (bank) or read as Events; the default: folded as read.
        patch.setattr(replay, "SHORT_STREAM", short_stream)
        for stream_id in ("acct-1", "acct-never"):
            assert outcome(plain_state_at, store, stream_id, as_of, to_version) == outcome(
                state_at, store, stream_id, as_of=as_of, to_version=to_version
            )


LOADED_AMOUNTS = [
    "7", "7.0", "7.5", "7.50", "0.07", "1e2", "1E+20",
    "999999999999999", "1000000000000000", "10000000000000000000000000.5", "18446744073709551616",
]  # fmt: skip


@pytest.mark.parametrize("short_stream", [0, replay.SHORT_STREAM])
@pytest.mark.parametrize("amount", LOADED_AMOUNTS)
def test_state_at_equals_folding_for_amounts_loaded_as_any_json_text(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, amount: str, short_stream: int
) -> None:
    """A loaded file keeps its JSON text, so an amount may be a number written in any way
    (append writes each amount one way; the loader refuses an amount given as text)."""
    texts = ['{"owner":"Ada"}', '{"amount":5}', f'{{"amount":{amount}}}', '{"amount":0.25}']
    types = ["AccountOpened", "MoneyDeposited", "MoneyDeposited", "MoneyWithdrawn"]
    table = pa.Table.from_pylist(
        [
            {
                "stream_id": "account-1",
                "version": v,
                "event_id": str(uuid.UUID(int=v, version=4)),
                "event_type": types[v - 1],
                "data": texts[v - 1],
                "metadata": "{}",
                "timestamp": START + timedelta(minutes=v),
            }
            for v in (1, 2, 3, 4)
        ],
        schema=simkit.SCHEMA,
    )
    pq.write_table(table, tmp_path / "events.parquet")
    monkeypatch.setattr(replay, "SHORT_STREAM", short_stream)  # 0: summed by DuckDB
    with EventStore() as store:
        store.load_parquet(tmp_path / "events.parquet")
        for to_version in (2, 3, 4):
            assert outcome(plain_state_at, store, "account-1", None, to_version) == outcome(
                state_at, store, "account-1", to_version=to_version
            )


def test_state_at_on_postgresql_folds_the_read_events(postgres_database: str) -> None:
    """No companion, no DuckDB SQL: the PostgreSQL store's accounts are folded from Events."""
    with open_store(postgres_database, clock=TickingClock(START)) as store:
        store.append(
            "account-1",
            [bank.AccountOpened("Ada"), bank.MoneyDeposited(Decimal("12.5"))],
            expected_version=0,
        )
        assert bank.Account("Ada", Decimal("12.5"), "open", 2) == state_at(store, "account-1")
        assert outcome(plain_state_at, store, "account-1", START, None) == outcome(
            state_at, store, "account-1", as_of=START
        )


@pytest.mark.parametrize("domain", ["bank", "orders"])
def test_state_at_equals_folding_the_read_events_on_every_simulated_stream(
    tmp_path: Path, domain: str
) -> None:
    pq.write_table(SIMULATORS[domain].simulate(30, seed=5, days=30), tmp_path / "events.parquet")
    with EventStore() as store:
        store.load_parquet(tmp_path / "events.parquet")
        for stream_id in store.sql("SELECT stream_id FROM event_streams")["stream_id"]:
            for as_of in (*MOMENTS, None):
                assert outcome(plain_state_at, store, stream_id, as_of, None) == outcome(
                    state_at, store, stream_id, as_of=as_of
                )
