"""An in-process message broker in virtual time: topics, partitions, consumer groups, faults.

Messages are the store's ``Event`` records; a subscriber is a plain callable
``handler(event) -> None``. Delivery is at-least-once: a message is acknowledged only
after its handler returns. A handler that raises gets the message again after a backoff
(in virtual ticks) until ``max_attempts``; then the message goes to the dead-letter
queue with the reason, and ``replay_dead_letters`` sends it again once the bug is fixed.

Faults are injected on purpose, from one seed (``Faults``): duplicate deliveries,
reordering within a partition (a window), delays, and a crash between handling and
acknowledging (the handler ran, the ack is lost, the message comes again).

>>> from eventsim.messaging.bus import Broker, Faults, message
>>> broker = Broker(faults=Faults(duplicate_rate=0.5, seed=7))
>>> seen = []
>>> broker.subscribe("orders", "audit", lambda event: seen.append(event.stream_id))
>>> for n in range(4):
...     _ = broker.publish("orders", message("Ping", {"n": n}, stream_id=f"order-{n}"))
>>> stats = broker.run()
>>> stats.published, stats.duplicates, len(seen)
(4, 1, 5)
"""

from __future__ import annotations

import heapq
import uuid
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from eventsim.errors import EventSimError, InvalidArgument
from eventsim.events import DomainEvent, Event

# The fault settings and counters live in their own module; "as" marks a re-export.
from eventsim.messaging.faults import NO_FAULTS as NO_FAULTS
from eventsim.messaging.faults import Faults as Faults
from eventsim.messaging.faults import InvalidFaults as InvalidFaults
from eventsim.messaging.faults import Stats as Stats

Handler = Callable[[Event], None]
"""A subscriber: handles one event, returns nothing; raising means "not done, retry"."""
EPOCH = datetime(2024, 1, 1, tzinfo=UTC)
"""Virtual tick 0, for events built by ``message``; tick n is EPOCH + n seconds."""


class UnknownSubscription(EventSimError, LookupError):
    """No consumer group of that name listens to that topic."""


@dataclass(frozen=True)
class Delivery:
    """One message on its way to one consumer group."""

    group: str
    topic: str
    partition: int
    offset: int
    event: Event
    attempt: int = 1
    published_at: int = 0


@dataclass(frozen=True)
class DeadLetter:
    """A message a group gave up on, with why, after how many attempts, and when."""

    delivery: Delivery
    reason: str
    at: int


@dataclass
class _Group:
    handler: Handler
    cost: int
    # (topic, partition) -> offsets handled and acknowledged (or dead-lettered)
    done: dict[tuple[str, int], set[int]] = field(default_factory=dict)
    # (topic, partition) -> highest offset handed to the handler so far, and all offsets seen
    highest: dict[tuple[str, int], int] = field(default_factory=dict)
    seen: dict[tuple[str, int], set[int]] = field(default_factory=dict)


