"""The order saga's participants: small services that each keep their own books.

A shop places and cancels orders, payments charges and refunds, inventory reserves and
releases stock, shipping books a carrier, hands over the parcel and delivers it. Every
participant writes its result to the order's own stream through ``orders.decide``, so
the domain's rules hold whichever style (orchestration or choreography) calls them.
Whether a step fails, and how long its work takes in virtual time, is drawn from
``Failures`` per (order, step): the same for both styles, whatever order they run in.

>>> failures = Failures(payment=0.5, seed=3, force={"order-0001": "dispatch"})
>>> failures.fails("order-0001", "dispatch"), failures.fails("order-0001", "payment")
(True, False)
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import ClassVar

from eventsim.catalog import EventStore
from eventsim.domains import orders
from eventsim.errors import InvalidArgument
from eventsim.events import Event, NewEvent, caused_by
from eventsim.sim.orders import CARRIER_REJECTIONS, CARRIERS, DECLINES, TRACKING_PREFIX

STEPS = ("payment", "inventory", "shipping", "dispatch")
"""The steps that can fail, in saga order (dispatch: the carrier collects the parcel)."""

# The virtual minutes each kind of work takes: drawn uniformly from (low, high).
WORK_MINUTES: dict[str, tuple[float, float]] = {
    "payment": (1, 3),
    "inventory": (2, 6),
    "shipping": (5, 15),
    "dispatch": (5, 15),
    "delivery": (10, 20),
    "cancel_shipment": (2, 5),
    "release": (1, 3),
    "refund": (1, 4),
    "cancel": (1, 2),
}
# Why the shop cancels: the failure that started the compensations.
CANCEL_REASONS = {
    "PaymentFailed": "payment failed",
    "InventoryReservationFailed": "out of stock",
    "ShipmentFailed": "shipment failed",
    "ShipmentCancelled": "carrier missed the pickup",
}
MISSED_PICKUP = CANCEL_REASONS["ShipmentCancelled"]
WAREHOUSE = "AMS-1"


@dataclass(frozen=True)
class Failures:
    """Seeded failure injection: each step of each order fails with its step's rate.

    ``force`` maps an order id to the one step that must fail for it, rates aside.
    ``seed`` also draws how long each step's work takes.
    """

    payment: float = 0.0
    inventory: float = 0.0
    shipping: float = 0.0
    dispatch: float = 0.0
    seed: int = 0
    force: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for step in STEPS:
            rate = getattr(self, step)
            if isinstance(rate, bool) or not isinstance(rate, int | float) or not 0 <= rate <= 1:
                raise InvalidArgument(f"{step} must be a failure rate from 0 to 1, got {rate!r}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise InvalidArgument(f"seed must be a whole number >= 0, got {self.seed!r}")
        for order_id, step in dict(self.force).items():
            if step not in STEPS:
                raise InvalidArgument(
                    f"cannot force {order_id!r} to fail at {step!r}: choose one of {STEPS}"
                )
        object.__setattr__(self, "force", dict(self.force))

    def rng(self, order_id: str, what: str) -> random.Random:
        """A generator for one (order, step): independent of the order the steps run in."""
        return random.Random(f"{self.seed}/{order_id}/{what}")

    def fails(self, order_id: str, step: str) -> bool:
        if order_id in self.force:
            return self.force[order_id] == step
        rate: float = getattr(self, step)
        return self.rng(order_id, f"fails/{step}").random() < rate

    def work(self, order_id: str, what: str) -> timedelta:
        """How long ``what`` takes for this order, in whole virtual seconds."""
        low, high = WORK_MINUTES[what]
        minutes = self.rng(order_id, f"work/{what}").uniform(low, high)
        return timedelta(seconds=round(minutes * 60))


@dataclass(frozen=True)
class SagaOrder:
    """An order a customer is about to place: who, what, and when (virtual time)."""

    order_id: str
    customer_id: str
    items: orders.LineItems
    placed_at: datetime


class OrderStreams:
    """The orders' event streams: each command goes through ``orders.decide``, then the store.

    Keeps each order's folded state so a write needs no replay; ``append`` still checks
    the expected version, so a second writer would be caught.
    """

    def __init__(self, store: EventStore, style: str) -> None:
        self.store = store
        self.style = style
        self.states: dict[str, orders.Order] = {}
        self.first_failure: dict[str, str] = {}
        self.events_written = 0

    def place(self, order: SagaOrder, participant: str) -> Event:
        command = orders.PlaceOrder(order.customer_id, order.items)
        # The saga's correlation id is the order id; caused_by carries it to every later event.
        metadata = {"correlation_id": order.order_id}
        return self._write(order.order_id, command, metadata, participant, order.placed_at)

    def carry_out(
        self, cause: Event, participant: str, command: orders.Command, work: timedelta
    ) -> Event:
        """Run ``command`` on the order ``cause`` belongs to, ``work`` after ``cause``."""
        at = cause.timestamp + work
        return self._write(cause.stream_id, command, caused_by(cause), participant, at)

    def _write(
        self,
        order_id: str,
        command: orders.Command,
        metadata: Mapping[str, object],
        participant: str,
        at: datetime,
    ) -> Event:
        state = self.states.get(order_id, orders.INITIAL_STATE)
        [event] = orders.decide(state, command)
        metadata = {
            **metadata,
            "participant": participant,
            "command": type(command).__name__,
            "style": self.style,
        }
        new = NewEvent(event.event_type(), event.to_data(), metadata, timestamp=at)
        version = self.store.append(order_id, [new], expected_version=state.version)
        self.states[order_id] = orders.evolve(state, event)
        self.events_written += 1
        if event.event_type() in CANCEL_REASONS:
            self.first_failure.setdefault(order_id, event.event_type())
        return self.store.read_stream(order_id, to_version=version)[-1]


class Participant:
    """A service in the saga. ``SUBSCRIPTIONS`` (event type -> method) wires choreography."""

    name: ClassVar[str]
    SUBSCRIPTIONS: ClassVar[dict[str, str]]

    def __init__(self, streams: OrderStreams, failures: Failures) -> None:
        self.streams = streams
        self.failures = failures

    def _do(self, cause: Event, work: str, command: orders.Command) -> Event:
        duration = self.failures.work(cause.stream_id, work)
        return self.streams.carry_out(cause, self.name, command, duration)

    def _order(self, cause: Event) -> orders.Order:
        return self.streams.states[cause.stream_id]


class Shop(Participant):
    """Places orders and, once nothing is held any more, cancels them."""

    name = "shop"
    SUBSCRIPTIONS: ClassVar[dict[str, str]] = {
        "PaymentFailed": "cancel",
        "PaymentRefunded": "cancel",
    }

    def place(self, order: SagaOrder) -> Event:
        return self.streams.place(order, self.name)

    def cancel(self, cause: Event) -> Event:
        failure = self.streams.first_failure.get(cause.stream_id, "")
        reason = CANCEL_REASONS.get(failure, "customer request")
        return self._do(cause, "cancel", orders.CancelOrder(reason))


class Payments(Participant):
    """Charges an order's total and refunds what it keeps; its books are per order."""

    name = "payments"
    SUBSCRIPTIONS: ClassVar[dict[str, str]] = {
        "OrderPlaced": "charge",
        "InventoryReservationFailed": "refund",
        "InventoryReleased": "refund",
    }

    def __init__(self, streams: OrderStreams, failures: Failures) -> None:
        super().__init__(streams, failures)
        self.charged: defaultdict[str, Decimal] = defaultdict(Decimal)  # per order
        self.refunded: defaultdict[str, Decimal] = defaultdict(Decimal)

    def kept(self, order_id: str) -> Decimal:
        return self.charged[order_id] - self.refunded[order_id]

    def charge(self, cause: Event) -> Event:
        order_id, total = cause.stream_id, self._order(cause).total
        if self.failures.fails(order_id, "payment"):
            reason = self.failures.rng(order_id, "decline").choice(DECLINES)
            return self._do(cause, "payment", orders.DeclinePayment(reason))
        event = self._do(cause, "payment", orders.ChargePayment(total))
        self.charged[order_id] += total
        return event

    def refund(self, cause: Event) -> Event:
        amount = self.kept(cause.stream_id)
        event = self._do(cause, "refund", orders.RefundPayment(amount))
        self.refunded[cause.stream_id] += amount
        return event


