"""One orders vocabulary: messaging publishes the orders domain's events, never its own copies.

A rename in ``eventsim.domains.orders`` must reach every messaging lesson or fail here.
"""

from __future__ import annotations

import ast
import importlib
import pkgutil
from pathlib import Path

import pytest

import eventsim.messaging
from eventsim.domains import orders
from eventsim.events import Event
from eventsim.messaging.bus import Broker
from eventsim.messaging.mediator import Choreography, Services, mediated, order_placed
from eventsim.messaging.payloads import OrderService

MODULES = sorted(
    info.name for info in pkgutil.iter_modules(eventsim.messaging.__path__, "eventsim.messaging.")
)


@pytest.mark.parametrize("name", MODULES)
def test_messaging_writes_no_order_event_name_of_its_own(name: str) -> None:
    """An order event's name as a literal (``"OrderPlaced"``) would survive a rename."""
    source = Path(importlib.import_module(name).__file__ or "").read_text()
    literals = {
        node.value
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    }
    assert set() == literals & set(orders.EVENT_TYPES)


@pytest.mark.parametrize("name", MODULES)
def test_messaging_defines_no_order_event_class_of_its_own(name: str) -> None:
    module = importlib.import_module(name)
    for event_type in orders.EVENT_TYPES:
        own = getattr(module, event_type, None)
        assert own is None or own is orders.EVENT_TYPES[event_type], f"{name}.{event_type}"


def published(broker: Broker) -> list[Event]:
    return [event for log in broker.logs.values() for event in log]


def parse_all(events: list[Event]) -> list[orders.OrderEvent]:
    """Each message read back as the orders domain's event: fails on any other shape."""
    parsed = [orders.EVENT_TYPES[e.event_type].from_data(e.data) for e in events]
    return [event for event in parsed if isinstance(event, orders.OrderEvent)]


def test_both_topologies_publish_only_the_orders_domain_events() -> None:
    choreographed, orchestrated = Broker(), Broker()
    flow = Choreography(choreographed, Services(stock={"SKU-001": 3}, declined={"c-2"}))
    mediated(orchestrated, Services(stock={"SKU-001": 3}))
    for n in range(3):
        flow.place(order_placed(f"order-{n}", {"SKU-001": 2}, customer_id=f"c-{n}"))
        orchestrated.publish("orders", order_placed(f"order-{n}", {"SKU-001": 2}))
    choreographed.run()
    orchestrated.run()
    events = published(choreographed) + published(orchestrated)
    kinds = {type(event) for event in parse_all(events)}
    assert len(events) == len(parse_all(events))
    assert {orders.OrderPlaced, orders.PaymentCharged, orders.PaymentFailed} <= kinds
    assert {orders.InventoryReserved, orders.InventoryReservationFailed} <= kinds


def test_the_producer_stores_the_orders_domain_events() -> None:
    shop = OrderService()
    shop.place("order-1", {"SKU-001": 2})
    shop.cancel("order-1")
    kinds = [type(event) for event in parse_all(shop.history["order-1"])]
    assert [orders.OrderPlaced, orders.OrderCancelled] == kinds
