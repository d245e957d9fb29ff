"""A real broker: the store's events through NATS JetStream, and back into consumers.

Each test starts from an empty JetStream stream on the test run's NATS server and checks
what the lessons claim: the broker drops a re-published event by its id, an event not
acknowledged comes back, one that keeps failing ends in the dead letter subject, and the
idempotency lesson's consumer runs unchanged on it, applying each event once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from nats.aio.client import Client as NATS
from nats.js import JetStreamContext

from eventsim import NewEvent, TickingClock, seeded_ids
from eventsim.catalog import EventStore
from eventsim.events import Event
from eventsim.messaging import jetstream
from eventsim.messaging.consumers import IdempotentConsumer
from tests.conftest import START


@pytest.fixture
def store() -> Iterator[EventStore]:
    with EventStore(clock=TickingClock(START), new_id=seeded_ids(3)) as fresh:
        for n in range(1, 6):
            fresh.append(
                f"account-{n}", [NewEvent("AccountOpened", {"owner": f"O{n}"})], expected_version=0
            )
        yield fresh


def run(coroutine):  # type: ignore[no-untyped-def]
    return asyncio.run(coroutine)


async def fresh_stream(url: str) -> tuple[NATS, JetStreamContext]:
    """A connection to a new, empty events stream: no messages, consumers or dedup memory."""
    connection, js = await jetstream.connect(url)
    await js.delete_stream(jetstream.STREAM)
    await connection.close()
    return await jetstream.connect(url)


def test_the_relay_publishes_each_event_once_and_the_broker_drops_a_re_publish(
    nats_server: str, store: EventStore, tmp_path: Path
) -> None:
    async def scenario() -> tuple[int, int, int, int, int]:
        connection, js = await fresh_stream(nats_server)
        relay = jetstream.OutboxRelay(store, js, tmp_path / "relay.checkpoint")
        first = await relay.publish_pending()
        # The relay dies after publishing but before saving: it starts again from 0.
        (tmp_path / "relay.checkpoint").unlink()
        again = await relay.publish_pending()
        stored = (await js.stream_info(jetstream.STREAM)).state.messages
        await connection.close()
        return first.published, first.duplicates, again.published, again.duplicates, stored

    assert (5, 0, 0, 5, 5) == run(scenario())


def applied_ledger() -> tuple[duckdb.DuckDBPyConnection, IdempotentConsumer]:
    """The idempotency lesson's consumer, whose effect writes one ledger row per event."""
    con = duckdb.connect()
    con.execute("CREATE TABLE ledger (event_id VARCHAR)")

    def effect(con: duckdb.DuckDBPyConnection, event: Event) -> None:
        con.execute("INSERT INTO ledger VALUES (?)", [str(event.event_id)])

    return con, IdempotentConsumer(con, "ledger", effect)


def ledger_rows(con: duckdb.DuckDBPyConnection) -> tuple[int, int]:
    """(rows, distinct event ids) in the ledger."""
    (row,) = con.execute("SELECT count(*), count(DISTINCT event_id) FROM ledger").fetchall()
    return int(row[0]), int(row[1])


def test_an_event_not_acknowledged_is_delivered_again_and_the_consumer_applies_it_once(
    nats_server: str, store: EventStore, tmp_path: Path
) -> None:
    con, consumer = applied_ledger()

    async def scenario() -> tuple[int, jetstream.ConsumeReport]:
        connection, js = await fresh_stream(nats_server)
        await jetstream.OutboxRelay(store, js, tmp_path / "cp").publish_pending()
        # A consumer applies all five, then dies before it acknowledges any.
        subscription = await jetstream.subscribe(js, "ledger", ">", 1.0, 5)
        messages = []
        while len(messages) < 5:  # a fetch returns as soon as some have come
            messages += await subscription.fetch(5 - len(messages), timeout=5)
        for message in messages:
            consumer(jetstream.decode(message.data))
        await connection.close()
        await asyncio.sleep(1.5)  # past ack_wait: the broker gives up on those deliveries
        connection, js = await jetstream.connect(nats_server)
        report = await jetstream.consume(js, "ledger", consumer, ack_wait=1.0, max_deliver=5)
        pending = (await js.consumer_info(jetstream.STREAM, "ledger")).num_pending
        await connection.close()
        return pending, report

    pending, report = run(scenario())
    assert (5, 0, 0) == (report.handled, report.failed, report.dead_lettered)  # redelivered
    assert (5, 5) == (consumer.applied, consumer.skipped)  # ... and skipped as seen
    assert ((5, 5), 0) == (ledger_rows(con), pending)


def test_a_duplicate_outside_the_broker_window_is_absorbed_by_the_consumer(
    nats_server: str, store: EventStore
) -> None:
    con, consumer = applied_ledger()
    event = store.read_all(limit=1)[0]

    async def scenario() -> jetstream.ConsumeReport:
        connection, js = await fresh_stream(nats_server)
        # No Nats-Msg-Id (as after the window): the broker stores both copies.
        for _ in range(2):
            await js.publish(f"events.{event.event_type}", jetstream.encode(event))
        report = await jetstream.consume(js, "ledger", consumer)
        await connection.close()
        return report

    report = run(scenario())
    assert 2 == report.handled
    assert (1, 1) == (consumer.applied, consumer.skipped)
    assert (1, 1) == ledger_rows(con)


def test_an_event_that_keeps_failing_goes_to_the_dead_letter_subject(
    nats_server: str, store: EventStore, tmp_path: Path
) -> None:
    def refuse(event: Event) -> None:
        if event.stream_id == "account-3":
            raise ValueError("this one cannot be handled")

    async def scenario() -> tuple[jetstream.ConsumeReport, list[str]]:
        connection, js = await fresh_stream(nats_server)
        await jetstream.OutboxRelay(store, js, tmp_path / "cp").publish_pending()
        report = await jetstream.consume(js, "fragile", refuse, max_deliver=3)
        dead = await js.pull_subscribe("dead.>", durable="morgue")
        letters = [jetstream.decode(m.data).stream_id for m in await dead.fetch(1, timeout=5)]
        await connection.close()
        return report, letters

    report, letters = run(scenario())
    assert (4, 3, 1) == (report.handled, report.failed, report.dead_lettered)
    assert ["account-3"] == letters


def test_an_event_survives_the_trip_through_the_broker_unchanged(store: EventStore) -> None:
    for event in store.read_all():
        assert event == jetstream.decode(jetstream.encode(event))
