"""Projections fed by the broker under faults equal a clean rebuild from position 0.

The broker (``eventsim.messaging.bus``) delivers every event of the log at least once, with seeded
duplicates, reordering within a partition, delays and lost acknowledgements; one
projection also crashes after applying a batch and before its commit. The runner commits
each read-model change together with its checkpoint, so after recovery nothing is folded
twice and nothing is skipped.
"""

from __future__ import annotations

import random

import pytest

from eventsim.cqrs import order_views as views
from eventsim.cqrs.projections import ProjectionRunner
from eventsim.messaging import bus
from tests.cqrs.test_projections import (
    OrdersPerCustomer,
    assert_same_read_models,
    crashing,
    orders_store,
    read_models,
    rebuilt,
)

FAULTS = {"duplicate_rate": 0.1, "reorder_window": 5, "delay_rate": 0.1, "max_delay": 10}


@pytest.mark.slow
@pytest.mark.parametrize("seed", [3, 11, 29])
def test_projections_fed_by_a_faulty_broker_equal_a_clean_rebuild(seed: int) -> None:
    store = orders_store(40, seed=seed)
    rng = random.Random(seed)
    crash_before_commit = lambda: rng.random() < 0.1  # noqa: E731 (a one-line fault)
    runner = ProjectionRunner(
        store,
        [
            views.ORDER_SUMMARY,
            views.REVENUE_BY_DAY,
            crashing(views.SHIPPING_MANIFEST, crash_before_commit),
            OrdersPerCustomer(),
        ],
    )
    broker = bus.Broker(faults=bus.Faults(**FAULTS, crash_rate=0.05, seed=seed), max_attempts=8)
    broker.subscribe("orders", "read-models", runner.handle)
    for event in store.read_all():
        broker.publish("orders", event)

    stats = broker.run()

    print(
        f"seed {seed}: {stats.published} events, {stats.delivered} deliveries, "
        f"{stats.duplicates} duplicates, {stats.reordered} reordered, {stats.delayed} delayed, "
        f"{stats.crashes} lost acks, {stats.failures} crashes before commit, "
        f"{runner.duplicates} skipped by position"
    )
    assert stats.duplicates > 0 and stats.reordered > 0 and stats.crashes > 0
    assert stats.failures > 0 and stats.dead_lettered == 0
    head = store.info()["events"]
    assert {name: head for name in runner.projections} == runner.checkpoints()
    clean = rebuilt(store, lambda: [*views.ORDER_VIEWS, OrdersPerCustomer()])
    assert_same_read_models(clean, read_models(runner))
