"""CQRS without event sourcing: the read model follows the write table, command by command."""

from __future__ import annotations

from decimal import Decimal

import pandas as pd
import pytest

from eventsim import EventStore, orders
from eventsim.cqrs.state_based import StateBasedOrders

LINES = (orders.LineItem("SKU-003", 2, Decimal("12.50")),)


def shop_after_some_commands() -> tuple[EventStore, StateBasedOrders]:
    store = EventStore()
    shop = StateBasedOrders(store.connection)
    for i in range(1, 7):
        shop.handle(f"order-{i}", orders.PlaceOrder(f"customer-{i % 2}", LINES))
        if i % 3:
            shop.handle(f"order-{i}", orders.ChargePayment(Decimal("25.00")))
        if i == 4:
            shop.handle(f"order-{i}", orders.RefundPayment(Decimal("25.00")))
    return store, shop


def test_the_dashboard_always_equals_a_group_by_over_the_write_table() -> None:
    store, shop = shop_after_some_commands()

    expected = store.sql(
        "SELECT customer_id, count(*) AS orders, "
        "count(*) FILTER (WHERE status NOT IN ('cancelled', 'delivered')) AS open_orders, "
        "sum(paid) AS spent FROM orders_current GROUP BY 1 ORDER BY 1"
    )
    pd.testing.assert_frame_equal(expected, shop.dashboard(), check_dtype=False)
    assert [Decimal("25.00"), Decimal("50.00")] == [Decimal(str(x)) for x in expected["spent"]]


def test_a_rejected_command_changes_neither_model_and_no_event_is_stored() -> None:
    store, shop = shop_after_some_commands()
    before = shop.dashboard()

    with pytest.raises(orders.WrongAmount):
        shop.handle("order-3", orders.ChargePayment(Decimal("1.00")))

    pd.testing.assert_frame_equal(before, shop.dashboard())
    assert 0 == store.info()["events"]


def test_a_write_that_fails_in_the_database_leaves_the_rules_copy_as_it_was() -> None:
    store, shop = shop_after_some_commands()
    store.connection.execute("DROP TABLE customer_dashboard")  # the read model's write fails

    with pytest.raises(Exception, match="customer_dashboard"):
        shop.handle("order-3", orders.ChargePayment(Decimal("25.00")))

    assert "placed" == shop.rules.rows["order-3"]["status"]
    assert (
        "placed"
        == store.sql("SELECT status FROM orders_current WHERE order_id = 'order-3'")[
            "status"
        ].item()
    )
