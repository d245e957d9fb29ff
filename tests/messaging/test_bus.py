"""The broker: topics, partitions, groups, at-least-once delivery, faults, dead letters."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from eventsim.errors import InvalidArgument
from eventsim.events import Event
from eventsim.messaging.bus import (
    NO_FAULTS,
    Broker,
    Faults,
    InvalidFaults,
    UnknownSubscription,
    message,
)
from tests.strategies import broker_faults


def orders(n: int, streams: int = 5) -> list[Event]:
    """n events over a few streams, each stream's versions in order."""
    versions: dict[str, int] = {}
    events = []
    for i in range(n):
        stream = f"order-{i % streams}"
        versions[stream] = versions.get(stream, 0) + 1
        events.append(message("Step", {"i": i}, stream_id=stream, version=versions[stream]))
    return events


def deliver(
    events: list[Event], faults: Faults = NO_FAULTS, **options: int
) -> tuple[Broker, list[Event]]:
    broker = Broker(faults=faults, **options)
    seen: list[Event] = []
    broker.subscribe("orders", "audit", seen.append)
    for event in events:
        broker.publish("orders", event)
    broker.run()
    return broker, seen


def test_without_faults_each_message_is_delivered_once_in_publish_order() -> None:
    events = orders(20)
    broker, seen = deliver(events, partitions=1)
    assert events == seen
    assert (20, 20, 20) == (broker.stats.published, broker.stats.delivered, broker.stats.acked)


def test_each_group_gets_every_message_with_its_own_offsets() -> None:
    broker = Broker(partitions=2)
    a: list[Event] = []
    b: list[Event] = []
    broker.subscribe("orders", "a", a.append)
    broker.subscribe("orders", "b", b.append)
    for event in orders(6):
        broker.publish("orders", event)
    broker.run()
    assert sorted(e.event_id for e in a) == sorted(e.event_id for e in b)
    expected = {key: len(log) for key, log in broker.logs.items()}
    assert expected == broker.offsets("a") == broker.offsets("b")


def test_a_key_always_lands_in_the_same_partition() -> None:
    broker = Broker(partitions=8)
    assert broker.partition_of("order-1") == Broker(partitions=8).partition_of("order-1")
    for event in orders(10):
        broker.publish("orders", event)
    for (_, partition), log in broker.logs.items():
        assert {partition} == {broker.partition_of(e.stream_id) for e in log}


def test_the_same_seed_gives_the_same_deliveries() -> None:
    faults = Faults(duplicate_rate=0.3, reorder_window=4, delay_rate=0.2, max_delay=5, seed=3)
    first = deliver(orders(40), faults)
    second = deliver(orders(40), faults)
    assert [e.event_id for e in first[1]] == [e.event_id for e in second[1]]
    assert first[0].stats == second[0].stats


def test_duplicates_are_injected_at_about_the_rate_and_counted() -> None:
    broker, seen = deliver(orders(1000), Faults(duplicate_rate=0.1, seed=1))
    assert 60 < broker.stats.duplicates < 140
    assert len(seen) == 1000 + broker.stats.duplicates


def test_reordering_stays_within_the_window_of_a_partition() -> None:
    broker, seen = deliver(orders(200), Faults(reorder_window=3, seed=2), partitions=1)
    offsets = [e.data["i"] for e in seen]
    assert broker.stats.reordered > 0
    assert all(abs(position - offset) < 3 for position, offset in enumerate(offsets))


def test_a_delayed_message_arrives_later_in_virtual_time() -> None:
    broker, _ = deliver(orders(50), Faults(delay_rate=0.5, max_delay=10, seed=4), partitions=1)
    assert broker.stats.delayed > 0
    assert max(broker.latencies) > 1


def test_a_crash_before_the_ack_redelivers_a_message_already_handled() -> None:
    broker, seen = deliver(orders(300), Faults(crash_rate=0.2, seed=5))
    assert broker.stats.crashes > 0
    assert len(seen) == 300 + broker.stats.crashes
    assert 300 == broker.stats.acked


def test_a_failing_handler_is_retried_with_backoff_then_dead_lettered() -> None:
    broker = Broker(max_attempts=3, backoff=2)
    times: list[int] = []

    def poison(event: Event) -> None:
        times.append(broker.now)
        raise ValueError(f"cannot parse {event.data}")

    broker.subscribe("orders", "billing", poison)
    broker.publish("orders", message("OrderPlaced", {"bad": 1}, stream_id="order-1"))
    broker.run()
    assert [0, 3, 8] == times  # each call takes 1 tick, then waits of 2 and 4 ticks
    [letter] = broker.dead_letters
    assert ("billing", 3) == (letter.delivery.group, letter.delivery.attempt)
    assert "ValueError: cannot parse {'bad': 1}" == letter.reason


