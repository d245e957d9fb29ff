"""The order saga's participants: small services, each keeping its own books in its own streams.

The shop writes ``order-NNNN``, payments ``payment-NNNN``, inventory ``reservation-NNNN``
and shipping ``shipment-NNNN``. No participant reads another's stream: what it needs of
the order (the lines, the total) travels with the message that asks it to act, and each
enforces only its own rules (charge once, refund what it kept, release what it holds).
All the books live in one DuckDB store here, for the lesson; in a real system each
service has its own database. Whether a step fails, how long its work takes, and
whether its reply is lost on the way back are drawn from ``Failures`` per (order, step):
the same for both styles, whatever order they run in.

>>> failures = Failures(payment=0.5, seed=3, force={"order-0001": "dispatch"})
>>> failures.fails("order-0001", "dispatch"), failures.fails("order-0001", "payment")
(True, False)
>>> stream_of("payments", "order-0042")
'payment-0042'
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
from eventsim.errors import DomainError, InvalidArgument
from eventsim.events import DomainEvent, Event, NewEvent, caused_by
from eventsim.sim.orders import CARRIER_REJECTIONS, CARRIERS, DECLINES, TRACKING_PREFIX

STEPS = ("payment", "inventory", "shipping", "dispatch")
"""The steps that can fail, in saga order (dispatch: the carrier collects the parcel)."""
REPLY_STEPS = (*STEPS, "delivery")
"""The steps whose reply can be lost on its way back to the orchestrator."""
STREAM_PREFIX = {
    "shop": "order",
    "payments": "payment",
    "inventory": "reservation",
    "shipping": "shipment",
}

# The virtual minutes each kind of work takes: drawn uniformly from (low, high).
WORK_MINUTES: dict[str, tuple[float, float]] = {
    "place": (0, 0),
    "payment": (1, 3),
    "inventory": (2, 6),
    "shipping": (5, 15),
    "dispatch": (5, 15),
    "delivery": (10, 20),
    "cancel_booking": (2, 5),
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
# The forward operations whose failure ends the forward chain, and the step each one is.
STEP_OF = {
    "charge": "payment",
    "reserve": "inventory",
    "create": "shipping",
    "dispatch": "dispatch",
}
WAREHOUSE = "AMS-1"


class StepRefused(DomainError):
    """A participant refused a command its own books do not allow (refund more than kept...)."""


def stream_of(participant: str, order_id: str) -> str:
    """The stream in which ``participant`` keeps its books about ``order_id``."""
    return f"{STREAM_PREFIX[participant]}-{order_id.removeprefix('order-')}"


@dataclass(frozen=True)
class Failures:
    """Seeded failure injection: each step of each order fails with its step's rate.

    ``force`` maps an order id to the one step that must fail for it, rates aside.
    ``lost`` maps an order id to the one step whose first reply never reaches the
    orchestrator (the work is done, the answer is lost); every step of that order
    succeeds. ``seed`` also draws how long each step's work takes.
    """

    payment: float = 0.0
    inventory: float = 0.0
    shipping: float = 0.0
    dispatch: float = 0.0
    seed: int = 0
    force: Mapping[str, str] = field(default_factory=dict)
    lost: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for step in STEPS:
            rate = getattr(self, step)
            if isinstance(rate, bool) or not isinstance(rate, int | float) or not 0 <= rate <= 1:
                raise InvalidArgument(f"{step} must be a failure rate from 0 to 1, got {rate!r}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise InvalidArgument(f"seed must be a whole number >= 0, got {self.seed!r}")
        for name, allowed in (("force", STEPS), ("lost", REPLY_STEPS)):
            for order_id, step in dict(getattr(self, name)).items():
                if step not in allowed:
                    raise InvalidArgument(
                        f"{name}: {order_id!r} cannot name step {step!r}: choose one of {allowed}"
                    )
            object.__setattr__(self, name, dict(getattr(self, name)))
        both = sorted(set(self.force) & set(self.lost))
        if both:
            raise InvalidArgument(f"an order is either in force or in lost, not both: {both}")

    def rng(self, order_id: str, what: str) -> random.Random:
        """A generator for one (order, step): independent of the order the steps run in."""
        return random.Random(f"{self.seed}/{order_id}/{what}")

    def fails(self, order_id: str, step: str) -> bool:
        if order_id in self.force:
            return self.force[order_id] == step
        if order_id in self.lost:
            return False
        rate: float = getattr(self, step)
        return self.rng(order_id, f"fails/{step}").random() < rate

    def loses_reply(self, order_id: str, step: str, attempt: int) -> bool:
        """Whether the reply to this attempt at ``step`` is lost (only ever the first one)."""
        return attempt == 1 and self.lost.get(order_id) == step

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

    @property
    def total(self) -> Decimal:
        return orders.line_total(self.items)


@dataclass(frozen=True)
class Message:
    """What a participant receives: the order, the event that caused the request, and when.

    ``reason`` and ``failed_step`` say why, when the request is a compensation: which
    step failed or missed its deadline.
    """

    order: SagaOrder
    cause: Event | None
    at: datetime
    reason: str | None = None
    failed_step: str | None = None

    @classmethod
    def about(cls, order: SagaOrder, event: Event) -> Message:
        """A message caused by ``event``, carrying on its reason (choreography's way)."""
        meta = event.metadata
        return cls(order, event, event.timestamp, meta.get("reason"), meta.get("failed_step"))


class Books:
    """The participants' streams in one store; each append checks its own stream's version."""

    def __init__(self, store: EventStore, style: str, failures: Failures) -> None:
        self.store = store
        self.style = style
        self.failures = failures
        self.versions: Counter[str] = Counter()
        self.events_written = 0
        self.status: dict[str, str] = {}  # order id -> delivered | cancelled, once ended

    def write(
        self, participant: str, operation: str, message: Message, event: DomainEvent, work: str
    ) -> Event:
        """Append ``event`` to the participant's stream for the order, ``work`` after ``at``."""
        order_id = message.order.order_id
        cause = message.cause
        metadata = caused_by(cause) if cause else {"correlation_id": order_id}
        reason, failed_step = message.reason, message.failed_step
        if event.event_type() in CANCEL_REASONS and operation in STEP_OF:  # a step failed
            reason, failed_step = CANCEL_REASONS[event.event_type()], STEP_OF[operation]
        metadata |= {"participant": participant, "command": operation, "style": self.style}
        if reason:  # a failure or a compensation: the reason travels down the chain
            metadata |= {"reason": reason, "failed_step": failed_step}
        stream = stream_of(participant, order_id)
        at = message.at + self.failures.work(order_id, work)
        new = NewEvent(event.event_type(), event.to_data(), metadata, timestamp=at)
        version = self.store.append(stream, [new], expected_version=self.versions[stream])
        self.versions[stream] = version
        self.events_written += 1
        ended = {"OrderDelivered": "delivered", "OrderCancelled": "cancelled"}
        if event.event_type() in ended:
            self.status[order_id] = ended[event.event_type()]
        return self.store.read_stream(stream, to_version=version)[-1]


class Participant:
    """A service in the saga. ``SUBSCRIPTIONS`` (event type -> method) wires choreography."""

    name: ClassVar[str]
    SUBSCRIPTIONS: ClassVar[dict[str, str]]

    def __init__(self, books: Books) -> None:
        self.books = books
        self.failures = books.failures

    def _write(self, operation: str, message: Message, event: DomainEvent, work: str) -> Event:
        return self.books.write(self.name, operation, message, event, work)


class Shop(Participant):
    """Places orders and cancels them when the saga gives up."""

    name = "shop"
    SUBSCRIPTIONS: ClassVar[dict[str, str]] = {
        "PaymentFailed": "cancel",
        "PaymentRefunded": "cancel",
    }

    def place(self, message: Message) -> Event:
        order = message.order
        placed = orders.OrderPlaced(order.customer_id, order.items, order.total)
        return self._write("place", message, placed, "place")

    def cancel(self, message: Message) -> Event:
        order_id = message.order.order_id
        if order_id in self.books.status:
            raise StepRefused(f"cannot cancel {order_id!r}: it is {self.books.status[order_id]}")
        reason = message.reason or "customer request"
        return self._write("cancel", message, orders.OrderCancelled(reason), "cancel")


class Payments(Participant):
    """Charges an order's total once, and refunds exactly what it kept for that order."""

    name = "payments"
    SUBSCRIPTIONS: ClassVar[dict[str, str]] = {
        "OrderPlaced": "charge",
        "InventoryReservationFailed": "refund",
        "InventoryReleased": "refund",
    }

    def __init__(self, books: Books) -> None:
        super().__init__(books)
        self.charged: defaultdict[str, Decimal] = defaultdict(Decimal)  # per order
        self.refunded: defaultdict[str, Decimal] = defaultdict(Decimal)

    def kept(self, order_id: str) -> Decimal:
        return self.charged[order_id] - self.refunded[order_id]

    def charge(self, message: Message) -> Event:
        order_id, total = message.order.order_id, message.order.total
        if self.charged[order_id]:
            raise StepRefused(f"{order_id!r} is already charged: a second charge is refused")
        if self.failures.fails(order_id, "payment"):
            reason = self.failures.rng(order_id, "decline").choice(DECLINES)
            return self._write("charge", message, orders.PaymentFailed(reason), "payment")
        event = self._write("charge", message, orders.PaymentCharged(total, "card"), "payment")
        self.charged[order_id] += total
        return event

    def refund(self, message: Message) -> Event:
        order_id = message.order.order_id
        amount = self.kept(order_id)
        if not amount:
            raise StepRefused(f"cannot refund {order_id!r}: payments keeps nothing for it")
        event = self._write("refund", message, orders.PaymentRefunded(amount), "refund")
        self.refunded[order_id] += amount
        return event


class Inventory(Participant):
    """Holds stock per SKU; reserves an order's lines all together or not at all."""

    name = "inventory"
    SUBSCRIPTIONS: ClassVar[dict[str, str]] = {
        "PaymentCharged": "reserve",
        "ShipmentFailed": "release",
        "ShipmentCancelled": "release",
    }

    def __init__(self, books: Books, stock: Mapping[str, int]) -> None:
        super().__init__(books)
        self.initial = Counter(stock)
        self.stock = Counter(stock)
        self.reserved: Counter[str] = Counter()  # units ever reserved, per SKU
        self.released: Counter[str] = Counter()
        self.held: dict[str, orders.LineItems] = {}

    def reserve(self, message: Message) -> Event:
        order_id, items = message.order.order_id, message.order.items
        short = [line.sku for line in items if self.stock[line.sku] < line.quantity]
        if self.failures.fails(order_id, "inventory"):
            short = [self.failures.rng(order_id, "short").choice(items).sku]
        if short:
            failed = orders.InventoryReservationFailed(short[0])
            return self._write("reserve", message, failed, "inventory")
        event = self._write("reserve", message, orders.InventoryReserved(WAREHOUSE), "inventory")
        for line in items:
            self.stock[line.sku] -= line.quantity
            self.reserved[line.sku] += line.quantity
        self.held[order_id] = items
        return event

    def release(self, message: Message) -> Event:
        order_id = message.order.order_id
        if order_id not in self.held:
            raise StepRefused(f"cannot release stock for {order_id!r}: none is held for it")
        event = self._write("release", message, orders.InventoryReleased(WAREHOUSE), "release")
        for line in self.held.pop(order_id):
            self.stock[line.sku] += line.quantity
            self.released[line.sku] += line.quantity
        return event


class Shipping(Participant):
    """Books a carrier (or cancels the booking), hands the parcel over, delivers it.

    Handing over and delivering are retried after a missed deadline, so they are
    idempotent: asked again, shipping answers with the event it already wrote.
    """

    name = "shipping"
    SUBSCRIPTIONS: ClassVar[dict[str, str]] = {
        "InventoryReserved": "create",
        "ShipmentCreated": "dispatch",
        "OrderShipped": "deliver",
    }

    def __init__(self, books: Books) -> None:
        super().__init__(books)
        self.carriers: dict[str, str] = {}  # order id -> carrier of a live booking
        self.done: dict[tuple[str, str], Event] = {}  # (order id, operation) -> its event

    def create(self, message: Message) -> Event:
        order_id = message.order.order_id
        carrier = self.failures.rng(order_id, "carrier").choice(CARRIERS)
        if self.failures.fails(order_id, "shipping"):
            reason = self.failures.rng(order_id, "rejection").choice(CARRIER_REJECTIONS)
            failed = orders.ShipmentFailed(carrier, reason)
            return self._write("create", message, failed, "shipping")
        event = self._write("create", message, orders.ShipmentCreated(carrier), "shipping")
        self.carriers[order_id] = carrier
        return event

    def cancel_booking(self, message: Message) -> Event:
        order_id = message.order.order_id
        if order_id not in self.carriers:
            raise StepRefused(f"cannot cancel the booking of {order_id!r}: there is none")
        del self.carriers[order_id]
        cancelled = orders.ShipmentCancelled(message.reason or "customer request")
        return self._write("cancel_booking", message, cancelled, "cancel_booking")

    def dispatch(self, message: Message) -> Event:
        order_id = message.order.order_id
        if (order_id, "dispatch") in self.done:  # a retry: answer again, change nothing
            return self.done[order_id, "dispatch"]
        if self.failures.fails(order_id, "dispatch"):  # shipping undoes its own booking
            del self.carriers[order_id]
            cancelled = orders.ShipmentCancelled(MISSED_PICKUP)
            return self._write("dispatch", message, cancelled, "cancel_booking")
        prefix = TRACKING_PREFIX[CARRIERS.index(self.carriers[order_id])]
        digits = self.failures.rng(order_id, "tracking").randrange(10**9, 10**10)
        event = self._write(
            "dispatch", message, orders.OrderShipped(f"{prefix}{digits}"), "dispatch"
        )
        self.done[order_id, "dispatch"] = event
        return event

    def deliver(self, message: Message) -> Event:
        order_id = message.order.order_id
        if (order_id, "deliver") not in self.done:
            event = self._write("deliver", message, orders.OrderDelivered(), "delivery")
            self.done[order_id, "deliver"] = event
        return self.done[order_id, "deliver"]


def build_participants(books: Books, stock: Mapping[str, int]) -> dict[str, Participant]:
    """The four participants, by name, each writing its own streams in ``books``."""
    found: list[Participant] = [
        Shop(books),
        Payments(books),
        Inventory(books, stock),
        Shipping(books),
    ]
    return {p.name: p for p in found}
