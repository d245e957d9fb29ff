"""The order fulfilment saga, two ways: an orchestrator, or a choreography of events.

The same participants (``eventsim.sagas.participants``) do the same work in both styles,
each in its own streams; only the wiring differs. The orchestrator walks the steps of
``SAGA``: it sends each step's command, waits for the reply until the step's deadline,
and on a failure or a missed deadline sends the compensations that ``next_moves``
returns, one after the other. Past the pivot (the parcel handed to the carrier) it only
goes forward: a missed deadline there means "ask again". In a choreography nobody
coordinates: each participant subscribes to the events it reacts to, and compensation
travels backwards as events. Messages go through a virtual-time queue, delivered in the
order (time, order id, sent), so both styles give every order the same events.

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
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import partial

from eventsim.catalog import EventStore
from eventsim.domains import orders
from eventsim.errors import DomainError, InvalidArgument
from eventsim.events import Event, check_stream_id, check_timestamp
from eventsim.sagas.participants import (
    STREAM_PREFIX,
    Books,
    Inventory,
    Message,
    Participant,
    Payments,
    Shop,
    build_participants,
    stream_of,
)
from eventsim.sagas.participants import Failures as Failures  # "as": re-exported, saga.Failures
from eventsim.sagas.participants import SagaOrder as SagaOrder
from eventsim.sim.orders import CATALOGUE

START = datetime(2024, 3, 1, 9, 0, tzinfo=UTC)
ORCHESTRATION, CHOREOGRAPHY = "orchestration", "choreography"
Action = tuple[str, str]  # (participant, operation)
Plan = Callable[[Sequence[str], str, str], list[Action]]


@dataclass(frozen=True)
class Step:
    """One forward step: who does it, the reply that means done, its undo and its deadline."""

    name: str
    action: Action
    done_when: str  # the reply event that means the step is done (any other: it failed)
    compensation: Action | None  # None: past the pivot, there is nothing to undo
    deadline: timedelta  # no reply by then: compensate (before the pivot) or ask again


SAGA = (
    Step("payment", ("payments", "charge"), "PaymentCharged", ("payments", "refund"),
         timedelta(minutes=5)),
    Step("inventory", ("inventory", "reserve"), "InventoryReserved", ("inventory", "release"),
         timedelta(minutes=10)),
    Step("shipping", ("shipping", "create"), "ShipmentCreated", ("shipping", "cancel_booking"),
         timedelta(minutes=20)),
    Step("dispatch", ("shipping", "dispatch"), "OrderShipped", None, timedelta(minutes=20)),
    Step("delivery", ("shipping", "deliver"), "OrderDelivered", None, timedelta(minutes=30)),
)  # fmt: skip
STEP = {step.name: step for step in SAGA}
PIVOT = "dispatch"
"""The point of no return: once the carrier has the parcel, the saga only goes forward."""
CANCEL: Action = ("shop", "cancel")
OUTCOMES = ("ok", "failed", "timeout")


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


def next_moves(done: Sequence[str], step: str, outcome: str) -> list[Action]:
    """The commands the orchestrator sends, in order, when ``step`` ends with ``outcome``.

    >>> next_moves(["payment"], "inventory", "failed")
    [('payments', 'refund'), ('shop', 'cancel')]
    """
    current = STEP[step]
    if outcome == "ok":
        later = [s for s in SAGA if s.name not in (*done, step)]
        return [later[0].action] if later else []
    if outcome == "timeout" and current.compensation is None:
        return [current.action]  # at the pivot or after it: ask again, never undo
    if outcome == "timeout":  # the work may be done, only the reply missing: undo it too
        to_undo = [*done, step]
    else:  # a participant that reports a failure has already put its own books straight
        to_undo = [s for s in done if STEP[s].action[0] != current.action[0]]
    undo = [STEP[s].compensation for s in reversed(to_undo)]
    return [action for action in undo if action is not None] + [CANCEL]


class VirtualQueue:
    """Messages in virtual time: delivered by (time, order id, when sent), counted by kind."""

    def __init__(self) -> None:
        self._heap: list[tuple[datetime, str, int, Callable[[], None]]] = []
        self.sent: Counter[str] = Counter()  # "command", "event" or "timer"

    def send(self, kind: str, at: datetime, order_id: str, deliver: Callable[[], None]) -> None:
        heapq.heappush(self._heap, (at, order_id, self.sent.total(), deliver))
        self.sent[kind] += 1

    def run(self) -> None:
        while self._heap:
            *_, deliver = heapq.heappop(self._heap)
            deliver()


@dataclass(frozen=True)
class Timeout:
    """A deadline the orchestrator saw pass with no reply, and what it did about it."""

    order_id: str
    step: str
    at: datetime
    then: str  # "compensate" or "retry"


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
    flow_rules: int  # steps with their deadline and compensation, or subscriptions
    timeouts: list[Timeout] = field(default_factory=list)
    lost_replies: int = 0

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


@dataclass
class SagaState:
    """One order's saga as the orchestrator sees it (a real one persists this)."""

    order: SagaOrder
    step: str = SAGA[0].name
    done: list[str] = field(default_factory=list)
    to_send: list[Action] = field(default_factory=list)  # compensations not yet sent
    compensating: bool = False
    awaiting: int = 0  # the command whose reply the saga waits for; 0: none
    sent: int = 0
    tries: Counter[str] = field(default_factory=Counter)
    last: Event | None = None  # the last reply received: the cause of the next command
    why: tuple[str, str] | None = None  # (reason, step) once a deadline passed unanswered


