"""What a message carries: a thin notification, the whole state (fat), or the domain event.

The producer is an event-sourced order service: its facts are the orders domain's events
(``eventsim.domains.orders``), decided by the domain's own ``decide``. Each message is a
view of one of those events, so a rename in the domain reaches every message:

- Event notification (thin): the event's type and ``{"order_id": ...}``. Small, but a
  consumer that needs details must call the producer back, which must be up, and the
  call-back answers with the order as it is NOW, not as it was when the event happened.
- Event-carried state transfer (fat): the order's state right after the event. No
  call-back, but the copy can be stale by the time the consumer acts on it.
- Domain event: the fact itself, in the domain's words (``OrderPlaced`` with its items
  and total): the producer's internal event, not yet a published contract (see
  ``integration``).

>>> shop = OrderService()
>>> placed = shop.place("order-1", {"SKU-001": 2})
>>> notification(placed).data, shop.lookups
({'order_id': 'order-1'}, 0)
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from eventsim.domains import orders
from eventsim.errors import EventSimError
from eventsim.events import Event, to_jsonable
from eventsim.messaging.bus import domain_message, message

UNIT_PRICE = Decimal("10")  # every SKU costs the same in these lessons: totals stay easy to check


CANCELLED = orders.STATUS_AFTER[orders.OrderCancelled]


class UnknownOrder(EventSimError, LookupError):
    """The producer has no order of that id."""


class ProducerDown(EventSimError):
    """The producer is unavailable: a call-back to it failed."""


def line_items(lines: Mapping[str, int], unit_price: Decimal = UNIT_PRICE) -> orders.LineItems:
    """The domain's order lines for ``{sku: quantity}``, each at ``unit_price``."""
    return tuple(orders.LineItem(sku, quantity, unit_price) for sku, quantity in lines.items())


def order_view(order_id: str, order: orders.Order) -> dict[str, Any]:
    """The order as JSON: the domain state's own fields, plus its id."""
    view = to_jsonable(order)
    assert isinstance(view, dict)  # an Order is a dataclass: its JSON is an object
    return {"order_id": order_id, **view}


def notification(event: Event) -> Event:
    """Thin: the event's type and the order's id. 'It happened to order X; ask me.'"""
    data = {"order_id": event.stream_id}
    return message(event.event_type, data, stream_id=event.stream_id, version=event.version)


def state_transfer(event: Event, order: orders.Order) -> Event:
    """Fat: the event's type and the whole order as it stood right after the event."""
    data = order_view(event.stream_id, order)
    return message(event.event_type, data, stream_id=event.stream_id, version=event.version)


class OrderService:
    """The producer: decides with the orders domain, keeps each order's events, answers calls."""

    def __init__(self) -> None:
        self.history: dict[str, list[Event]] = {}  # order id -> its events, oldest first
        self.lookups = 0  # call-backs from consumers asking for details
        self.up = True  # False: call-backs fail with ProducerDown

    def place(self, order_id: str, lines: Mapping[str, int], *, customer_id: str = "c-1") -> Event:
        return self._decide(order_id, orders.PlaceOrder(customer_id, line_items(lines)))

    def cancel(self, order_id: str, reason: str = "customer request") -> Event:
        """The customer cancels (allowed while nothing is paid or held)."""
        return self._decide(order_id, orders.CancelOrder(reason))

    def state(self, order_id: str, *, to_version: int | None = None) -> orders.Order:
        """The order folded from its events (up to ``to_version``); not a call-back."""
        order = orders.INITIAL_STATE
        for event in self._events(order_id)[:to_version]:
            order = orders.evolve(order, orders.EVENT_TYPES[event.event_type].from_data(event.data))
        return order

    def get(self, order_id: str) -> dict[str, Any]:
        """A call-back: the order as it is now (counted in ``lookups``)."""
        if not self.up:
            raise ProducerDown(f"the order service is down; cannot look up {order_id!r}")
        self.lookups += 1
        return order_view(order_id, self.state(order_id))

    def fat(self, event: Event) -> Event:
        """The fat message of one of this producer's events."""
        return state_transfer(event, self.state(event.stream_id, to_version=event.version))

    def _events(self, order_id: str) -> list[Event]:
        if order_id not in self.history:
            raise UnknownOrder(f"no order {order_id!r}; known: {len(self.history)} orders")
        return self.history[order_id]

    def _decide(self, order_id: str, command: orders.Command) -> Event:
        state = self.state(order_id) if order_id in self.history else orders.INITIAL_STATE
        [fact] = orders.decide(state, command)
        event = domain_message(fact, stream_id=order_id, version=state.version + 1)
        self.history.setdefault(order_id, []).append(event)
        return event


class Picker:
    """A warehouse consumer that picks each placed order's lines, from a thin or a fat message.

    A pick is an action in the world (goods leave the shelf). ``stale_picks`` counts the
    picks of orders already cancelled at that moment; ``newer_than_event`` counts the
    call-backs that answered with a later version of the order than the message's.
    """

    def __init__(self, producer: OrderService) -> None:
        self.producer = producer
        self.picks: list[str] = []
        self.stale_picks = 0
        self.callbacks = 0
        self.newer_than_event = 0

    def on_notification(self, event: Event) -> None:
        order = self.producer.get(event.data["order_id"])  # the call-back a thin event forces
        self.callbacks += 1
        self.newer_than_event += order["version"] > event.version
        self._pick(order)

    def on_state(self, event: Event) -> None:
        self._pick(event.data)  # no call-back: the message is the order

    def _pick(self, order: Mapping[str, Any]) -> None:
        if order["status"] != orders.STATUS_AFTER[orders.OrderPlaced]:
            return  # not a fresh order (cancelled, or further on): nothing to pick
        order_id = order["order_id"]
        # Compared with the producer's truth at this moment (an observer's view, not a call).
        self.stale_picks += self.producer.state(order_id).status == CANCELLED
        self.picks.append(order_id)
