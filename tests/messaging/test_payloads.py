"""Thin, fat and domain messages: call-backs and stale copies."""

from __future__ import annotations

import pytest

from eventsim.messaging.bus import Broker
from eventsim.messaging.payloads import OrderService, Picker, UnknownOrder


def shop_with_orders(n: int) -> OrderService:
    shop = OrderService()
    for i in range(n):
        shop.place(f"order-{i}", {"SKU-001": 1})
    return shop


def test_a_thin_event_carries_only_the_id_and_forces_a_call_back() -> None:
    shop = shop_with_orders(3)
    picker = Picker(shop)
    for order_id in sorted(shop.orders):
        picker.on_notification(shop.notification(order_id))
    assert {"order_id": "order-0"} == shop.notification("order-0").data
    assert (3, 0) == (shop.lookups, picker.stale_picks)


def test_a_fat_event_needs_no_call_back_but_can_be_stale() -> None:
    shop = shop_with_orders(3)
    broker = Broker()
    picker = Picker(shop)
    broker.subscribe("order-state", "picker", picker.on_state)
    for order_id in sorted(shop.orders):
        broker.publish("order-state", shop.state_transfer(order_id))
    shop.amend("order-1", {"SKU-001": 5})
    broker.run()
    assert (0, 1) == (shop.lookups, picker.stale_picks)


def test_a_domain_event_states_the_fact() -> None:
    event = shop_with_orders(1).domain_event("order-0")
    assert ("OrderPlaced", {"lines": {"SKU-001": 1}}) == (event.event_type, event.data)


def test_an_unknown_order_is_refused() -> None:
    with pytest.raises(UnknownOrder, match="order-9"):
        OrderService().get("order-9")
