"""The order fulfilment saga, two ways: an orchestrator, or a choreography of events.

The same participants (``eventsim.sagas.participants``) do the same work in both styles; only
the wiring differs. An orchestrator is one state machine per order: it receives each
result and sends the next command, or on a failure the compensations in reverse. In a
choreography nobody coordinates: each participant subscribes to the events it reacts
to, and compensation travels backwards as events. Messages go through a virtual-time
queue, delivered instantly, in the order (time, order id, sent), so both styles run
the participants' work in the same order and give every order the same events.

>>> from eventsim import EventStore
>>> batch = make_orders(3, seed=1)
>>> failures = Failures(force={"order-0002": "inventory"})
>>> with EventStore() as store:
...     run = run_orchestrated(store, batch, failures)
>>> run.final_status
{'order-0001': 'delivered', 'order-0002': 'cancelled', 'order-0003': 'delivered'}
"""

from __future__ import annotations

import heapq
import random
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import partial
from typing import ClassVar

from eventsim.catalog import EventStore
from eventsim.domains import orders
from eventsim.errors import DomainError, InvalidArgument
from eventsim.events import Event, check_stream_id, check_timestamp
from eventsim.sagas.participants import Failures as Failures  # "as": re-exported, saga.Failures
from eventsim.sagas.participants import (
    Inventory,
    OrderStreams,
    Participant,
    Payments,
    Shop,
    build_participants,
)
from eventsim.sagas.participants import SagaOrder as SagaOrder
from eventsim.sim.orders import CATALOGUE

START = datetime(2024, 3, 1, 9, 0, tzinfo=UTC)
ORCHESTRATION, CHOREOGRAPHY = "orchestration", "choreography"
Action = tuple[str, str]  # (participant, operation)


class SagaError(DomainError):
    """The saga met an event its flow has no step for."""


def make_orders(
    n: int, *, seed: int, start: datetime = START, mean_gap: timedelta = timedelta(minutes=3)
) -> list[SagaOrder]:
    """``n`` seeded orders (1 to 3 lines each), placed about ``mean_gap`` apart.

    >>> [o.order_id for o in make_orders(2, seed=1)]
    ['order-0001', 'order-0002']
    """
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= 9999:
        raise InvalidArgument(f"n must be a whole number of orders from 1 to 9999, got {n!r}")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise InvalidArgument(f"seed must be a whole number >= 0, got {seed!r}")
    rng, at, placed = random.Random(seed), check_timestamp(start, "start"), []
    for i in range(1, n + 1):
        picks = rng.sample(CATALOGUE[:6], rng.randint(1, 3))  # the six best sellers
        items = tuple(
            orders.LineItem(sku, rng.randint(1, 3), Decimal(cents) / 100)
            for sku, _, cents in sorted(picks)
        )
        customer = f"customer-{rng.randint(1, max(1, n // 2)):04d}"
        placed.append(SagaOrder(f"order-{i:04d}", customer, items, at))
        at += timedelta(seconds=round(rng.expovariate(1) * mean_gap.total_seconds()))
    return placed


def enough_stock(batch: Sequence[SagaOrder]) -> dict[str, int]:
    """Stock per SKU that covers every order, so only injected failures run out."""
    stock: Counter[str] = Counter()
    for order in batch:
        for line in order.items:
            stock[line.sku] += line.quantity
    return dict(sorted(stock.items()))


class VirtualQueue:
    """Messages in virtual time: delivered by (time, order id, when sent), counted by kind."""

    def __init__(self) -> None:
        self._heap: list[tuple[datetime, str, int, Callable[[], None]]] = []
        self.sent: Counter[str] = Counter()  # "command" or "event"

    def send(self, kind: str, at: datetime, order_id: str, deliver: Callable[[], None]) -> None:
        heapq.heappush(self._heap, (at, order_id, self.sent.total(), deliver))
        self.sent[kind] += 1

    def run(self) -> None:
        while self._heap:
            *_, deliver = heapq.heappop(self._heap)
            deliver()


