"""An optimistic UI: shown before confirmed, rolled back on rejection, phantoms counted."""

from __future__ import annotations

from decimal import Decimal

from eventsim import orders
from eventsim.cqrs.optimistic import OptimisticScreen, phantom_reads
from eventsim.domains.orders import INITIAL_STATE, OrderCancelled, evolve

LINES = (orders.LineItem("SKU-004", 1, Decimal("49.00")),)
PLACED = orders.decide(INITIAL_STATE, orders.PlaceOrder("customer-1", LINES))


def placed_state() -> orders.Order:
    return evolve(INITIAL_STATE, PLACED[0])


def test_the_screen_shows_the_expected_change_before_any_answer() -> None:
    screen = OptimisticScreen(placed_state())

    screen.expect(orders.ChargePayment(Decimal("49.00")))

    assert "paid" == screen.read().status and "placed" == screen.confirmed.status


def test_a_rejected_command_rolls_back_and_its_reads_are_phantoms() -> None:
    screen = OptimisticScreen(placed_state())
    screen.expect(orders.ChargePayment(Decimal("49.00")))
    screen.read()
    screen.read()
    truth = evolve(placed_state(), OrderCancelled("not paid in time"))  # someone else won

    assert screen.settle(truth)
    assert "cancelled" == screen.read().status
    assert 2 == phantom_reads(screen.reads, [placed_state(), truth])


def test_a_confirmed_command_needs_no_rollback_and_shows_no_phantom() -> None:
    screen = OptimisticScreen(placed_state())
    events = screen.expect(orders.ChargePayment(Decimal("49.00")))
    screen.read()
    truth = evolve(placed_state(), events[0])

    assert not screen.settle(truth)
    assert 0 == phantom_reads(screen.reads, [placed_state(), truth])
