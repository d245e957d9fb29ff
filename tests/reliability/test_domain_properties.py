"""Properties over random command sequences, for both domains, with the store in the loop.

- ``evolve`` never yields a state that breaks a domain rule, whatever was commanded;
- the state-based twin and the event-sourced model agree after every command;
- any interleaving of several streams' commands gives the same per-stream states.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from types import ModuleType
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from eventsim import DomainError, EventStore, TickingClock, seeded_ids
from eventsim.domains import bank, orders
from eventsim.replay import all_states, state_at
from tests.conftest import START
from tests.strategies import WITHDRAW_ALL
from tests.strategies import commands as bank_commands

PROPERTIES = settings(max_examples=40, deadline=None)
INTERLEAVINGS = settings(max_examples=30, deadline=None)
LINES = (
    orders.LineItem("SKU-001", 2, Decimal("24.90")),
    orders.LineItem("SKU-003", 1, Decimal("12.50")),
)
TOTAL = orders.line_total(LINES)
ORDER_COMMANDS = [
    orders.PlaceOrder("customer-1", LINES),
    orders.PlaceOrder("customer-1", ()),
    orders.ChargePayment(TOTAL),
    orders.ChargePayment(Decimal("1.00")),
    orders.DeclinePayment(),
    orders.ReserveInventory("AMS-1"),
    orders.ReportOutOfStock("SKU-003"),
    orders.ReportOutOfStock("SKU-999"),
    orders.CreateShipment("DHL"),
    orders.RejectShipment("UPS"),
    orders.ShipOrder("JD1"),
    orders.DeliverOrder(),
    orders.CancelShipment(),
    orders.ReleaseInventory(),
    orders.RefundPayment(TOTAL),
    orders.RefundPayment(Decimal("10.00")),
    orders.RefundPayment(TOTAL + 1),
    orders.CancelOrder(),
]
# Orders walk deeper when the happy path is likely: repeat it in the pool.
order_commands = st.sampled_from(ORDER_COMMANDS[:1] * 3 + ORDER_COMMANDS) | st.sampled_from(
    [orders.ChargePayment(TOTAL), orders.ReserveInventory("AMS-1"), orders.CreateShipment("DHL")]
)


# -- the rules a state must keep, whatever happened before -------------------------------
def bank_rules_hold(state: bank.Account) -> None:
    assert state.status in ("new", "open", "closed")
    assert state.balance >= 0
    assert state.balance == state.balance.quantize(Decimal("0.01"))
    if state.status == "new":
        assert (Decimal(0), 0) == (state.balance, state.version)
    if state.status == "closed":
        assert Decimal(0) == state.balance


def order_rules_hold(state: orders.Order) -> None:
    assert state.status in {"new", *orders.STATUS_AFTER.values()}
    assert Decimal(0) <= state.paid <= state.total
    assert orders.line_total(state.items) == state.total
    if state.warehouse is not None:  # stock is reserved only once the total is paid
        assert state.total == state.paid
    if state.status == "cancelled":
        assert (Decimal(0), None) == (state.paid, state.warehouse)
    if state.status == "delivered":
        assert (state.total, True) == (state.paid, state.warehouse is not None)


@dataclass(frozen=True)
class Domain:
    module: ModuleType
    prefix: str
    rules_hold: Callable[[Any], None]
    make_twin: Callable[[], Any]
    twin_row: Callable[[Any], dict[str, Any]]


BANK = Domain(
    bank,
    "account",
    bank_rules_hold,
    bank.AccountsTable,
    lambda s: {"owner": s.owner, "balance": s.balance, "status": s.status},
)
ORDERS = Domain(
    orders,
    "order",
    order_rules_hold,
    orders.OrdersTable,
    lambda s: {k: v for k, v in vars(s).items() if k != "version"},
)


def concrete(command: Any, state: Any) -> Any:
    return bank.Withdraw(state.balance) if command == WITHDRAW_ALL else command


def step(domain: Domain, state: Any, command: Any) -> tuple[Any, list[Any]]:
    """Decide and evolve one command: the new state and its events (none if refused)."""
    try:
        events = domain.module.decide(state, command)
    except DomainError:
        return state, []
    for event in events:
        state = domain.module.evolve(state, event)
    return state, events


def fresh_store() -> EventStore:
    return EventStore(clock=TickingClock(START), new_id=seeded_ids(3))


# -- evolve keeps the rules; the twin agrees after every command ---------------------------
@pytest.mark.slow
@PROPERTIES
@given(
    bank_session=st.lists(bank_commands, max_size=30),
    order_session=st.lists(order_commands, max_size=30),
)
def test_evolve_keeps_every_rule_and_the_twin_agrees_after_every_command(
    bank_session: list[Any], order_session: list[Any]
) -> None:
    with fresh_store() as store:
        for domain, session in (
            (BANK, [bank.OpenAccount("Ada"), *bank_session]),
            (ORDERS, order_session),
        ):
            stream, twin, state = (
                f"{domain.prefix}-1",
                domain.make_twin(),
                domain.module.INITIAL_STATE,
            )
            for drawn in session:
                command = concrete(drawn, state)
                before = state
                state, events = step(domain, state, command)
                try:
                    twin.handle(stream, command)
                    refused_by_twin = False
                except DomainError:
                    refused_by_twin = True
                assert refused_by_twin == (not events)
                domain.rules_hold(state)
                if events:
                    store.append(stream, events, expected_version=before.version)
                    assert state == state_at(store, stream)
                if state.version:
                    assert domain.twin_row(state) == twin.rows[stream]


# -- interleaving ----------------------------------------------------------------------
@st.composite
def interleaved_sessions(draw: st.DrawFn) -> tuple[dict[str, list[Any]], list[str]]:
    """A few accounts and orders, each with its own commands, and one order of turns."""
    sessions: dict[str, list[Any]] = {}
    for n in range(draw(st.integers(1, 3))):
        sessions[f"account-{n}"] = [
            bank.OpenAccount("Ada"),
            *draw(st.lists(bank_commands, max_size=12)),
        ]
    for n in range(draw(st.integers(1, 3))):
        sessions[f"order-{n}"] = draw(st.lists(order_commands, min_size=1, max_size=12))
    turns = [stream for stream, commands in sessions.items() for _ in commands]
    return sessions, draw(st.permutations(turns))


def domain_of(stream: str) -> Domain:
    return BANK if stream.startswith("account") else ORDERS


def run_alone(stream: str, commands: list[Any]) -> Any:
    domain = domain_of(stream)
    state = domain.module.INITIAL_STATE
    for command in commands:
        state, _ = step(domain, state, concrete(command, state))
    return state


@pytest.mark.slow
@INTERLEAVINGS
@given(plan=interleaved_sessions())
def test_any_interleaving_of_streams_gives_the_same_per_stream_states(
    plan: tuple[dict[str, list[Any]], list[str]],
) -> None:
    sessions, turns = plan
    pending = {stream: iter(commands) for stream, commands in sessions.items()}
    with fresh_store() as store:
        for stream in turns:  # each turn: read the stream from the store, decide, append
            domain = domain_of(stream)
            version = store.version(stream)
            state = state_at(store, stream) if version else domain.module.INITIAL_STATE
            _, events = step(domain, state, concrete(next(pending[stream]), state))
            if events:
                store.append(stream, events, expected_version=version)
        expected = {stream: run_alone(stream, commands) for stream, commands in sessions.items()}
        for stream, state in expected.items():
            if state.version:
                assert state == state_at(store, stream)
            else:
                assert 0 == store.version(stream)
        folded = {
            **{r["account_id"]: r for r in all_states(store, "bank").to_dict("records")},
            **{r["order_id"]: r for r in all_states(store, "orders").to_dict("records")},
        }
        assert {s for s, state in expected.items() if state.version} == set(folded)
        for stream, row in folded.items():
            assert (expected[stream].status, expected[stream].version) == (
                row["status"],
                row["version"],
            )
        positions = [e.position for e in store.read_all()]
        assert list(range(1, len(positions) + 1)) == positions