class Broker:
    """Topics of partitioned logs, consumer groups with their own offsets, virtual time."""

    def __init__(
        self,
        *,
        partitions: int = 4,
        faults: Faults = NO_FAULTS,
        max_attempts: int = 3,
        backoff: int = 2,
    ) -> None:
        for name, value in (
            ("partitions", partitions),
            ("max_attempts", max_attempts),
            ("backoff", backoff),
        ):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise InvalidArgument(f"{name} must be a whole number >= 1, got {value!r}")
        if not isinstance(faults, Faults):
            raise InvalidFaults(f"faults must be a Faults(...), got {faults!r}")
        self.partitions = partitions
        self.faults = faults
        self.max_attempts = max_attempts
        self.backoff = backoff
        self.now = 0  # the virtual clock, in ticks; a handler call takes its group's cost
        self.stats = Stats()
        self.dead_letters: list[DeadLetter] = []
        self.logs: dict[tuple[str, int], list[Event]] = {}
        self.latencies: list[int] = []  # ticks from publish to acknowledged handling
        self._groups: dict[str, dict[str, _Group]] = {}  # topic -> group name -> group
        self._queue: list[tuple[int, int, int, Delivery]] = []
        self._sequence = 0
        self._rng = np.random.default_rng(faults.seed)

    # -- wiring ------------------------------------------------------------------------
    def subscribe(
        self,
        topic: str,
        group: str,
        handler: Handler,
        *,
        cost: int = 1,
        replace: bool = False,
        from_start: bool = False,
    ) -> None:
        """Let consumer group ``group`` receive every later message of ``topic``.

        Each call of ``handler`` takes ``cost`` ticks of virtual time. ``replace=True``
        deploys a new handler (a fix) for a group that already exists. ``from_start=True``
        also delivers the messages the topic already holds (offset 0 on), for a rebuild.
        """
        if not callable(handler):
            raise InvalidArgument(f"handler must be callable (event) -> None, got {handler!r}")
        if isinstance(cost, bool) or not isinstance(cost, int) or cost < 1:
            raise InvalidArgument(f"cost must be a whole number of ticks >= 1, got {cost!r}")
        groups = self._groups.setdefault(_name("topic", topic), {})
        if _name("group", group) in groups and not replace:
            raise InvalidArgument(
                f"group {group!r} already listens to {topic!r}; pass replace=True to deploy "
                "a new handler, or pick another group name for an independent consumer"
            )
        if group in groups:
            groups[group].handler, groups[group].cost = handler, cost
        else:
            groups[group] = _Group(handler, cost)
        if from_start:
            for (log_topic, partition), log in sorted(self.logs.items()):
                if log_topic == topic:
                    for offset, event in enumerate(log):
                        self._send(Delivery(group, topic, partition, offset, event, 1, self.now))

    def topics(self) -> dict[str, list[str]]:
        """Each topic and the consumer groups that listen to it."""
        return {topic: sorted(groups) for topic, groups in sorted(self._groups.items())}

    def partition_of(self, key: str) -> int:
        """The partition a key's messages go to: stable across runs (crc32, not hash())."""
        return zlib.crc32(key.encode()) % self.partitions

    # -- publishing --------------------------------------------------------------------
    def publish(self, topic: str, event: Event, *, key: str | None = None) -> int:
        """Append ``event`` to the topic (partition by ``key``, default its stream); offset."""
        if not isinstance(event, Event):
            raise InvalidArgument(f"publish takes an Event, got {type(event).__name__}")
        partition = self.partition_of(key if key is not None else event.stream_id)
        log = self.logs.setdefault((_name("topic", topic), partition), [])
        log.append(event)
        self.stats.published += 1
        for group in sorted(self._groups.get(topic, {})):
            self._send(Delivery(group, topic, partition, len(log) - 1, event, 1, self.now))
        return len(log) - 1

    def _send(self, delivery: Delivery, *, after: int = 0) -> None:
        faults, rng = self.faults, self._rng
        due = self.now + after
        if faults.delay_rate and rng.random() < faults.delay_rate:
            self.stats.delayed += 1
            due += int(rng.integers(1, faults.max_delay + 1))
        copies = 2 if faults.duplicate_rate and rng.random() < faults.duplicate_rate else 1
        self.stats.duplicates += copies - 1
        for _ in range(copies):
            self._sequence += 1
            # A jitter on the order key lets a message overtake up to window - 1 others.
            jitter = int(rng.integers(0, faults.reorder_window)) if faults.reorder_window else 0
            heapq.heappush(self._queue, (due, self._sequence + jitter, self._sequence, delivery))

    # -- delivering --------------------------------------------------------------------
    def step(self) -> bool:
        """Deliver the next due message; False when nothing is left to deliver."""
        if not self._queue:
            return False
        due, _, _, delivery = heapq.heappop(self._queue)
        self.now = max(self.now, due)
        group = self._groups[delivery.topic][delivery.group]
        lane = (delivery.topic, delivery.partition)
        seen = group.seen.setdefault(lane, set())
        if delivery.offset not in seen and delivery.offset < group.highest.get(lane, -1):
            self.stats.reordered += 1  # its first delivery came after a later message's
        seen.add(delivery.offset)
        group.highest[lane] = max(group.highest.get(lane, -1), delivery.offset)
        self.stats.delivered += 1
        try:
            group.handler(delivery.event)  # it sees the clock at the start of its call
        except Exception as exc:  # noqa: BLE001 (any handler error means: not done, retry)
            self.now += group.cost
            self._fail(delivery, group, f"{type(exc).__name__}: {exc}")
            return True
        self.now += group.cost
        if self.faults.crash_rate and self._rng.random() < self.faults.crash_rate:
            self.stats.crashes += 1  # handled, but the ack never arrives: it comes again
            self._send(replace(delivery, attempt=delivery.attempt + 1), after=self.backoff)
            return True
        self.stats.acked += 1
        self.latencies.append(self.now - delivery.published_at)
        group.done.setdefault(lane, set()).add(delivery.offset)
        return True

    def _fail(self, delivery: Delivery, group: _Group, reason: str) -> None:
        self.stats.failures += 1
        if delivery.attempt >= self.max_attempts:
            self.stats.dead_lettered += 1
            self.dead_letters.append(DeadLetter(delivery, reason, self.now))
            group.done.setdefault((delivery.topic, delivery.partition), set()).add(delivery.offset)
            return
        wait = self.backoff * 2 ** (delivery.attempt - 1)  # exponential backoff, in ticks
        self._send(replace(delivery, attempt=delivery.attempt + 1), after=wait)

    def run(self, *, max_steps: int = 10_000_000) -> Stats:
        """Deliver until nothing is left (or ``max_steps`` deliveries); the counters."""
        for _ in range(max_steps):
            if not self.step():
                break
        return self.stats

    def pending(self) -> int:
        """Deliveries still queued (retries and duplicates included)."""
        return len(self._queue)

    # -- offsets and dead letters ------------------------------------------------------
    def offsets(self, group: str) -> dict[tuple[str, int], int]:
        """The group's committed offset per (topic, partition): every offset below is done."""
        result: dict[tuple[str, int], int] = {}
        for topic, groups in self._groups.items():
            if group not in groups:
                continue
            for (log_topic, partition), log in sorted(self.logs.items()):
                if log_topic == topic:
                    done = groups[group].done.get((topic, partition), set())
                    result[(topic, partition)] = next(
                        (n for n in range(len(log)) if n not in done), len(log)
                    )
        if not result and not any(group in groups for groups in self._groups.values()):
            raise UnknownSubscription(f"no topic has a consumer group {group!r}; subscribe first")
        return result

    def replay_dead_letters(self, group: str | None = None) -> int:
        """Send the dead letters (of one group, or all) again, attempts reset; how many."""
        chosen = [d for d in self.dead_letters if group is None or d.delivery.group == group]
        self.dead_letters = [d for d in self.dead_letters if d not in chosen]
        for letter in chosen:
            delivery = letter.delivery
            self._groups[delivery.topic][delivery.group].done[
                (delivery.topic, delivery.partition)
            ].discard(delivery.offset)
            self._send(replace(delivery, attempt=1, published_at=self.now))
        self.stats.replayed += len(chosen)
        return len(chosen)