class Inventory(Participant):
    """Holds stock per SKU; reserves an order's lines all together or not at all."""

    name = "inventory"
    SUBSCRIPTIONS: ClassVar[dict[str, str]] = {
        "PaymentCharged": "reserve",
        "ShipmentFailed": "release",
        "ShipmentCancelled": "release",
    }

    def __init__(self, streams: OrderStreams, failures: Failures, stock: Mapping[str, int]) -> None:
        super().__init__(streams, failures)
        self.initial = Counter(stock)
        self.stock = Counter(stock)
        self.reserved: Counter[str] = Counter()  # units ever reserved, per SKU
        self.released: Counter[str] = Counter()
        self.held: dict[str, orders.LineItems] = {}

    def reserve(self, cause: Event) -> Event:
        order_id, items = cause.stream_id, self._order(cause).items
        short = [line.sku for line in items if self.stock[line.sku] < line.quantity]
        if self.failures.fails(order_id, "inventory"):
            short = [self.failures.rng(order_id, "short").choice(items).sku]
        if short:
            return self._do(cause, "inventory", orders.ReportOutOfStock(short[0]))
        event = self._do(cause, "inventory", orders.ReserveInventory(WAREHOUSE))
        for line in items:
            self.stock[line.sku] -= line.quantity
            self.reserved[line.sku] += line.quantity
        self.held[order_id] = items
        return event

    def release(self, cause: Event) -> Event:
        event = self._do(cause, "release", orders.ReleaseInventory())
        for line in self.held.pop(cause.stream_id):
            self.stock[line.sku] += line.quantity
            self.released[line.sku] += line.quantity
        return event


