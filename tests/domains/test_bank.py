"""The bank domain: its rules, its state-based twin, and its seeded simulator."""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import UTC, datetime
from decimal import Decimal

import pyarrow as pa
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from eventsim import DomainError, EventSimError, EventStore, TickingClock, seeded_ids
from eventsim.domains import bank
from eventsim.events import DomainEvent
from eventsim.replay import state_at
from eventsim.sim import bank as bank_sim
from eventsim.sim import kit as simkit
from tests.conftest import START
from tests.strategies import WITHDRAW_ALL, amounts, bad_amounts, command_sequences, seeds

FAST = settings(max_examples=25, deadline=None)


def run(commands: list[bank.Command]) -> bank.Account:
    state = bank.INITIAL_STATE
    for command in commands:
        for event in bank.decide(state, command):
            state = bank.evolve(state, event)
    return state


def twin_after(commands: list[bank.Command]) -> bank.AccountsTable:
    twin = bank.AccountsTable()
    for command in commands:
        twin.handle("account-1", command)
    return twin


OPEN = [bank.OpenAccount("Ada")]
FUNDED = [*OPEN, bank.Deposit(Decimal("100.50"))]
CLOSED = [*OPEN, bank.CloseAccount()]


# -- the rules, for both models ---------------------------------------------------------
@pytest.mark.parametrize(
    ("history", "command", "error", "named"),
    [
        (FUNDED, bank.Withdraw(Decimal("100.51")), bank.InsufficientFunds, "100.51"),
        (OPEN, bank.Withdraw(Decimal("0.01")), bank.InsufficientFunds, "0.01"),
        (FUNDED, bank.Deposit(Decimal(0)), bank.InvalidAmount, "Decimal('0')"),
        (FUNDED, bank.Deposit(Decimal(-5)), bank.InvalidAmount, "Decimal('-5')"),
        (FUNDED, bank.Deposit(Decimal("NaN")), bank.InvalidAmount, "NaN"),
        (FUNDED, bank.Deposit(Decimal("Infinity")), bank.InvalidAmount, "Infinity"),
        (FUNDED, bank.Deposit(Decimal("1.001")), bank.InvalidAmount, "1.001"),
        (FUNDED, bank.Withdraw(Decimal("0.001")), bank.InvalidAmount, "0.001"),
        (FUNDED, bank.Withdraw(Decimal("-1")), bank.InvalidAmount, "-1"),
        (FUNDED, bank.Deposit(Decimal("1e30")), bank.InvalidAmount, "1E+30"),
        (FUNDED, bank.CloseAccount(), DomainError, "100.50"),
        (CLOSED, bank.Deposit(Decimal(1)), bank.AccountNotOpen, "closed"),
        (CLOSED, bank.Withdraw(Decimal(1)), bank.AccountNotOpen, "closed"),
        (CLOSED, bank.CloseAccount(), bank.AccountNotOpen, "closed"),
        (CLOSED, bank.OpenAccount("Ada"), bank.AccountNotOpen, "closed"),
        (OPEN, bank.OpenAccount("Ada"), bank.AccountNotOpen, "open"),
        ([], bank.Deposit(Decimal(1)), bank.AccountNotOpen, "new"),
        ([], bank.CloseAccount(), bank.AccountNotOpen, "new"),
        ([], bank.OpenAccount("  "), DomainError, "'  '"),
        (OPEN, bank.CloseAccount(" "), DomainError, "' '"),
    ],
    ids=lambda v: repr(v) if isinstance(v, bank.Command) else None,
)
def test_both_models_refuse_what_the_rules_forbid(
    history: list[bank.Command], command: bank.Command, error: type[DomainError], named: str
) -> None:
    state, twin = run(history), twin_after(history)
    with pytest.raises(error) as by_decide:
        bank.decide(state, command)
    with pytest.raises(error) as by_twin:
        twin.handle("account-1", command)
    assert named in str(by_decide.value)
    assert str(by_decide.value) == str(by_twin.value)


