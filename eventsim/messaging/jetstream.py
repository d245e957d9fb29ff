"""Events through a real broker: NATS JetStream, with the store as the outbox.

The event store already is a transactional outbox: an event is stored in the same
transaction as the decision that made it, and ``position`` orders the log. The relay
publishes what comes after its checkpoint, each event with its ``event_id`` as the
``Nats-Msg-Id`` header, and moves the checkpoint only once JetStream has acknowledged it.
A relay that dies between the two publishes again on restart; JetStream drops the copy
inside its duplicate window, and the consumers' own idempotency covers what lies outside.

Consumers are durable pull consumers with explicit acks: an event not acknowledged within
``ack_wait`` is delivered again, up to ``max_deliver`` times; then it goes to the dead
letter subject, for a person to look at, and is acknowledged so it stops blocking.

The client library is asynchronous: call these with ``await`` (a notebook cell may).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import nats
from nats.aio.client import Client
from nats.errors import TimeoutError as FetchTimeout
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, StreamConfig

from eventsim.errors import InvalidArgument
from eventsim.events import Event
from eventsim.store import EventStoreContract

STREAM = "EVENTS"
SUBJECT_PREFIX = "events"  # an event of type T is published on events.T
DEAD_LETTER_PREFIX = "dead"  # and, once it has failed max_deliver times, on dead.events.T
DUPLICATE_WINDOW = 120.0  # seconds during which JetStream drops a repeated Nats-Msg-Id


async def connect(url: str) -> tuple[Client, JetStreamContext]:
    """A connection and its JetStream context, with the events stream created if absent."""
    connection = await nats.connect(url, connect_timeout=5, max_reconnect_attempts=0)
    js = connection.jetstream()
    await js.add_stream(
        StreamConfig(
            name=STREAM,
            subjects=[f"{SUBJECT_PREFIX}.>", f"{DEAD_LETTER_PREFIX}.>"],
            duplicate_window=DUPLICATE_WINDOW,
        )
    )
    return connection, js


def encode(event: Event) -> bytes:
    """An event as the JSON message the broker carries."""
    return json.dumps(
        {
            "stream_id": event.stream_id,
            "version": event.version,
            "event_id": str(event.event_id),
            "event_type": event.event_type,
            "data": event.data,
            "metadata": event.metadata,
            "timestamp": event.timestamp.isoformat(),
            "position": event.position,
        },
        separators=(",", ":"),
    ).encode()


def decode(payload: bytes) -> Event:
    """The event a message carries (what ``encode`` wrote)."""
    fields = json.loads(payload)
    return Event(
        fields["stream_id"],
        fields["version"],
        uuid.UUID(fields["event_id"]),
        fields["event_type"],
        fields["data"],
        fields["metadata"],
        datetime.fromisoformat(fields["timestamp"]),
        fields["position"],
    )


@dataclass
class RelayReport:
    published: int = 0  # messages JetStream stored
    duplicates: int = 0  # messages JetStream recognised and dropped


class OutboxRelay:
    """Publishes the store's events after a checkpoint kept in a file; resumes from it."""

    def __init__(self, store: EventStoreContract, js: JetStreamContext, checkpoint: Path) -> None:
        self.store = store
        self.js = js
        self.checkpoint = Path(checkpoint)

    def position(self) -> int:
        """The last position JetStream has acknowledged (0 before the first)."""
        return int(self.checkpoint.read_text()) if self.checkpoint.exists() else 0

    async def publish_pending(self, limit: int | None = None) -> RelayReport:
        """Publish the events after the checkpoint, moving it after each acknowledgement."""
        report = RelayReport()
        for event in self.store.read_all(after=self.position(), limit=limit):
            ack = await self.js.publish(
                f"{SUBJECT_PREFIX}.{event.event_type}",
                encode(event),
                headers={"Nats-Msg-Id": str(event.event_id)},
            )
            if ack.duplicate:
                report.duplicates += 1
            else:
                report.published += 1
            self._save(event.position)
        return report

    def _save(self, position: int) -> None:
        # Write then rename: a crash leaves the old checkpoint or the new one, never half.
        partial = self.checkpoint.with_name(self.checkpoint.name + ".partial")
        partial.write_text(str(position))
        partial.replace(self.checkpoint)


@dataclass
class ConsumeReport:
    handled: int = 0  # deliveries the handler took and that were acknowledged
    failed: int = 0  # deliveries the handler raised on (redelivered later)
    dead_lettered: int = 0  # events moved to the dead letter subject


async def subscribe(
    js: JetStreamContext, durable: str, event_types: str, ack_wait: float, max_deliver: int
) -> JetStreamContext.PullSubscription:
    """The durable pull consumer ``durable``, created on first use, explicit acks."""
    if not isinstance(max_deliver, int) or isinstance(max_deliver, bool) or max_deliver < 1:
        raise InvalidArgument(f"max_deliver must be a whole number >= 1, got {max_deliver!r}")
    return await js.pull_subscribe(
        f"{SUBJECT_PREFIX}.{event_types}",
        durable=durable,
        config=ConsumerConfig(
            ack_policy=AckPolicy.EXPLICIT, ack_wait=ack_wait, max_deliver=max_deliver
        ),
    )


async def consume(
    js: JetStreamContext,
    durable: str,
    handler: Callable[[Event], Any],
    *,
    event_types: str = ">",
    ack_wait: float = 30.0,
    max_deliver: int = 5,
    batch: int = 100,
    idle_timeout: float = 1.0,
) -> ConsumeReport:
    """Hand every pending event to ``handler`` until none comes for ``idle_timeout`` s.

    ``handler`` is any callable taking an ``Event`` (the idempotency lesson's consumers
    are). It is acknowledged once the handler returns; if the handler raises, the event
    is negatively acknowledged and comes back, until its ``max_deliver``-th delivery,
    after which it is published to the dead letter subject and acknowledged.
    """
    subscription = await subscribe(js, durable, event_types, ack_wait, max_deliver)
    report = ConsumeReport()
    while True:
        try:
            messages = await subscription.fetch(batch, timeout=idle_timeout)
        except (FetchTimeout, TimeoutError):  # the client raises either when none came
            return report
        for message in messages:
            try:
                handler(decode(message.data))
            except Exception:
                report.failed += 1
                if message.metadata.num_delivered >= max_deliver:
                    await js.publish(f"{DEAD_LETTER_PREFIX}.{message.subject}", message.data)
                    await message.ack()
                    report.dead_lettered += 1
                else:
                    await message.nak()
                continue
            await message.ack()
            report.handled += 1