class Shipping(Participant):
    """Books a carrier, hands the parcel over (or cancels the booking), delivers it."""

    name = "shipping"
    SUBSCRIPTIONS: ClassVar[dict[str, str]] = {
        "InventoryReserved": "create",
        "ShipmentCreated": "dispatch",
        "OrderShipped": "deliver",
    }

    def __init__(self, streams: OrderStreams, failures: Failures) -> None:
        super().__init__(streams, failures)
        self.carriers: dict[str, str] = {}
        self.cancelled: set[str] = set()

    def create(self, cause: Event) -> Event:
        order_id = cause.stream_id
        carrier = self.failures.rng(order_id, "carrier").choice(CARRIERS)
        if self.failures.fails(order_id, "shipping"):
            reason = self.failures.rng(order_id, "rejection").choice(CARRIER_REJECTIONS)
            return self._do(cause, "shipping", orders.RejectShipment(carrier, reason))
        event = self._do(cause, "shipping", orders.CreateShipment(carrier))
        self.carriers[order_id] = carrier
        return event

    def dispatch(self, cause: Event) -> Event:
        order_id = cause.stream_id
        if self.failures.fails(order_id, "dispatch"):
            event = self._do(cause, "cancel_shipment", orders.CancelShipment(MISSED_PICKUP))
            self.cancelled.add(order_id)
            return event
        prefix = TRACKING_PREFIX[CARRIERS.index(self.carriers[order_id])]
        digits = self.failures.rng(order_id, "tracking").randrange(10**9, 10**10)
        return self._do(cause, "dispatch", orders.ShipOrder(f"{prefix}{digits}"))

    def deliver(self, cause: Event) -> Event:
        return self._do(cause, "delivery", orders.DeliverOrder())


def build_participants(
    streams: OrderStreams, failures: Failures, stock: Mapping[str, int]
) -> dict[str, Participant]:
    """The four participants, by name, sharing one set of order streams."""
    found: list[Participant] = [
        Shop(streams, failures),
        Payments(streams, failures),
        Inventory(streams, failures, stock),
        Shipping(streams, failures),
    ]
    return {p.name: p for p in found}