def test_the_whole_balance_can_be_withdrawn_and_then_the_account_closed() -> None:
    commands = [*FUNDED, bank.Withdraw(Decimal("100.5")), bank.CloseAccount("moving")]
    assert bank.Account("Ada", Decimal(0), "closed", 4) == run(commands)
    assert {"owner": "Ada", "balance": Decimal(0), "status": "closed"} == twin_after(commands).rows[
        "account-1"
    ]


def test_evolve_refuses_what_is_not_a_bank_event() -> None:
    class Stranger(DomainEvent):
        pass

    with pytest.raises(EventSimError, match="Stranger"):
        bank.evolve(bank.INITIAL_STATE, Stranger())


@FAST
@given(amount=amounts)
def test_any_positive_amount_in_cents_is_accepted(amount: Decimal) -> None:
    assert bank.Account("Ada", amount, "open", 2) == run([*OPEN, bank.Deposit(amount)])


@FAST
@given(amount=bad_amounts)
def test_an_amount_that_is_not_a_positive_finite_number_of_cents_is_refused(
    amount: Decimal,
) -> None:
    for command in (bank.Deposit(amount), bank.Withdraw(amount)):
        with pytest.raises(bank.InvalidAmount):
            bank.decide(run(FUNDED), command)


# -- the twin and the event-sourced model ----------------------------------------------
def rules_hold(before: bank.Account, events: list[DomainEvent]) -> None:
    """What every accepted command must respect, whatever it was."""
    assert before.status != "closed"
    for event in events:
        if isinstance(event, bank.MoneyDeposited | bank.MoneyWithdrawn):
            assert event.amount.is_finite() and event.amount > 0
            assert event.amount == event.amount.quantize(Decimal("0.01"))
        if isinstance(event, bank.AccountClosed):
            assert Decimal(0) == before.balance


@settings(max_examples=40, deadline=None)
@given(commands=command_sequences)
def test_the_twin_row_equals_the_event_sourced_state_after_every_command(
    commands: list[bank.Command | str],
) -> None:
    twin = bank.AccountsTable()
    state = bank.INITIAL_STATE
    with EventStore(clock=TickingClock(START), new_id=seeded_ids(1)) as store:
        for drawn in commands:
            command = bank.Withdraw(state.balance) if drawn == WITHDRAW_ALL else drawn
            assert isinstance(command, bank.Command)
            refused_by_twin = refused_by_decide = None
            try:
                twin.handle("account-1", command)
            except DomainError as exc:
                refused_by_twin = type(exc)
            try:
                events = bank.decide(state, command)
            except DomainError as exc:
                refused_by_decide = type(exc)
            else:
                rules_hold(state, events)
                store.append("account-1", events, expected_version=state.version)
                for event in events:
                    state = bank.evolve(state, event)
            assert refused_by_twin == refused_by_decide
            assert state.balance >= 0
            if state.version == 0:
                assert "account-1" not in twin.rows
                continue
            replayed = state_at(store, "account-1")
            row = twin.rows["account-1"]
            assert state == replayed
            assert (row["owner"], row["balance"], row["status"]) == (
                replayed.owner,
                replayed.balance,
                replayed.status,
            )


# -- the simulator ---------------------------------------------------------------------
def command_for(event: DomainEvent) -> bank.Command:
    match event:
        case bank.AccountOpened(owner=owner):
            return bank.OpenAccount(owner)
        case bank.MoneyDeposited(amount=amount):
            return bank.Deposit(amount)
        case bank.MoneyWithdrawn(amount=amount):
            return bank.Withdraw(amount)
        case bank.AccountClosed(reason=reason):
            return bank.CloseAccount(reason)
    raise AssertionError(f"not a bank event: {event!r}")


simulations = st.fixed_dictionaries(
    {
        "accounts": st.integers(1, 25),
        "seed": seeds,
        "days": st.integers(1, 60),
        "transactions": st.integers(1, 120),
        "close_rate": st.floats(0, 1),
    }
)