@dataclass
class SagaRun:
    """What one run of the saga did: its messages, its events, its participants' books."""

    style: str
    order_ids: tuple[str, ...]
    commands: int  # messages telling a participant what to do (the customer's order too)
    deliveries: int  # events delivered to the orchestrator or to a subscriber
    events_written: int
    final_status: dict[str, str]
    participants: dict[str, Participant]
    places_knowing_flow: int  # components holding a rule of the flow
    flow_rules: int  # (state, event) transitions, or subscriptions

    @property
    def messages(self) -> int:
        return self.commands + self.deliveries

    @property
    def payments(self) -> Payments:
        payments = self.participants["payments"]
        assert isinstance(payments, Payments)
        return payments

    @property
    def inventory(self) -> Inventory:
        inventory = self.participants["inventory"]
        assert isinstance(inventory, Inventory)
        return inventory


class Orchestrator:
    """The one place that knows the whole flow: a state machine per order."""

    # (saga state, event received) -> (next state, command to send: participant, operation)
    TRANSITIONS: ClassVar[dict[tuple[str, str], tuple[str, Action | None]]] = {
        ("started", "OrderPlaced"): ("charging", ("payments", "charge")),
        ("charging", "PaymentCharged"): ("reserving", ("inventory", "reserve")),
        ("charging", "PaymentFailed"): ("cancelling", ("shop", "cancel")),
        ("reserving", "InventoryReserved"): ("booking", ("shipping", "create")),
        ("reserving", "InventoryReservationFailed"): ("refunding", ("payments", "refund")),
        ("booking", "ShipmentCreated"): ("dispatching", ("shipping", "dispatch")),
        ("booking", "ShipmentFailed"): ("releasing", ("inventory", "release")),
        ("dispatching", "OrderShipped"): ("delivering", ("shipping", "deliver")),
        ("dispatching", "ShipmentCancelled"): ("releasing", ("inventory", "release")),
        ("delivering", "OrderDelivered"): ("delivered", None),
        ("releasing", "InventoryReleased"): ("refunding", ("payments", "refund")),
        ("refunding", "PaymentRefunded"): ("cancelling", ("shop", "cancel")),
        ("cancelling", "OrderCancelled"): ("cancelled", None),
    }

    def __init__(self, participants: Mapping[str, Participant], queue: VirtualQueue) -> None:
        self.participants = participants
        self.queue = queue
        self.states: dict[str, str] = {}

    def on_event(self, event: Event) -> None:
        """A participant reports a result: move this order's saga on, send the next command."""
        state = self.states.get(event.stream_id, "started")
        if (state, event.event_type) not in self.TRANSITIONS:
            raise SagaError(
                f"the saga of {event.stream_id!r} is {state!r} and has no step for "
                f"{event.event_type}; add a transition to Orchestrator.TRANSITIONS"
            )
        self.states[event.stream_id], action = self.TRANSITIONS[state, event.event_type]
        if action is not None:
            command = partial(self._command, action, event)
            self.queue.send("command", event.timestamp, event.stream_id, command)

    def _command(self, action: Action, cause: Event) -> None:
        participant, operation = action
        result: Event = getattr(self.participants[participant], operation)(cause)
        self.queue.send("event", result.timestamp, result.stream_id, partial(self.on_event, result))


Handler = Callable[[Event], Event]


def subscriptions(participants: Mapping[str, Participant]) -> dict[str, list[Handler]]:
    """Event type -> the handlers that react to it, gathered from each participant's own list.

    >>> handlers = subscriptions(build_participants(OrderStreams(EventStore(), ""), Failures(), {}))
    >>> [h.__qualname__ for h in handlers["OrderPlaced"]]
    ['Payments.charge']
    """
    handlers: dict[str, list[Handler]] = {}
    for participant in participants.values():
        for event_type, operation in participant.SUBSCRIPTIONS.items():
            handlers.setdefault(event_type, []).append(getattr(participant, operation))
    return handlers