def _name(what: str, value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidArgument(f"{what} must be a non-empty name, got {value!r}")
    return value


def message(
    event_type: str,
    data: Mapping[str, Any],
    *,
    stream_id: str,
    version: int = 1,
    at: int = 0,
    metadata: Mapping[str, Any] | None = None,
    event_id: uuid.UUID | None = None,
) -> Event:
    """An ``Event`` to publish without a store; its id derives from stream, version, type.

    >>> message("Ping", {"n": 1}, stream_id="order-1").event_id.version
    5
    """
    name = f"{stream_id}/{version}/{event_type}"
    return Event(
        stream_id=stream_id,
        version=version,
        event_id=event_id or uuid.uuid5(uuid.NAMESPACE_URL, name),
        event_type=event_type,
        data=dict(data),
        metadata=dict(metadata or {}),
        timestamp=EPOCH + timedelta(seconds=at),
        position=0,
    )


def domain_message(
    event: DomainEvent,
    *,
    stream_id: str,
    version: int = 1,
    metadata: Mapping[str, Any] | None = None,
) -> Event:
    """A domain event as a message: its type and payload are the domain's own, not a copy.

    >>> from eventsim.domains.bank import AccountOpened
    >>> domain_message(AccountOpened("Ada"), stream_id="account-1").data
    {'owner': 'Ada'}
    """
    return message(
        event.event_type(), event.to_data(), stream_id=stream_id, version=version, metadata=metadata
    )