@FAST
@given(options=simulations)
# Dense histories, where a burst could overtake the next event of its account: before the
# fix in simkit.add_bursts these withdrew more than the balance.
@example(options={"accounts": 20, "seed": 0, "days": 10, "transactions": 2000, "close_rate": 0.1})
@example(options={"accounts": 20, "seed": 10, "days": 1, "transactions": 1, "close_rate": 1.0})
def test_every_simulated_stream_replays_through_decide_without_an_overdraft(
    options: dict[str, object],
) -> None:
    table = bank_sim.simulate(**options)  # type: ignore[arg-type]
    streams: dict[str, list[dict[str, object]]] = defaultdict(list)
    for row in table.to_pylist():
        streams[str(row["stream_id"])].append(row)
    assert table.num_rows == len(set(table["event_id"].to_pylist()))
    for rows in streams.values():
        state = bank.INITIAL_STATE
        assert list(range(1, len(rows) + 1)) == [r["version"] for r in rows]
        assert sorted(r["timestamp"] for r in rows) == [r["timestamp"] for r in rows]  # type: ignore[type-var]
        for row in rows:
            event = bank.EVENT_TYPES[str(row["event_type"])].from_data(json.loads(str(row["data"])))
            assert [event] == bank.decide(state, command_for(event))
            state = bank.evolve(state, event)
            assert state.balance >= 0


@FAST
@given(seed=seeds, accounts=st.integers(1, 30))
def test_the_same_seed_gives_the_same_table(seed: int, accounts: int) -> None:
    assert bank_sim.simulate(accounts, seed=seed).equals(bank_sim.simulate(accounts, seed=seed))


@FAST
@given(seed=seeds, accounts=st.integers(1, 15), chunk_rows=st.integers(1, 400))
def test_the_chunk_size_does_not_change_the_table(
    seed: int, accounts: int, chunk_rows: int
) -> None:
    whole = bank_sim.simulate(accounts, seed=seed)
    batches = list(bank_sim.simulate_batches(accounts, seed=seed, chunk_rows=chunk_rows))
    assert all(batch.num_rows <= chunk_rows for batch in batches)
    assert whole.equals(pa.Table.from_batches(batches, schema=simkit.SCHEMA))


def test_different_seeds_give_different_ids() -> None:
    one, two = bank_sim.simulate(5, seed=1), bank_sim.simulate(5, seed=2)
    assert not set(one["event_id"].to_pylist()) & set(two["event_id"].to_pylist())


def test_a_simulated_table_is_in_commit_order_with_the_canonical_schema() -> None:
    table = bank_sim.simulate(30, seed=4)
    times = table["timestamp"].to_pylist()
    assert simkit.SCHEMA == table.schema
    assert sorted(times) == times
    assert {"AccountOpened"} == {r["event_type"] for r in table.to_pylist() if r["version"] == 1}


@pytest.mark.parametrize(
    ("options", "named"),
    [
        ({"accounts": 0}, "0"),
        ({"accounts": 2.5}, "2.5"),
        ({"days": 0}, "0"),
        ({"transactions": -1}, "-1"),
        ({"close_rate": 1.5}, "1.5"),
        ({"start": datetime(2024, 1, 1)}, "datetime.datetime(2024, 1, 1, 0, 0)"),
    ],
    ids=repr,
)
def test_simulate_refuses_bad_options_by_value(options: dict[str, object], named: str) -> None:
    arguments = {"accounts": 5, "seed": 1, **options}
    with pytest.raises(EventSimError) as caught:
        bank_sim.simulate(**arguments)  # type: ignore[arg-type]
    assert named in str(caught.value)


def test_a_simulation_starts_at_its_start_and_never_reads_the_clock() -> None:
    start = datetime(2030, 6, 1, tzinfo=UTC)
    table = bank_sim.simulate(10, seed=9, start=start, days=5)
    times = table["timestamp"].to_pylist()
    assert start <= min(times) and max(times) < datetime(2030, 6, 7, tzinfo=UTC)