def run_orchestrated(
    store: EventStore,
    batch: Sequence[SagaOrder],
    failures: Failures | None = None,
    *,
    stock: Mapping[str, int] | None = None,
) -> SagaRun:
    """Run every order's saga under an orchestrator; write every event to ``store``."""
    participants, streams, queue = _prepare(store, batch, failures, stock, ORCHESTRATION)
    orchestrator = Orchestrator(participants, queue)
    shop = participants["shop"]
    assert isinstance(shop, Shop)

    def place(order: SagaOrder) -> None:
        placed = shop.place(order)
        queue.send(
            "event", placed.timestamp, order.order_id, partial(orchestrator.on_event, placed)
        )

    for order in batch:
        queue.send("command", order.placed_at, order.order_id, partial(place, order))
    queue.run()
    rules = len(Orchestrator.TRANSITIONS)
    return _result(ORCHESTRATION, batch, queue, streams, participants, places=1, rules=rules)


def run_choreographed(
    store: EventStore,
    batch: Sequence[SagaOrder],
    failures: Failures | None = None,
    *,
    stock: Mapping[str, int] | None = None,
) -> SagaRun:
    """Run every order's saga as a choreography; write every event to ``store``."""
    participants, streams, queue = _prepare(store, batch, failures, stock, CHOREOGRAPHY)
    handlers = subscriptions(participants)
    shop = participants["shop"]
    assert isinstance(shop, Shop)

    def publish(event: Event) -> None:
        for handler in handlers.get(event.event_type, []):
            queue.send("event", event.timestamp, event.stream_id, partial(deliver, handler, event))

    def deliver(handler: Handler, event: Event) -> None:
        publish(handler(event))

    def place(order: SagaOrder) -> None:
        publish(shop.place(order))

    for order in batch:
        queue.send("command", order.placed_at, order.order_id, partial(place, order))
    queue.run()
    places = sum(1 for p in participants.values() if p.SUBSCRIPTIONS)
    rules = sum(len(h) for h in handlers.values())
    return _result(CHOREOGRAPHY, batch, queue, streams, participants, places=places, rules=rules)


def _prepare(
    store: EventStore,
    batch: Sequence[SagaOrder],
    failures: Failures | None,
    stock: Mapping[str, int] | None,
    style: str,
) -> tuple[dict[str, Participant], OrderStreams, VirtualQueue]:
    """Check everything before the first write: a refused run changes nothing."""
    failures = Failures() if failures is None else failures
    if not isinstance(failures, Failures):
        raise InvalidArgument(f"failures must be a Failures(...), got {failures!r}")
    if not batch or not all(isinstance(order, SagaOrder) for order in batch):
        raise InvalidArgument(f"batch must be a non-empty list of SagaOrder, got {batch!r}")
    ids = [check_stream_id(order.order_id) for order in batch]
    for order in batch:  # the domain's own rules for placing, checked before any write
        orders.check(orders.INITIAL_STATE, orders.PlaceOrder(order.customer_id, order.items))
        check_timestamp(order.placed_at, f"{order.order_id} placed_at")
    if len(set(ids)) < len(ids):
        twice = sorted(i for i, n in Counter(ids).items() if n > 1)
        raise InvalidArgument(f"order ids must be distinct; listed twice: {twice}")
    taken = [i for i in ids if store.version(i)]
    if taken:
        raise InvalidArgument(
            f"the store already has streams {taken[:3]}: run each batch in a fresh store "
            "(or give the orders other ids)"
        )
    stock = enough_stock(batch) if stock is None else dict(stock)
    bad = {sku: n for sku, n in stock.items() if isinstance(n, bool) or not isinstance(n, int)}
    if bad or any(n < 0 for n in stock.values()):
        raise InvalidArgument(f"stock must map each SKU to a whole number >= 0, got {stock!r}")
    streams = OrderStreams(store, style)
    return build_participants(streams, failures, stock), streams, VirtualQueue()


def _result(
    style: str,
    batch: Sequence[SagaOrder],
    queue: VirtualQueue,
    streams: OrderStreams,
    participants: dict[str, Participant],
    *,
    places: int,
    rules: int,
) -> SagaRun:
    return SagaRun(
        style=style,
        order_ids=tuple(order.order_id for order in batch),
        commands=queue.sent["command"],
        deliveries=queue.sent["event"],
        events_written=streams.events_written,
        final_status={i: streams.states[i].status for i in (o.order_id for o in batch)},
        participants=participants,
        places_knowing_flow=places,
        flow_rules=rules,
    )
