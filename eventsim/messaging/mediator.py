"""One workflow, two topologies: consumers reacting on a broker, or a mediator calling steps.

The workflow is the orders flow: payment, then inventory, then shipping. In the broker
topology (choreography) each service subscribes to the topic of the step before it and
publishes its own event; nobody knows the whole flow. In the mediator topology
(orchestration) one component receives ``OrderPlaced`` and calls the steps in order; it
knows the flow and every service, and the services know nobody.

>>> from eventsim.messaging.bus import Broker
>>> broker = Broker()
>>> flow = Choreography(broker, Services(stock={"SKU-001": 9}))
>>> flow.place(order_placed("order-1", {"SKU-001": 2}))
>>> _ = broker.run()
>>> flow.services.calls
{'payment': 1, 'inventory': 1, 'shipping': 1}
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence

import pandas as pd

from eventsim.domains import orders
from eventsim.errors import EventSimError
from eventsim.events import Event
from eventsim.messaging.bus import Broker, Stats, domain_message
from eventsim.messaging.payloads import UNIT_PRICE, line_items

STEPS = ("payment", "inventory", "shipping")
FAILED = {cls.event_type() for cls in (orders.PaymentFailed, orders.InventoryReservationFailed)}
FAILED |= {orders.ShipmentFailed.event_type()}
Step = Callable[[Event], Event]


class ServiceDown(EventSimError):
    """A service is unavailable: the call failed, nothing was done."""


def order_placed(order_id: str, lines: Mapping[str, int], *, customer_id: str = "c-1") -> Event:
    """The orders domain's ``OrderPlaced`` as a message (lines: SKU -> quantity, at UNIT_PRICE).

    >>> order_placed("order-7", {"SKU-002": 3}).data["total"]
    30
    """
    command = orders.PlaceOrder(customer_id, line_items(lines, UNIT_PRICE))
    [placed] = orders.decide(orders.INITIAL_STATE, command)
    return domain_message(placed, stream_id=order_id)


class Services:
    """Payment, inventory and shipping: each turns the event before it into its own event.

    Each step is a command to the orders domain (``decide``), and its event is the domain's.
    The three services share one record of each order here (``orders``), folded with the
    domain's ``evolve``: a simplification; real services each keep their own records.
    ``declined``: customers whose card fails; ``down``: services that raise ``ServiceDown``.
    """

    def __init__(
        self,
        *,
        stock: Mapping[str, int],
        declined: Collection[str] = (),
        down: Collection[str] = (),
    ) -> None:
        self.stock = dict(stock)
        self.declined = set(declined)
        self.down = set(down)
        self.calls = dict.fromkeys(STEPS, 0)
        self.orders: dict[str, orders.Order] = {}

    def step(self, name: str) -> Step:
        """The service called ``name`` as a function: event in, event out."""
        return {"payment": self.payment, "inventory": self.inventory, "shipping": self.shipping}[
            name
        ]

    def _enter(self, name: str) -> None:
        if name in self.down:
            raise ServiceDown(f"the {name} service is down; retry later")
        self.calls[name] += 1

    def payment(self, cause: Event) -> Event:
        self._enter("payment")
        placed = orders.OrderPlaced.from_data(cause.data)
        order = self.orders.setdefault(cause.stream_id, orders.evolve(orders.INITIAL_STATE, placed))
        if order.customer_id in self.declined:
            return self._decide(cause, orders.DeclinePayment("card declined"))
        return self._decide(cause, orders.ChargePayment(order.total, "card"))

    def inventory(self, cause: Event) -> Event:
        self._enter("inventory")
        for line in self.orders[cause.stream_id].items:
            if self.stock.get(line.sku, 0) < line.quantity:
                return self._decide(cause, orders.ReportOutOfStock(line.sku))
        for line in self.orders[cause.stream_id].items:
            self.stock[line.sku] -= line.quantity
        return self._decide(cause, orders.ReserveInventory("AMS-1"))

    def shipping(self, cause: Event) -> Event:
        self._enter("shipping")
        return self._decide(cause, orders.CreateShipment("PostNL"))

    def _decide(self, cause: Event, command: orders.Command) -> Event:
        """Run ``command`` through the domain's rules; the resulting event, as a message."""
        order = self.orders[cause.stream_id]
        [fact] = orders.decide(order, command)
        self.orders[cause.stream_id] = orders.evolve(order, fact)
        metadata = {"causation_id": str(cause.event_id)}
        return domain_message(
            fact, stream_id=cause.stream_id, version=order.version + 1, metadata=metadata
        )


# -- broker topology -------------------------------------------------------------------
# Each service: the topic it listens to, the event it reacts to, the topic it writes to.
WIRING = {
    "payment": ("orders", orders.OrderPlaced.event_type(), "payments"),
    "inventory": ("payments", orders.PaymentCharged.event_type(), "inventory"),
    "shipping": ("inventory", orders.InventoryReserved.event_type(), "shipping"),
}


