"""The audit trail: who did what and why, the causation graph, and replaying to a bug.

Every event may carry ``correlation_id`` (the business flow it belongs to),
``causation_id`` (the event that caused it) and, where the writer knows them, ``user``
and ``channel``. With these, the log answers "what happened in this checkout, and why
did each step happen?" as a query, and the causes form a tree that can be drawn.

>>> from eventsim import EventStore
>>> with EventStore() as store:
...     len(flow(store, "no-such-flow"))
0
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pandas as pd

from eventsim.catalog import EventStore
from eventsim.domains import bank, orders
from eventsim.errors import InvalidArgument
from eventsim.events import DomainEvent, Event, as_new_event, caused_by
from eventsim.replay import fold, state_at

# Each event with its cause: the cause's type and stream come from a self-join on the id.
FLOW_SQL = """
SELECT e.position, e.stream_id, e.version, e.event_type,
       CAST(e.event_id AS VARCHAR) AS event_id,
       e.metadata->>'causation_id' AS causation_id,
       c.event_type AS caused_by, c.stream_id AS cause_stream,
       e.metadata->>'user' AS user, e.metadata->>'channel' AS channel, e.timestamp
FROM event_store e
LEFT JOIN event_store c ON CAST(c.event_id AS VARCHAR) = e.metadata->>'causation_id'
WHERE e.metadata->>'correlation_id' = ? OR CAST(e.event_id AS VARCHAR) = ?
ORDER BY e.position
"""
ACTOR_SQL = """
SELECT e.position, e.metadata->>'user' AS user, e.metadata->>'channel' AS channel,
       e.stream_id, e.event_type, c.event_type AS caused_by,
       e.metadata->>'correlation_id' AS correlation_id, e.timestamp
FROM event_store e
LEFT JOIN event_store c ON CAST(c.event_id AS VARCHAR) = e.metadata->>'causation_id'
WHERE (CAST(? AS VARCHAR) IS NULL OR e.metadata->>'user' = ?)
  AND (CAST(? AS VARCHAR) IS NULL OR e.metadata->>'channel' = ?)
