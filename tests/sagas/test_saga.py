"""The order saga: participants, orchestration, choreography, and what they leave behind."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from datetime import datetime, timedelta
from decimal import Decimal

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from eventsim import EventStore
from eventsim.domains import orders
from eventsim.errors import DomainError, InvalidArgument
from eventsim.events import NewEvent
from eventsim.sagas import report as saga_report
from eventsim.sagas import saga
from eventsim.sagas.participants import (
    STEPS,
    STREAM_PREFIX,
    Books,
    Failures,
    Message,
    Payments,
    SagaOrder,
    StepRefused,
)
from eventsim.sagas.report import InvariantBroken
from tests.conftest import reproducible_store
from tests.strategies import seeds

Run = Callable[..., saga.SagaRun]
STYLES = {"orchestration": saga.run_orchestrated, "choreography": saga.run_choreographed}
each_style = pytest.mark.parametrize("run", STYLES.values(), ids=list(STYLES))
FORWARD = [
    "OrderPlaced",
    "PaymentCharged",
    "InventoryReserved",
    "ShipmentCreated",
    "OrderShipped",
    "OrderDelivered",
]
# The failure at each step, then its compensations in reverse order.
AFTER_FAILURE = {
    "payment": ["OrderPlaced", "PaymentFailed", "OrderCancelled"],
    "inventory": [
        "OrderPlaced",
        "PaymentCharged",
        "InventoryReservationFailed",
        "PaymentRefunded",
        "OrderCancelled",
    ],
    "shipping": [
        "OrderPlaced",
        "PaymentCharged",
        "InventoryReserved",
        "ShipmentFailed",
        "InventoryReleased",
        "PaymentRefunded",
        "OrderCancelled",
    ],
    "dispatch": [
        "OrderPlaced",
        "PaymentCharged",
        "InventoryReserved",
        "ShipmentCreated",
        "ShipmentCancelled",
        "InventoryReleased",
        "PaymentRefunded",
        "OrderCancelled",
    ],
}
EVENTS_SQL = (
    "SELECT stream_id, version, event_type, data, timestamp FROM event_store "
    "ORDER BY stream_id, version"
)


@pytest.fixture
def second_store() -> Iterator[EventStore]:
    with reproducible_store() as fresh:
        yield fresh


SAGA_SQL = """
SELECT event_id, stream_id, event_type, timestamp, metadata FROM event_store
WHERE metadata->>'correlation_id' = ? ORDER BY timestamp, position
"""


def saga_events(store: EventStore, order_id: str) -> pd.DataFrame:
    """Every event of one order's saga, from every participant's streams, in time order."""
    return store.sql(SAGA_SQL, [order_id])


def event_types(store: EventStore, order_id: str) -> list[str]:
    return list(saga_events(store, order_id)["event_type"])


def one_line_order(order_id: str, quantity: int, hours_later: int) -> SagaOrder:
    line = orders.LineItem("SKU-004", quantity, Decimal("49.00"))
    return SagaOrder(order_id, "customer-0001", (line,), saga.START + timedelta(hours=hours_later))


# -- failures and orders ---------------------------------------------------------------
def test_a_forced_failure_fails_only_its_step_and_only_for_that_order() -> None:
    failures = Failures(seed=1, force={"order-0002": "shipping"})

    failing = [(o, s) for o in ("order-0001", "order-0002") for s in STEPS if failures.fails(o, s)]

    assert [("order-0002", "shipping")] == failing


def test_a_rate_of_zero_never_fails_and_a_rate_of_one_always_fails() -> None:
    failures = Failures(payment=1.0, inventory=0.0, seed=5)
    ids = [f"order-{i:04d}" for i in range(1, 201)]

    assert all(failures.fails(i, "payment") for i in ids)
    assert not any(failures.fails(i, "inventory") for i in ids)


def test_the_same_seed_draws_the_same_failures_and_work_times_and_another_seed_others() -> None:
    ids = [f"order-{i:04d}" for i in range(1, 101)]

    def drawn(seed: int) -> list[tuple[bool, timedelta]]:
        failures = Failures(payment=0.5, seed=seed)
        return [(failures.fails(i, "payment"), failures.work(i, "shipping")) for i in ids]

    assert drawn(3) == drawn(3)
    assert drawn(3) != drawn(4)


@pytest.mark.parametrize(
    ("kwargs", "named"),
    [
        ({"payment": 1.5}, "1.5"),
        ({"shipping": -0.1}, "-0.1"),
        ({"inventory": True}, "True"),
        ({"seed": -1}, "-1"),
        ({"force": {"order-0001": "delivery"}}, "'delivery'"),
    ],
)
def test_bad_failure_settings_are_refused_naming_the_value(
    kwargs: dict[str, object], named: str
) -> None:
    with pytest.raises(InvalidArgument, match=named):
        Failures(**kwargs)  # type: ignore[arg-type]


def test_make_orders_is_seeded_and_places_orders_in_time_order() -> None:
    batch = saga.make_orders(30, seed=9)

    assert batch == saga.make_orders(30, seed=9)
    assert batch != saga.make_orders(30, seed=10)
    assert [o.placed_at for o in batch] == sorted(o.placed_at for o in batch)
    assert all(o.items and orders.line_total(o.items) > 0 for o in batch)


@pytest.mark.parametrize("n", [0, -3, 10_000, 2.5, True])
def test_make_orders_refuses_a_bad_count(n: object) -> None:
    with pytest.raises(InvalidArgument, match=str(n)):
        saga.make_orders(n, seed=1)  # type: ignore[arg-type]


# -- both styles, step by step ---------------------------------------------------------
@each_style
def test_an_order_without_failures_runs_the_forward_chain_to_delivery(
    run: Run, store: EventStore
) -> None:
    result = run(store, saga.make_orders(1, seed=1))

    assert FORWARD == event_types(store, "order-0001")
    assert {"order-0001": "delivered"} == result.final_status


@each_style
@pytest.mark.parametrize("step", STEPS)
def test_a_failure_at_each_step_is_compensated_in_reverse_order(
    run: Run, step: str, store: EventStore
) -> None:
    batch = saga.make_orders(2, seed=1)

    result = run(store, batch, Failures(force={"order-0001": step}))

    assert AFTER_FAILURE[step] == event_types(store, "order-0001")
    assert FORWARD == event_types(store, "order-0002")
    assert {"order-0001": "cancelled", "order-0002": "delivered"} == result.final_status


@each_style
def test_every_event_names_the_order_as_correlation_and_the_event_before_as_cause(
    run: Run, store: EventStore
) -> None:
    run(store, saga.make_orders(3, seed=2), Failures(force={"order-0002": "shipping"}))

    for order_id in ("order-0001", "order-0002", "order-0003"):
        events = saga_events(store, order_id)
        causes = [json.loads(m).get("causation_id") for m in events["metadata"]]
        assert [None] + [str(e) for e in events["event_id"][:-1]] == causes


@each_style
def test_each_step_starts_when_the_event_before_it_was_written_and_takes_its_work_time(
    run: Run, store: EventStore
) -> None:
    failures = Failures(seed=4)
    run(store, saga.make_orders(1, seed=3), failures)

    [placed] = store.read_stream("order-0001")
    [charged] = store.read_stream("payment-0001")
    [reserved] = store.read_stream("reservation-0001")

    assert saga.START == placed.timestamp
    assert placed.timestamp + failures.work("order-0001", "payment") == charged.timestamp
    assert charged.timestamp + failures.work("order-0001", "inventory") == reserved.timestamp


def test_orchestration_sends_two_messages_per_event_and_choreography_one(
    store: EventStore, second_store: EventStore
) -> None:
    batch, failures = saga.make_orders(10, seed=5), Failures(payment=0.2, shipping=0.3, seed=5)

    orchestrated = saga.run_orchestrated(store, batch, failures)
    choreographed = saga.run_choreographed(second_store, batch, failures)

    events = orchestrated.events_written
    assert events == choreographed.events_written == len(store.read_all())
    # Orchestrated: a command for every event written (the customer's order first), and
    # every event goes back to the orchestrator.
    assert (events, events) == (orchestrated.commands, orchestrated.deliveries)
    # Choreographed: only the customers' orders are commands; every event but the last of
    # each order is delivered to the one participant that reacts to it.
    assert (10, events - 10) == (choreographed.commands, choreographed.deliveries)
    assert 2 * events == orchestrated.messages
    assert events == choreographed.messages


def test_the_orchestrator_holds_the_whole_flow_and_the_choreography_spreads_it(
    store: EventStore, second_store: EventStore
) -> None:
    batch = saga.make_orders(2, seed=1)

    orchestrated = saga.run_orchestrated(store, batch)
    choreographed = saga.run_choreographed(second_store, batch)

    assert (1, 5) == (orchestrated.places_knowing_flow, orchestrated.flow_rules)
    assert (4, 11) == (choreographed.places_knowing_flow, choreographed.flow_rules)


def test_enough_stock_covers_every_unit_the_orders_want() -> None:
    batch = saga.make_orders(12, seed=4)

    stock = saga.enough_stock(batch)

    wanted = sum(line.quantity for order in batch for line in order.items)
    assert wanted == sum(stock.values())
    assert sorted(stock) == list(stock)


def test_the_orchestrator_refuses_a_reply_its_steps_have_no_rule_for(store: EventStore) -> None:
    saga.run_orchestrated(store, saga.make_orders(1, seed=1))
    orchestrator = saga.Orchestrator({}, saga.VirtualQueue(), Failures())
    [order] = saga.make_orders(1, seed=1)
    orchestrator.sagas[order.order_id] = saga.SagaState(order)
    delivered = store.read_stream("shipment-0001")[-1]

    with pytest.raises(saga.SagaError, match="waits for 'payment' and has no rule for Order"):
        orchestrator.on_reply(delivered, delivered.timestamp)
    assert issubclass(saga.SagaError, DomainError)


@each_style
def test_an_order_short_of_stock_is_refunded_and_released_stock_serves_a_later_order(
    run: Run, store: EventStore
) -> None:
    batch = [
        one_line_order("order-0001", 2, hours_later=0),  # shipping fails: its 2 come back
        one_line_order("order-0002", 3, hours_later=2),  # 3 wanted, only 2 in stock
        one_line_order("order-0003", 2, hours_later=4),  # takes the 2 released units
    ]

    result = run(store, batch, Failures(force={"order-0001": "shipping"}), stock={"SKU-004": 2})

    assert AFTER_FAILURE["shipping"] == event_types(store, "order-0001")
    assert AFTER_FAILURE["inventory"] == event_types(store, "order-0002")
    assert FORWARD == event_types(store, "order-0003")
    assert 0 == result.inventory.stock["SKU-004"]
    saga_report.check_invariants(store, result)


@each_style
def test_a_run_is_refused_and_writes_nothing_if_the_store_already_has_an_order(
    run: Run,
    store: EventStore,
    unchanged: Callable[[EventStore], AbstractContextManager[None]],
) -> None:
    run(store, saga.make_orders(1, seed=1))

    with unchanged(store), pytest.raises(InvalidArgument, match="order-0001"):
        run(store, saga.make_orders(2, seed=1))


@pytest.mark.parametrize(
    ("batch", "stock", "named"),
    [
        ([], None, r"\[\]"),
        (saga.make_orders(1, seed=1) * 2, None, "order-0001"),
        (saga.make_orders(1, seed=1), {"SKU-001": -1}, "-1"),
        (saga.make_orders(1, seed=1), {"SKU-001": 1.5}, "1.5"),
    ],
)
def test_a_bad_batch_or_stock_is_refused_naming_the_value(
    batch: list[SagaOrder],
    stock: dict[str, int] | None,
    named: str,
    store: EventStore,
    unchanged: Callable[[EventStore], AbstractContextManager[None]],
) -> None:
    with unchanged(store), pytest.raises(InvalidArgument, match=named):
        saga.run_choreographed(store, batch, stock=stock)


@pytest.mark.parametrize(
    ("change", "error", "named"),
    [
        ({"items": ()}, orders.InvalidOrder, r"\(\)"),
        ({"customer_id": " "}, orders.InvalidOrder, "customer_id"),
        ({"placed_at": datetime(2024, 3, 1, 9)}, InvalidArgument, "no time zone"),
    ],
)
def test_an_order_the_domain_would_refuse_stops_the_run_before_any_write(
    change: dict[str, object],
    error: type[Exception],
    named: str,
    store: EventStore,
    unchanged: Callable[[EventStore], AbstractContextManager[None]],
) -> None:
    good, bad = saga.make_orders(2, seed=1)
    batch = [good, dataclasses.replace(bad, **change)]  # type: ignore[arg-type]

    with unchanged(store), pytest.raises(error, match=named):
        saga.run_orchestrated(store, batch)


def test_the_same_orders_and_seed_write_the_same_store_twice(
    store: EventStore, second_store: EventStore
) -> None:
    batch, failures = saga.make_orders(8, seed=6), Failures(payment=0.3, dispatch=0.3, seed=6)

    saga.run_choreographed(store, batch, failures)
    saga.run_choreographed(second_store, batch, failures)

    everything = "SELECT * FROM event_store ORDER BY position"
    pd.testing.assert_frame_equal(store.sql(everything), second_store.sql(everything))


# -- what a run left behind ------------------------------------------------------------
def test_outcomes_name_the_failed_step_and_the_refund_of_each_order(store: EventStore) -> None:
    batch = saga.make_orders(5, seed=8)
    force = {"order-0001": "payment", "order-0003": "dispatch", "order-0004": "inventory"}

    saga.run_orchestrated(store, batch, Failures(force=force))
    table = saga_report.outcomes(store, [o.order_id for o in batch])

    totals = {o.order_id: orders.line_total(o.items) for o in batch}
    assert {**dict.fromkeys(totals, ""), **force} == table["failed_at"].to_dict()
    refunded = {i: (totals[i] if i in ("order-0003", "order-0004") else 0) for i in totals}
    assert refunded == table["refunded"].to_dict()
    assert ["cancelled", "delivered", "cancelled", "cancelled", "delivered"] == list(
        table["outcome"]
    )
    assert " → ".join(AFTER_FAILURE["payment"]) == table.at["order-0001", "sequence"]
    assert [1, 0, 4, 2, 0] == list(table["compensations"])


@pytest.mark.parametrize("order_ids", [[], "order-0001"])
def test_the_reports_refuse_anything_but_a_list_of_order_ids(
    order_ids: list[str], store: EventStore
) -> None:
    with pytest.raises(InvalidArgument, match="order_ids must be a non-empty list"):
        saga_report.outcomes(store, order_ids)


def test_the_flow_tables_list_every_step_and_every_subscription() -> None:
    orchestration = saga_report.flow_table("orchestration").set_index("step")
    choreography = saga_report.flow_table("choreography")

    assert len(saga.SAGA) == len(orchestration)
    assert "inventory.release" == orchestration.loc["inventory", "undo"]
    assert "ask again" == orchestration.loc["dispatch (pivot)", "on no reply"]
    reacting = choreography.set_index("reacts to")["participant"].to_dict()
    assert "inventory" == reacting["ShipmentFailed"]
    assert "shop" == reacting["PaymentRefunded"]
    with pytest.raises(InvalidArgument, match="'central'"):
        saga_report.flow_table("central")


@pytest.mark.parametrize(("gap", "expected"), [(timedelta(days=1), 1), (timedelta(0), 5)])
def test_sagas_in_flight_count_the_orders_open_at_the_same_moment(
    gap: timedelta, expected: int, store: EventStore
) -> None:
    drawn = saga.make_orders(5, seed=1)
    # A day apart, no saga (at most a few hours long) overlaps another; all at once, all do.
    batch = [dataclasses.replace(o, placed_at=saga.START + i * gap) for i, o in enumerate(drawn)]
    saga.run_choreographed(store, batch)

    steps = saga_report.timeline(store, [o.order_id for o in batch])

    assert expected == saga_report.most_in_flight(steps)


def test_the_timeline_bars_run_from_each_cause_to_its_event_and_say_their_kind(
    store: EventStore,
) -> None:
    saga.run_choreographed(
        store, saga.make_orders(1, seed=1), Failures(force={"order-0001": "shipping"})
    )

    bars = saga_report.timeline(store, ["order-0001"])

    times = list(saga_events(store, "order-0001")["timestamp"])
    assert times == list(bars["end"])
    assert times[:1] + times[:-1] == list(bars["start"])
    kinds = ["placed", "forward", "forward", "failed"] + ["compensation"] * 3
    assert kinds == list(bars["kind"])


def test_invariants_hold_after_failures_at_every_step(store: EventStore) -> None:
    batch = saga.make_orders(6, seed=3)
    force = {f"order-{i:04d}": step for i, step in enumerate(STEPS, start=2)}

    result = saga.run_orchestrated(store, batch, Failures(force=force))
    checks = saga_report.invariants(store, result)

    assert [True] * 6 == list(checks["holds"])
    saga_report.check_invariants(store, result)  # raises nothing


def test_a_leaked_unit_of_stock_breaks_the_stock_invariant_by_name(store: EventStore) -> None:
    result = saga.run_choreographed(store, saga.make_orders(3, seed=3))
    result.inventory.stock["SKU-001"] += 1

    with pytest.raises(InvariantBroken, match="broke 1 invariant.*final stock = initial"):
        saga_report.check_invariants(store, result)


def test_a_refund_the_store_never_saw_breaks_the_books_invariant(store: EventStore) -> None:
    result = saga.run_orchestrated(store, saga.make_orders(2, seed=3))
    result.payments.refunded["order-0001"] += Decimal("5")

    checks = saga_report.invariants(store, result).set_index("invariant")["holds"]

    assert not checks["the payments books match the event store"]


def test_an_order_left_open_breaks_the_terminal_invariant(store: EventStore) -> None:
    result = saga.run_orchestrated(store, saga.make_orders(2, seed=3))
    placed = orders.decide(
        orders.INITIAL_STATE, orders.PlaceOrder("c-1", saga.make_orders(1, seed=1)[0].items)
    )
    new = [NewEvent(e.event_type(), e.to_data(), {"correlation_id": "order-0099"}) for e in placed]
    store.append("order-0099", new, expected_version=0)
    with_open = dataclasses.replace(result, order_ids=(*result.order_ids, "order-0099"))

    checks = saga_report.invariants(store, with_open).set_index("invariant")["holds"]

    assert not checks["every saga ended delivered or cancelled"]


def test_compare_puts_the_styles_side_by_side(store: EventStore, second_store: EventStore) -> None:
    batch, failures = saga.make_orders(6, seed=2), Failures(force={"order-0002": "payment"})

    table = saga_report.compare(
        saga.run_orchestrated(store, batch, failures),
        saga.run_choreographed(second_store, batch, failures),
    )

    assert ["orchestration", "choreography"] == list(table.columns)
    assert [6, 5, 1] == list(table.loc[["orders", "delivered", "cancelled"], "choreography"])
    assert (
        table.at["messages sent", "orchestration"] == 2 * table.at["messages sent", "choreography"]
    )


# -- properties ------------------------------------------------------------------------
rates = st.floats(min_value=0, max_value=1)


@settings(max_examples=15, deadline=None)
@given(
    seed=seeds,
    n=st.integers(min_value=1, max_value=6),
    payment=rates,
    inventory=rates,
    shipping=rates,
    dispatch=rates,
    scarce=st.booleans(),
)
def test_both_styles_keep_the_invariants_and_give_every_order_the_same_events(
    seed: int,
    n: int,
    payment: float,
    inventory: float,
    shipping: float,
    dispatch: float,
    scarce: bool,
) -> None:
    batch = saga.make_orders(n, seed=seed % 1000)
    failures = Failures(payment, inventory, shipping, dispatch, seed=seed)
    # Scarce: about half of what the orders want, so stock runs out along the way too.
    stock = {sku: units // 2 for sku, units in saga.enough_stock(batch).items()} if scarce else None
    with reproducible_store() as first, reproducible_store() as second:
        orchestrated = saga.run_orchestrated(first, batch, failures, stock=stock)
        choreographed = saga.run_choreographed(second, batch, failures, stock=stock)

        for store, result in ((first, orchestrated), (second, choreographed)):
            saga_report.check_invariants(store, result)
            assert set(result.final_status.values()) <= {"delivered", "cancelled"}
        assert orchestrated.final_status == choreographed.final_status
        pd.testing.assert_frame_equal(first.sql(EVENTS_SQL), second.sql(EVENTS_SQL))


# -- each participant's own books ------------------------------------------------------------
def test_each_participant_writes_only_its_own_streams(store: EventStore) -> None:
    saga.run_orchestrated(
        store, saga.make_orders(3, seed=2), Failures(force={"order-0002": "dispatch"})
    )

    written = store.sql(
        "SELECT DISTINCT metadata->>'participant' AS participant, split_part(stream_id, '-', 1) "
        "AS prefix FROM event_store ORDER BY 1"
    )

    expected = sorted(STREAM_PREFIX.items())
    assert expected == list(written.itertuples(index=False, name=None))


def test_a_participant_refuses_what_its_own_books_do_not_allow(store: EventStore) -> None:
    [order] = saga.make_orders(1, seed=1)
    books = Books(store, "test", Failures())
    payments = Payments(books)
    message = Message(order, None, order.placed_at)

    with pytest.raises(StepRefused, match="keeps nothing"):
        payments.refund(message)
    payments.charge(message)
    with pytest.raises(StepRefused, match="already charged"):
        payments.charge(message)


# -- deadlines and the pivot -------------------------------------------------------------
@pytest.mark.parametrize("step", ["payment", "inventory", "shipping"])
def test_a_lost_reply_before_the_pivot_undoes_that_step_too_then_the_earlier_ones(
    step: str, store: EventStore
) -> None:
    batch = saga.make_orders(2, seed=1)

    result = saga.run_orchestrated(store, batch, Failures(lost={"order-0001": step}))

    done = FORWARD[: 2 + saga.SAGA.index(saga.STEP[step])]
    undo = {
        "payment": ["PaymentRefunded"],
        "inventory": ["InventoryReleased", "PaymentRefunded"],
        "shipping": ["ShipmentCancelled", "InventoryReleased", "PaymentRefunded"],
    }[step]
    assert done + undo + ["OrderCancelled"] == event_types(store, "order-0001")
    assert [("order-0001", step, "compensate")] == [
        (t.order_id, t.step, t.then) for t in result.timeouts
    ]
    saga_report.check_invariants(store, result)


def test_the_compensation_of_a_timed_out_step_starts_at_its_deadline(store: EventStore) -> None:
    saga.run_orchestrated(
        store, saga.make_orders(1, seed=1), Failures(lost={"order-0001": "inventory"})
    )

    [placed] = store.read_stream("order-0001")[:1]
    reserved, released = store.read_stream("reservation-0001")
    [charged, _] = store.read_stream("payment-0001")

    deadline = charged.timestamp + saga.STEP["inventory"].deadline
    assert reserved.timestamp < deadline < released.timestamp
    assert "no reply from inventory within 10 min" == released.metadata["reason"]
    assert placed.timestamp < charged.timestamp


@pytest.mark.parametrize("step", ["dispatch", "delivery"])
def test_a_lost_reply_at_the_pivot_or_after_is_retried_and_the_order_still_arrives(
    step: str, store: EventStore
) -> None:
    result = saga.run_orchestrated(
        store, saga.make_orders(1, seed=1), Failures(lost={"order-0001": step})
    )

    assert FORWARD == event_types(store, "order-0001")  # asked twice, written once
    assert {"order-0001": "delivered"} == result.final_status
    assert [(step, "retry")] == [(t.step, t.then) for t in result.timeouts]
    times = list(saga_events(store, "order-0001")["timestamp"])
    assert times == sorted(times)


def test_a_choreography_refuses_lost_replies_since_no_one_watches_a_deadline(
    store: EventStore,
) -> None:
    with pytest.raises(InvalidArgument, match="no one to watch a deadline"):
        saga.run_choreographed(
            store, saga.make_orders(1, seed=1), Failures(lost={"order-0001": "payment"})
        )
    assert [] == store.read_all()


def test_an_order_cannot_both_fail_and_lose_a_reply() -> None:
    with pytest.raises(InvalidArgument, match="either in force or in lost"):
        Failures(force={"order-0001": "payment"}, lost={"order-0001": "payment"})


UNDO_ALL = [("inventory", "release"), ("payments", "refund"), ("shop", "cancel")]
SHIPPING_BOOKED = ("payment", "inventory", "shipping")


@pytest.mark.parametrize(
    ("done", "step", "outcome", "expected"),
    [
        ((), "payment", "ok", [("inventory", "reserve")]),
        ((*SHIPPING_BOOKED, "dispatch"), "delivery", "ok", []),
        ((), "payment", "failed", [("shop", "cancel")]),
        (("payment",), "inventory", "timeout", UNDO_ALL),
        (SHIPPING_BOOKED, "dispatch", "failed", UNDO_ALL),  # shipping undid its own booking
        (SHIPPING_BOOKED, "dispatch", "timeout", [("shipping", "dispatch")]),
    ],
)
def test_next_moves_go_on_undo_in_reverse_or_ask_again_past_the_pivot(
    done: tuple[str, ...], step: str, outcome: str, expected: list[tuple[str, str]]
) -> None:
    assert expected == saga.next_moves(done, step, outcome)


def test_a_plan_that_never_undoes_is_followed_and_the_invariants_catch_it(
    store: EventStore,
) -> None:
    def never_undo(done: object, step: str, outcome: str) -> list[tuple[str, str]]:
        return saga.next_moves((), step, outcome) if outcome == "ok" else [saga.CANCEL]

    failures = Failures(force={"order-0001": "inventory"})
    result = saga.run_orchestrated(store, saga.make_orders(1, seed=1), failures, plan=never_undo)

    expected = ["OrderPlaced", "PaymentCharged", "InventoryReservationFailed", "OrderCancelled"]
    assert expected == event_types(store, "order-0001")
    # The shop cannot see the payment books: only the saga's plan keeps the money straight.
    checks = saga_report.invariants(store, result).set_index("invariant")["holds"]
    assert not checks["no money kept for a cancelled order (charged − refunded = 0)"]