class Choreography:
    """The broker topology: the shop front publishes to ``orders``; services react."""

    def __init__(self, broker: Broker, services: Services) -> None:
        self.broker = broker
        self.services = services
        self.producer_topics = ("orders",)  # all the shop front knows
        for name, (topic, reacts_to, _) in WIRING.items():
            broker.subscribe(topic, name, self._reactor(name, reacts_to))

    def _reactor(self, name: str, reacts_to: str) -> Callable[[Event], None]:
        def react(event: Event) -> None:
            if event.event_type == reacts_to:
                result = self.services.step(name)(event)
                self.broker.publish(WIRING[name][2], result)

        return react

    def place(self, order: Event) -> None:
        """The shop front: publish the order and return; it waits for nobody."""
        self.broker.publish("orders", order)


# -- mediator topology -----------------------------------------------------------------
class Mediator:
    """The mediator topology: receives ``OrderPlaced`` and calls each step in order.

    It remembers how far each order got, so a redelivered ``OrderPlaced`` resumes at
    the step that failed instead of charging the customer again.
    """

    def __init__(self, steps: Sequence[tuple[str, Step]]) -> None:
        self.steps = list(steps)
        self.calls = 0  # request-reply calls made to services
        self.outcomes: dict[str, str] = {}  # order -> how far it got
        self._progress: dict[str, tuple[int, Event]] = {}  # order -> (next step, its input)

    def handle(self, placed: Event) -> None:
        """A broker subscriber: run the flow for one order, stop at the first failure."""
        order = placed.stream_id
        if self.outcomes.get(order, "").startswith(("completed", "failed")):
            return  # a duplicate of a finished flow
        start, event = self._progress.get(order, (0, placed))
        for index in range(start, len(self.steps)):
            name, step = self.steps[index]
            self._progress[order] = (index, event)
            self.calls += 1
            try:
                event = step(event)
            except ServiceDown:
                self.outcomes[order] = f"stuck before {name}"
                raise  # not acknowledged: the broker redelivers, and the flow resumes here
            if event.event_type in FAILED:
                self.outcomes[order] = f"failed: {event.event_type}"
                return
        self.outcomes[order] = "completed"


def mediated(broker: Broker, services: Services) -> Mediator:
    """A mediator for the orders flow, listening to ``orders`` on ``broker``."""
    mediator = Mediator([(name, services.step(name)) for name in STEPS])
    broker.subscribe("orders", "mediator", mediator.handle)
    return mediator


def coupling(broker: Broker, mediator: Mediator | None = None) -> pd.DataFrame:
    """Who knows whom: each component, the topics it uses and the components it calls."""
    listens = {group: topic for topic, groups in broker.topics().items() for group in groups}
    rows = [("shop front", "", "orders", "")]
    for group, topic in sorted(listens.items(), key=lambda item: _rank(item[0])):
        publishes = WIRING[group][2] if group in WIRING and mediator is None else ""
        calls = (
            ", ".join(name for name, _ in mediator.steps)
            if group == "mediator" and mediator
            else ""
        )
        rows.append((group, topic, publishes, calls))
    if mediator is not None:
        rows += [(name, "", "", "") for name, _ in mediator.steps]
    table = pd.DataFrame(rows, columns=["component", "listens to", "publishes to", "calls"])
    table["components it knows"] = table["calls"].str.count(",") + (table["calls"] != "")
    return table


def _rank(group: str) -> tuple[int, str]:
    order = ("mediator", *STEPS)
    return (order.index(group) if group in order else len(order), group)


def traffic(runs: Mapping[str, tuple[Stats, int]]) -> pd.DataFrame:
    """Messages and hops per topology, from each run's broker counters and mediator calls.

    A hop is one transfer: producer to broker, broker to consumer, or a request or a
    reply between the mediator and a service.
    """
    table = pd.DataFrame(
        {
            name: {
                "events published": stats.published,
                "deliveries": stats.delivered,
                "request-reply calls": calls,
            }
            for name, (stats, calls) in runs.items()
        }
    )
    table.loc["hops"] = (
        table.loc["events published"]
        + table.loc["deliveries"]
        + 2 * table.loc["request-reply calls"]
    )
    return table


# -- temporal decoupling ---------------------------------------------------------------
def producer_latency(costs: Sequence[int]) -> pd.DataFrame:
    """For 1..len(costs) consumers: ticks the producer waits, calling them or publishing.

    Calling each consumer and waiting costs the sum of their times; publishing returns
    at once, and the consumers are done later. This broker runs one handler at a time on
    one clock (``done here``: the sum again); real consumer groups run in their own
    processes, side by side, so the last is done after the slowest (``done in parallel``).

    >>> producer_latency([3, 5]).to_dict("list")["done in parallel"]
    [3, 5]
    """
    rows = []
    for n in range(1, len(costs) + 1):
        broker = Broker()
        for i, cost in enumerate(costs[:n]):
            broker.subscribe("orders", f"consumer-{i + 1}", lambda event: None, cost=cost)
        before = broker.now
        broker.publish("orders", order_placed("order-1", {"SKU-001": 1}))
        published_in = broker.now - before
        broker.run()
        rows.append(
            {
                "consumers": n,
                "waiting": sum(costs[:n]),
                "publishing": published_in,
                "done here": broker.now,
                "done in parallel": max(costs[:n]),
            }
        )
    return pd.DataFrame(rows)
