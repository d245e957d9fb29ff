"""What a message carries: a thin notification, the whole state (fat), or a domain event.

- Event notification (thin): ``{"order_id": ...}``. Small and never out of date, but a
  consumer that needs details must call the producer back.
- Event-carried state transfer (fat): the whole order as it was when published. No
  call-back, but the copy can be stale by the time the consumer acts on it.
- Domain event: the fact that happened, in the domain's words (``OrderPlaced`` with its
  lines and total); what an event-sourced producer stores anyway.

>>> shop = OrderService()
>>> shop.place("order-1", {"SKU-001": 2})
>>> shop.notification("order-1").data, shop.lookups
({'order_id': 'order-1'}, 0)
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from eventsim.errors import EventSimError
from eventsim.events import Event
from eventsim.messaging.bus import message


class UnknownOrder(EventSimError, LookupError):
    """The producer has no order of that id."""


class OrderService:
    """The producer: owns the orders, publishes about them, answers call-backs."""

    def __init__(self) -> None:
        self.orders: dict[str, dict[str, Any]] = {}
        self.lookups = 0  # call-backs from consumers asking for details

    def place(self, order_id: str, lines: Mapping[str, int]) -> None:
        self.orders[order_id] = {"order_id": order_id, "lines": dict(lines), "revision": 1}

    def amend(self, order_id: str, lines: Mapping[str, int]) -> None:
        """The customer changes the order: new lines, next revision."""
        order = self._order(order_id)
        order["lines"] = dict(lines)
        order["revision"] += 1

    def get(self, order_id: str) -> dict[str, Any]:
        """A call-back: the order as it is now (counted in ``lookups``)."""
        self.lookups += 1
        return copy.deepcopy(self._order(order_id))

    def _order(self, order_id: str) -> dict[str, Any]:
        if order_id not in self.orders:
            raise UnknownOrder(f"no order {order_id!r}; known: {len(self.orders)} orders")
        return self.orders[order_id]

    # -- the three kinds of message ----------------------------------------------------
    def notification(self, order_id: str) -> Event:
        """Thin: only the id. 'Something happened to order X; ask me if you care.'"""
        revision = self._order(order_id)["revision"]
        return message("OrderChanged", {"order_id": order_id}, stream_id=order_id, version=revision)

    def state_transfer(self, order_id: str) -> Event:
        """Fat: a copy of the whole order as it is at publishing time."""
        order = copy.deepcopy(self._order(order_id))
        return message("OrderState", order, stream_id=order_id, version=order["revision"])

    def domain_event(self, order_id: str) -> Event:
        """The fact, in the domain's words: the order was placed, with these lines."""
        lines = self._order(order_id)["lines"]
        return message("OrderPlaced", {"lines": dict(lines)}, stream_id=order_id)


class Picker:
    """A warehouse consumer that picks each order's lines, from a thin or a fat message.

    A pick is an action in the world (goods leave the shelf); ``stale_picks`` counts the
    picks made from lines that were no longer the order's lines at that moment.
    """

    def __init__(self, producer: OrderService) -> None:
        self.producer = producer
        self.picks: list[tuple[str, dict[str, int]]] = []
        self.stale_picks = 0
        self.callbacks = 0

    def on_notification(self, event: Event) -> None:
        order = self.producer.get(event.data["order_id"])  # the call-back a thin event forces
        self.callbacks += 1
        self._pick(order["order_id"], order["lines"])

    def on_state(self, event: Event) -> None:
        self._pick(event.data["order_id"], dict(event.data["lines"]))  # no call-back

    def _pick(self, order_id: str, lines: dict[str, int]) -> None:
        # Compared with the producer's truth at this moment (an observer's view, not a call).
        self.stale_picks += lines != self.producer.orders[order_id]["lines"]
        self.picks.append((order_id, lines))