ORDER BY e.position
"""

# Every event caused by one event, directly or through other effects: a recursive walk
# along causation ids. UNION (not UNION ALL) stops on a cycle instead of looping.
EFFECTS_SQL = """
WITH RECURSIVE effects(event_id) AS (
    SELECT CAST(event_id AS VARCHAR) FROM event_store WHERE metadata->>'causation_id' = ?
    UNION
    SELECT CAST(e.event_id AS VARCHAR)
    FROM event_store e JOIN effects f ON e.metadata->>'causation_id' = f.event_id
)
SELECT e.position, e.stream_id, e.event_type, CAST(e.event_id AS VARCHAR) AS event_id
FROM event_store e JOIN effects f ON CAST(e.event_id AS VARCHAR) = f.event_id
ORDER BY e.position
"""


def flow(store: EventStore, correlation_id: str) -> pd.DataFrame:
    """Every event of one business flow, in commit order, each with what caused it."""
    return store.sql(FLOW_SQL, [correlation_id, correlation_id])


def by_actor(
    store: EventStore, *, user: str | None = None, channel: str | None = None
) -> pd.DataFrame:
    """Who did what, and why: events written by ``user`` and/or through ``channel``."""
    if user is None and channel is None:
        raise InvalidArgument("pass user=..., channel=... or both, e.g. user='customer-0007'")
    return store.sql(ACTOR_SQL, [user, user, channel, channel])


def effects(store: EventStore, event_id: str) -> pd.DataFrame:
    """Every event ``event_id`` caused, directly or through other effects, in commit order."""
    return store.sql(EFFECTS_SQL, [event_id])


def cause_chain(events: pd.DataFrame, event_id: str) -> pd.DataFrame:
    """Why did this event happen: the event, its cause, that cause's cause... to the root.

    ``events`` is a ``flow``; the result starts at ``event_id`` and ends at the root.
    """
    by_id = events.set_index("event_id")
    if event_id not in by_id.index:
        raise InvalidArgument(f"event {event_id!r} is not in this flow; pick an id from it")
    chain: list[str] = []
    current: object = event_id
    while isinstance(current, str) and current in by_id.index and current not in chain:
        chain.append(current)
        current = by_id.at[current, "causation_id"]
    return events.set_index("event_id").loc[chain].reset_index()


def tree_layout(events: pd.DataFrame) -> pd.DataFrame:
    """Where to draw each event of a flow: ``depth`` (x) and ``row`` (y) in a tidy tree.

    Pure: the leaves take rows 0, 1, 2... in depth-first order (children in commit
    order); a parent sits at the middle of its children. Roots are events whose cause is
    not in the flow.

    >>> events = pd.DataFrame({"event_id": ["a", "b", "c"], "causation_id": [None, "a", "a"],
    ...                        "stream_id": "s", "event_type": "T"})
    >>> layout = tree_layout(events)
    >>> layout["depth"].tolist(), layout["row"].tolist()
    ([0, 1, 1], [0.5, 0.0, 1.0])
    """
    ids = list(events["event_id"])
    parents = {
        e: (c if c in ids else None) for e, c in zip(ids, events["causation_id"], strict=True)
    }
    children: dict[str | None, list[str]] = {}
    for event_id in ids:
        children.setdefault(parents[event_id], []).append(event_id)
    depth: dict[str, int] = {}
    row: dict[str, float] = {}
    next_leaf = [0]

    def place(event_id: str, level: int) -> float:
        depth[event_id] = level
        kids = children.get(event_id, [])
        if kids:
            spots = [place(kid, level + 1) for kid in kids]
            row[event_id] = (spots[0] + spots[-1]) / 2
        else:
            row[event_id], next_leaf[0] = float(next_leaf[0]), next_leaf[0] + 1
        return row[event_id]

    for root in children.get(None, []):
        place(root, 0)
    layout = events[["event_id", "stream_id", "event_type"]].copy()
    layout["parent"] = [parents[e] for e in ids]
    layout["depth"] = [depth[e] for e in ids]
    layout["row"] = [row[e] for e in ids]
    return layout


# -- a checkout that crosses streams, for the lessons ------------------------------------
def _write(
    store: EventStore, stream_id: str, event: DomainEvent, metadata: dict[str, Any]
) -> Event:
    store.append(
        stream_id, [as_new_event(event, metadata)], expected_version=store.version(stream_id)
    )
    return store.read_stream(stream_id)[-1]


def record_failed_checkout(
    store: EventStore, *, order_id: str, account_id: str, customer_id: str
) -> Event:
    """A checkout whose shipment fails: payment from the bank account, then compensations.

    The customer places the order on the web; each later event names its cause, and the
    saga's compensations all answer the one ``ShipmentFailed``. Returns the first event.
    """
    total = Decimal("49.80")
    lines = (orders.LineItem("SKU-001", 2, Decimal("24.90")),)
    placed = _write(
        store,
        order_id,
        orders.OrderPlaced(customer_id, lines, total),
        {"user": customer_id, "channel": "web"},
    )
    paid = _write(
        store, order_id, orders.PaymentCharged(total, "card"), caused_by(placed, user="payments")
    )
    _write(store, account_id, bank.MoneyWithdrawn(total), caused_by(paid, user="bank"))
    held = _write(
        store, order_id, orders.InventoryReserved("AMS-1"), caused_by(paid, user="warehouse")
    )
    failed = _write(
        store,
        order_id,
        orders.ShipmentFailed("DHL", "address not serviceable"),
        caused_by(held, user="carrier-gateway"),
    )
    _write(store, order_id, orders.InventoryReleased("AMS-1"), caused_by(failed, user="saga"))
    refund = _write(store, order_id, orders.PaymentRefunded(total), caused_by(failed, user="saga"))
    _write(store, account_id, bank.MoneyDeposited(total), caused_by(refund, user="bank"))
    _write(
        store, order_id, orders.OrderCancelled("shipment failed"), caused_by(failed, user="saga")
    )
    return placed


# -- reproducing a bug -------------------------------------------------------------------
def no_overdraft(account: bank.Account) -> bool:
    """The bank's invariant: a balance never goes below zero."""
    return account.balance >= 0


@dataclass(frozen=True)
class Reproduction:
    """The first event that broke an invariant, with the state just before and after."""

    version: int
    before: Any
    offending: Event
    after: Any


def first_broken_version(
    store: EventStore, stream_id: str, invariant: Callable[[Any], bool]
) -> int | None:
    """The first version whose state breaks ``invariant``, or None if every state holds."""
    events = store.read_stream(stream_id)
    for version in range(1, len(events) + 1):
        if not invariant(fold(events[:version])):
            return version
    return None


def reproduce(store: EventStore, stream_id: str, invariant: Callable[[Any], bool]) -> Reproduction:
    """Replay to the version before the invariant broke; return that state and the culprit."""
    version = first_broken_version(store, stream_id, invariant)
    if version is None:
        raise InvalidArgument(
            f"every state of {stream_id!r} satisfies the invariant; nothing to reproduce"
        )
    offending = store.read_stream(stream_id, to_version=version)[-1]
    before = state_at(store, stream_id, to_version=version - 1) if version > 1 else None
    return Reproduction(version, before, offending, state_at(store, stream_id, to_version=version))