class Orchestrator:
    """The one place that knows the whole flow: the steps, their deadlines and undos."""

    def __init__(
        self,
        participants: Mapping[str, Participant],
        queue: VirtualQueue,
        failures: Failures,
        plan: Plan = next_moves,
    ) -> None:
        self.participants = participants
        self.queue = queue
        self.failures = failures
        self.plan = plan
        self.sagas: dict[str, SagaState] = {}
        self.timeouts: list[Timeout] = []
        self.lost_replies = 0

    def on_reply(self, event: Event, at: datetime) -> None:
        """A participant's result arrives at ``at``: move this order's saga on."""
        saga = self.sagas[event.metadata["correlation_id"]]
        saga.awaiting, saga.last = 0, event
        if event.event_type == "OrderPlaced":
            self._follow(saga, [SAGA[0].action], at)
        elif saga.compensating:
            self._send_next(saga, at)
        else:
            step = STEP[saga.step]
            if event.event_type not in (step.done_when, *_FAILURES.get(step.name, ())):
                raise SagaError(
                    f"the saga of {saga.order.order_id!r} waits for {step.name!r} and has no "
                    f"rule for {event.event_type}; add it to SAGA or the failures"
                )
            outcome = "ok" if event.event_type == step.done_when else "failed"
            self._decide(saga, outcome, at)

    def on_deadline(self, saga: SagaState, command: int, at: datetime) -> None:
        """The step's deadline passed: act only if its command is still unanswered."""
        if saga.awaiting != command:
            return
        saga.awaiting = 0
        moves = self._decide(saga, "timeout", at)
        then = "retry" if moves == [STEP[saga.step].action] else "compensate"
        self.timeouts.append(Timeout(saga.order.order_id, saga.step, at, then))

    def _decide(self, saga: SagaState, outcome: str, at: datetime) -> list[Action]:
        step = STEP[saga.step]
        moves = self.plan(tuple(saga.done), step.name, outcome)
        if outcome == "ok":
            saga.done.append(step.name)
        elif outcome == "timeout" and moves != [step.action]:  # compensating, not retrying
            minutes = int(step.deadline.total_seconds() // 60)
            saga.why = (f"no reply from {step.action[0]} within {minutes} min", step.name)
        self._follow(saga, moves, at)
        return moves

    def _follow(self, saga: SagaState, moves: list[Action], at: datetime) -> None:
        if len(moves) == 1 and moves[0] in FORWARD:  # the next step, or the same one again
            saga.step = FORWARD[moves[0]]
            self._send(saga, moves[0], at, deadline=STEP[saga.step].deadline)
        elif moves:
            saga.compensating, saga.to_send = True, list(moves)
            self._send_next(saga, at)

    def _send_next(self, saga: SagaState, at: datetime) -> None:
        if saga.to_send:
            self._send(saga, saga.to_send.pop(0), at, deadline=None)

    def _send(
        self, saga: SagaState, action: Action, at: datetime, *, deadline: timedelta | None
    ) -> None:
        saga.sent += 1
        if saga.why is not None:
            message = Message(saga.order, saga.last, at, *saga.why)
        else:
            assert saga.last is not None  # every command follows a reply (OrderPlaced first)
            message = replace(Message.about(saga.order, saga.last), at=at)
        order_id = saga.order.order_id
        self.queue.send("command", at, order_id, partial(self._command, saga, action, message))
        if deadline is not None:
            saga.awaiting = saga.sent
            timer = partial(self.on_deadline, saga, saga.sent, at + deadline)
            self.queue.send("timer", at + deadline, order_id, timer)

    def _command(self, saga: SagaState, action: Action, message: Message) -> None:
        participant, operation = action
        result: Event = getattr(self.participants[participant], operation)(message)
        step = FORWARD.get(action)
        if step is not None:
            saga.tries[step] += 1
            if self.failures.loses_reply(saga.order.order_id, step, saga.tries[step]):
                self.lost_replies += 1
                return
        arrives = max(result.timestamp, message.at)  # a retry's answer comes now, not then
        reply = partial(self.on_reply, result, arrives)
        self.queue.send("event", arrives, saga.order.order_id, reply)


FORWARD = {step.action: step.name for step in SAGA}
# The replies that mean a step failed (shipping cancels its own booking on a missed pickup).
_FAILURES = {
    "payment": ("PaymentFailed",),
    "inventory": ("InventoryReservationFailed",),
    "shipping": ("ShipmentFailed",),
    "dispatch": ("ShipmentCancelled",),
}

Handler = Callable[[Message], Event]


def subscriptions(participants: Mapping[str, Participant]) -> dict[str, list[Handler]]:
    """Event type -> the handlers that react to it, gathered from each participant's own list.

    >>> books = Books(EventStore(), "", Failures())
    >>> handlers = subscriptions(build_participants(books, {}))
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
    plan: Plan = next_moves,
) -> SagaRun:
    """Run every order's saga under an orchestrator; write every event to ``store``.

    ``plan`` decides the moves after each step (``next_moves`` unless you bring your own).
    """
    failures = Failures() if failures is None else failures
    participants, books, queue = _prepare(store, batch, failures, stock, ORCHESTRATION)
    orchestrator = Orchestrator(participants, queue, failures, plan)
    shop = participants["shop"]
    assert isinstance(shop, Shop)

    def place(order: SagaOrder) -> None:
        orchestrator.sagas[order.order_id] = SagaState(order)
        placed = shop.place(Message(order, None, order.placed_at))
        reply = partial(orchestrator.on_reply, placed, placed.timestamp)
        queue.send("event", placed.timestamp, order.order_id, reply)

    for order in batch:
        queue.send("command", order.placed_at, order.order_id, partial(place, order))
    queue.run()
    run = _result(ORCHESTRATION, batch, queue, books, participants, places=1, rules=len(SAGA))
    run.timeouts, run.lost_replies = orchestrator.timeouts, orchestrator.lost_replies
    return run


def run_choreographed(
    store: EventStore,
    batch: Sequence[SagaOrder],
    failures: Failures | None = None,
    *,
    stock: Mapping[str, int] | None = None,
) -> SagaRun:
    """Run every order's saga as a choreography; write every event to ``store``."""
    failures = Failures() if failures is None else failures
    if isinstance(failures, Failures) and failures.lost:
        raise InvalidArgument(
            f"a choreography has no one to watch a deadline, so a lost reply {failures.lost} "
            "would leave its saga open for ever: run lost replies with run_orchestrated"
        )
    participants, books, queue = _prepare(store, batch, failures, stock, CHOREOGRAPHY)
    handlers = subscriptions(participants)
    by_id = {order.order_id: order for order in batch}
    shop = participants["shop"]
    assert isinstance(shop, Shop)

    def publish(event: Event) -> None:
        order = by_id[event.metadata["correlation_id"]]
        for handler in handlers.get(event.event_type, []):
            message = Message.about(order, event)
            queue.send("event", event.timestamp, order.order_id, partial(deliver, handler, message))

    def deliver(handler: Handler, message: Message) -> None:
        publish(handler(message))

    def place(order: SagaOrder) -> None:
        publish(shop.place(Message(order, None, order.placed_at)))

    for order in batch:
        queue.send("command", order.placed_at, order.order_id, partial(place, order))
    queue.run()
    places = sum(1 for p in participants.values() if p.SUBSCRIPTIONS)
    rules = sum(len(h) for h in handlers.values())
    return _result(CHOREOGRAPHY, batch, queue, books, participants, places=places, rules=rules)


def _prepare(
    store: EventStore,
    batch: Sequence[SagaOrder],
    failures: Failures,
    stock: Mapping[str, int] | None,
    style: str,
) -> tuple[dict[str, Participant], Books, VirtualQueue]:
    """Check everything before the first write: a refused run changes nothing."""
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
    streams = [stream_of(p, i) for i in ids for p in STREAM_PREFIX]
    taken = [s for s in streams if store.version(s)]
    if taken:
        raise InvalidArgument(
            f"the store already has streams {taken[:3]}: run each batch in a fresh store "
            "(or give the orders other ids)"
        )
    stock = enough_stock(batch) if stock is None else dict(stock)
    bad = {sku: n for sku, n in stock.items() if isinstance(n, bool) or not isinstance(n, int)}
    if bad or any(n < 0 for n in stock.values()):
        raise InvalidArgument(f"stock must map each SKU to a whole number >= 0, got {stock!r}")
    books = Books(store, style, failures)
    return build_participants(books, stock), books, VirtualQueue()


def _result(
    style: str,
    batch: Sequence[SagaOrder],
    queue: VirtualQueue,
    books: Books,
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
        events_written=books.events_written,
        final_status={o.order_id: books.status.get(o.order_id, "open") for o in batch},
        participants=participants,
        places_knowing_flow=places,
        flow_rules=rules,
    )