def test_replaying_dead_letters_after_the_fix_delivers_them() -> None:
    broker = Broker(max_attempts=2)
    fixed: list[str] = []
    broker.subscribe("orders", "billing", lambda event: 1 / 0)  # type: ignore[func-returns-value]
    broker.publish("orders", message("OrderPlaced", {}, stream_id="order-1"))
    broker.run()
    assert {("orders", broker.partition_of("order-1")): 1} == broker.offsets("billing")
    broker.subscribe("orders", "billing", lambda event: fixed.append(event.stream_id), replace=True)
    assert 1 == broker.replay_dead_letters("billing")
    broker.run()
    assert (["order-1"], [], 1) == (fixed, broker.dead_letters, broker.stats.replayed)


def test_a_failing_group_does_not_stop_another_group() -> None:
    broker = Broker(max_attempts=2)
    seen: list[Event] = []
    broker.subscribe("orders", "broken", lambda event: 1 / 0)  # type: ignore[func-returns-value]
    broker.subscribe("orders", "fine", seen.append)
    for event in orders(5):
        broker.publish("orders", event)
    broker.run()
    assert (5, 5) == (len(seen), len(broker.dead_letters))


@pytest.mark.parametrize(
    "settings_",
    [
        {"duplicate_rate": 1.0},
        {"crash_rate": -0.1},
        {"reorder_window": -1},
        {"delay_rate": 0.1},
        {"seed": 1.5},
        {"duplicate_rate": True},
    ],
)
def test_faults_out_of_range_are_refused_naming_the_value(settings_: dict[str, object]) -> None:
    (name, value), *_ = settings_.items()
    with pytest.raises(InvalidFaults, match=name):
        Faults(**settings_)  # type: ignore[arg-type]


def test_bad_wiring_is_refused() -> None:
    broker = Broker()
    broker.subscribe("orders", "a", print)
    with pytest.raises(InvalidArgument, match="replace=True"):
        broker.subscribe("orders", "a", print)
    with pytest.raises(InvalidArgument, match="callable"):
        broker.subscribe("orders", "b", "print")  # type: ignore[arg-type]
    with pytest.raises(InvalidArgument, match="Event"):
        broker.publish("orders", {"event_type": "x"})  # type: ignore[arg-type]
    with pytest.raises(UnknownSubscription, match="nobody"):
        broker.offsets("nobody")
    with pytest.raises(InvalidArgument, match="partitions"):
        Broker(partitions=0)


fault_settings = broker_faults(duplicates=0.5, delays=0.5, crashes=0.5, window=6, max_delay=8)


@settings(max_examples=60, deadline=None)
@given(faults=fault_settings, n=st.integers(0, 60), failing=st.sets(st.integers(0, 59)))
def test_every_message_is_delivered_at_least_once_or_dead_lettered(
    faults: Faults, n: int, failing: set[int]
) -> None:
    events = orders(n)
    broker = Broker(faults=faults, max_attempts=2)
    handled: set[int] = set()

    def handler(event: Event) -> None:
        if event.data["i"] in failing:
            raise RuntimeError("poison")
        handled.add(event.data["i"])

    broker.subscribe("orders", "g", handler)
    for event in events:
        broker.publish("orders", event)
    broker.run()
    dead = {letter.delivery.event.data["i"] for letter in broker.dead_letters}
    assert set(range(n)) == handled | dead
    assert not handled & dead
    assert 0 == broker.pending()
    assert {k: len(log) for k, log in broker.logs.items()} == broker.offsets("g") or n == 0


def test_a_group_subscribed_from_the_start_gets_the_messages_already_published() -> None:
    broker = Broker(partitions=2)
    events = orders(6)
    for event in events:
        broker.publish("orders", event)
    late: list[Event] = []
    broker.subscribe("orders", "rebuild", late.append, from_start=True)
    broker.run()
    assert sorted(e.event_id for e in events) == sorted(e.event_id for e in late)


def test_a_duplicate_is_not_counted_as_reordered() -> None:
    broker, seen = deliver(orders(300), Faults(duplicate_rate=0.3, seed=9), partitions=1)
    assert broker.stats.duplicates > 0
    assert 0 == broker.stats.reordered
