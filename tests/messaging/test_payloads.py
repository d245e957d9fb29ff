"""Thin, fat and domain messages: call-backs, newer answers, stale copies."""

from __future__ import annotations

import pytest

from eventsim.domains import orders
from eventsim.messaging.bus import Broker
from eventsim.messaging.payloads import (
    OrderService,
    Picker,
    ProducerDown,
    UnknownOrder,
    notification,
)


def shop_with_orders(n: int) -> tuple[OrderService, list]:
    shop = OrderService()
    return shop, [shop.place(f"order-{i}", {"SKU-001": 1}) for i in range(n)]


def test_a_thin_event_carries_only_the_id_and_forces_a_call_back() -> None:
    shop, placed = shop_with_orders(3)
    picker = Picker(shop)
    for event in placed:
        picker.on_notification(notification(event))
    assert {"order_id": "order-0"} == notification(placed[0]).data
    assert (3, 0, 3) == (shop.lookups, picker.stale_picks, len(picker.picks))


def test_a_call_back_answers_with_the_order_as_it_is_now_not_as_it_was() -> None:
    shop, placed = shop_with_orders(2)
    shop.cancel("order-1")
    picker = Picker(shop)
    for event in placed:
        picker.on_notification(notification(event))
    assert (1, ["order-0"]) == (picker.newer_than_event, picker.picks)


def test_a_call_back_fails_while_the_producer_is_down() -> None:
    shop, placed = shop_with_orders(1)
    shop.up = False
    with pytest.raises(ProducerDown, match="order-0"):
        Picker(shop).on_notification(notification(placed[0]))


def test_a_fat_event_needs_no_call_back_but_can_be_stale() -> None:
    shop, placed = shop_with_orders(3)
    broker = Broker()
    picker = Picker(shop)
    broker.subscribe("order-state", "picker", picker.on_state)
    for event in placed:
        broker.publish("order-state", shop.fat(event))
    shop.cancel("order-1")
    broker.run()
    assert (0, 1) == (shop.lookups, picker.stale_picks)


def test_a_fat_event_is_the_domain_state_after_the_event() -> None:
    shop, placed = shop_with_orders(1)
    fat = shop.fat(placed[0]).data
    assert ["order-0", "placed", 1] == [fat["order_id"], fat["status"], fat["version"]]
    assert orders.parse_items("items", fat["items"]) == shop.state("order-0").items


def test_a_domain_event_is_the_orders_domain_event() -> None:
    _, placed = shop_with_orders(1)
    event = orders.EVENT_TYPES[placed[0].event_type].from_data(placed[0].data)
    assert isinstance(event, orders.OrderPlaced)


def test_an_unknown_order_is_refused() -> None:
    with pytest.raises(UnknownOrder, match="order-9"):
        OrderService().get("order-9")
