"""Internal (domain) events against integration events: what a service stores, what it promises.

The order service's domain events are internal: their shape follows the domain model and
may change with it (a renamed field, a split event). Other services must not depend on
them. What it publishes is an integration event: a small, versioned contract, translated
from the internal event, that keeps its shape while the internals move. Most internal
events (which warehouse, which card) are not published at all.

>>> from eventsim.messaging.mediator import order_placed
>>> published = to_integration(order_placed("order-1", {"SKU-001": 2}))
>>> published.event_type, published.data["lines"], published.data["total"]
('shop.order-placed', [{'sku': 'SKU-001', 'quantity': 2}], '20.00')
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from eventsim.domains import orders
from eventsim.events import Event
from eventsim.messaging.bus import message

SCHEMA_VERSION = 1  # bumped only with a new contract, published beside the old one
PLACED = "shop.order-placed"  # the contract's name: not the internal class's name
CANCELLED = "shop.order-cancelled"


def _placed(event: Event) -> dict[str, Any]:
    fact = orders.OrderPlaced.from_data(event.data)
    return {
        "order_id": event.stream_id,
        "customer_id": fact.customer_id,
        "lines": [{"sku": line.sku, "quantity": line.quantity} for line in fact.items],
        "total": f"{fact.total:.2f}",  # text: every consumer's language reads it exactly
    }


def _cancelled(event: Event) -> dict[str, Any]:
    return {
        "order_id": event.stream_id,
        "reason": orders.OrderCancelled.from_data(event.data).reason,
    }


# Internal event type -> (contract name, translation). Types not listed stay internal.
PUBLISHED: dict[str, tuple[str, Callable[[Event], dict[str, Any]]]] = {
    orders.OrderPlaced.event_type(): (PLACED, _placed),
    orders.OrderCancelled.event_type(): (CANCELLED, _cancelled),
}


def to_integration(event: Event) -> Event | None:
    """The integration event for an internal one, or None if it is not published."""
    if event.event_type not in PUBLISHED:
        return None
    contract, translate = PUBLISHED[event.event_type]
    return message(
        contract,
        translate(event),
        stream_id=event.stream_id,
        version=event.version,
        metadata={"schema_version": SCHEMA_VERSION, "causation_id": str(event.event_id)},
    )
