"""The lag simulation: deterministic, physically sensible, and the strategies measured."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from eventsim import EventStore, InvalidArgument, TickingClock, orders, seeded_ids
from eventsim.cqrs import consistency as c
from eventsim.cqrs.order_views import ORDER_VIEWS
from eventsim.cqrs.projections import ProjectionRunner
from tests.strategies import seeds

BUSY = c.Workload(write_rate=30, handler_cost=0.03, duration=60)


def test_the_same_seed_gives_the_same_run_and_another_seed_another() -> None:
    first, again, other = (c.simulate(BUSY, seed=s) for s in (7, 7, 8))

    pd.testing.assert_frame_equal(c.lag_over_time(first), c.lag_over_time(again))
    assert not np.array_equal(first.written_at, other.written_at)


@settings(max_examples=30, deadline=None)
@given(
    seed=seeds,
    rate=st.floats(0.5, 40),
    cost=st.floats(0.001, 0.05),
    batch=st.integers(1, 20),
    poll=st.sampled_from([0.0, 0.3, 1.0]),
)
def test_every_event_becomes_visible_after_it_is_written_and_in_commit_order(
    seed: int, rate: float, cost: float, batch: int, poll: float
) -> None:
    workload = c.Workload(
        write_rate=rate, handler_cost=cost, duration=20, batch_size=batch, poll_interval=poll
    )
    sim = c.simulate(workload, seed=seed)

    assert (sim.visible_at >= sim.written_at + cost - 1e-9).all()
    assert (np.diff(sim.visible_at) >= 0).all()
    lag = c.lag_over_time(sim)
    assert (lag["events_behind"] >= 0).all() and (lag["seconds_behind"] >= 0).all()


def test_without_batching_the_stale_read_share_is_close_to_the_projectors_utilization() -> None:
    # A read is stale exactly when the projector is busy, and it is busy that share of time.
    sim = c.simulate(c.Workload(write_rate=20, handler_cost=0.02, duration=600), seed=3)

    assert abs(0.4 - c.stale_read_probability(sim)) < 0.05


def test_a_projector_slower_than_the_writes_falls_further_behind_every_second() -> None:
    sim = c.simulate(c.Workload(write_rate=40, handler_cost=0.03, duration=60), seed=1)
    lag = c.lag_over_time(sim)

    first_half = lag[lag["time"] <= 30]["events_behind"].max()
    assert 1.2 == pytest.approx(sim.workload.utilization)
    assert lag["events_behind"].iloc[-1] > first_half > 100


def test_the_lag_counts_the_events_written_and_not_yet_visible() -> None:
    sim = c.simulate(BUSY, seed=2)
    lag = c.lag_over_time(sim, step=1.0)

    expected = [int(((sim.written_at <= t) & (sim.visible_at > t)).sum()) for t in lag["time"]]
    assert expected == lag["events_behind"].tolist()


def test_stale_reads_grow_with_the_write_rate_for_each_handler_cost() -> None:
    grid = c.stale_read_grid([5, 15, 25], [0.01, 0.03], seed=4, duration=120)

    for _, rows in grid.groupby("handler_cost"):
        assert rows["stale_probability"].is_monotonic_increasing
    assert [0.05, 0.15, 0.25, 0.15, 0.45, 0.75] == pytest.approx(grid["utilization"].tolist())


def test_waiting_for_the_version_removes_stale_read_backs_at_the_price_of_waiting() -> None:
    sim = c.simulate(BUSY, seed=5)
    table = c.compare_strategies(sim, read_delay=0.05, retry_interval=0.1).set_index("strategy")
    naive = table.loc["read model, no guard"]
    causal = table.loc["wait for the stream version (causal)"]
    stamp = table.loc["version stamp: compare, retry"]

    assert naive["stale_reads"] > 0.2 and 0 == naive["mean_wait"]
    assert 0 == causal["stale_reads"] and causal["mean_wait"] > 0
    assert stamp["mean_wait"] >= causal["mean_wait"] and stamp["extra_reads"] > 0
    assert 1.0 == table.loc["read your write from the write model", "write_model_reads"]


def test_polling_delays_events_by_about_half_the_interval_and_push_does_not() -> None:
    workload = c.Workload(write_rate=20, handler_cost=0.005, batch_size=100)
    delays = c.polling_vs_push(workload, [1.0, 2.0], seed=6).set_index("mode")

    assert delays.loc["push", "median_delay"] < 0.05
    assert 0.35 < delays.loc["poll every 1 s", "median_delay"] < 0.7
    assert delays.loc["poll every 2 s", "max_delay"] <= 2.0 + 0.5
    assert delays.loc["poll every 2 s", "wakes"] < delays.loc["push", "wakes"]


def test_alerts_cover_each_period_above_the_threshold_with_its_peak() -> None:
    lag = pd.DataFrame({"time": [0, 1, 2, 3, 4, 5], "events_behind": [0, 5, 9, 2, 7, 0]})

    found = c.alerts(lag, threshold=4)

    expected = pd.DataFrame({"start": [1, 4], "end": [2, 4], "peak": [9, 7]})
    pd.testing.assert_frame_equal(expected, found, check_dtype=False)


def test_a_burst_of_writes_raises_an_alert_during_the_burst() -> None:
    workload = c.Workload(write_rate=10, handler_cost=0.05, bursts=((20.0, 30.0, 20.0),))
    found = c.alerts(c.lag_over_time(c.simulate(workload, seed=1)), threshold=10)

    assert len(found) >= 1 and 20 <= found["start"].iloc[0] <= 30


@pytest.mark.parametrize(
    ("field", "value"),
    [("write_rate", -1), ("handler_cost", "fast"), ("batch_size", 0), ("duration", 0)],
)
def test_a_bad_workload_is_refused_naming_the_value(field: str, value: object) -> None:
    with pytest.raises(InvalidArgument, match=f"{field} .*{value!r}"):
        c.Workload(**{field: value})  # type: ignore[arg-type]


def test_a_burst_that_ends_before_it_starts_is_refused() -> None:
    with pytest.raises(InvalidArgument, match=r"\(30, 20, 5\)"):
        c.Workload(bursts=((30, 20, 5),))


def test_a_bad_seed_is_refused() -> None:
    with pytest.raises(InvalidArgument, match="seed .* -1"):
        c.simulate(BUSY, seed=-1)


# -- on a real store -------------------------------------------------------------------------
def test_a_version_stamped_read_waits_until_the_projection_has_the_writers_version() -> None:
    store = EventStore(clock=TickingClock(datetime(2024, 3, 1, tzinfo=UTC)), new_id=seeded_ids(1))
    runner = ProjectionRunner(store, ORDER_VIEWS)
    store.append("order-1", [orders.PaymentFailed("card declined")], expected_version=0)
    runner.run()
    version = store.append("order-1", [orders.OrderCancelled("payment failed")], expected_version=1)
    (position,) = store.sql("SELECT max(position) AS p FROM event_store")["p"]

    assert c.summary_at_least(runner, "order-1", version) is None
    assert not c.caught_up(runner, int(position))
    runner.run()
    row = c.summary_at_least(runner, "order-1", version)
    assert row is not None and ("cancelled", 2) == (row["status"], row["version"])
    assert c.caught_up(runner, int(position))


def test_a_workload_without_writes_never_lags_and_no_read_is_stale() -> None:
    sim = c.simulate(c.Workload(write_rate=0, duration=10), seed=1)

    assert 0 == c.lag_over_time(sim)["events_behind"].max()
    assert 0.0 == c.stale_read_probability(sim)


def test_the_lag_alert_names_only_the_projections_behind_by_more_than_the_threshold() -> None:
    store = EventStore(clock=TickingClock(datetime(2024, 3, 1, tzinfo=UTC)), new_id=seeded_ids(2))
    for i in range(1, 6):
        store.append(f"order-{i}", [orders.PaymentFailed("card declined")], expected_version=0)
    runner = ProjectionRunner(store, ORDER_VIEWS)
    runner.run(until=3)
    runner.rebuild("revenue_by_day", until=1)

    assert {"revenue_by_day": 4} == c.lagging(runner, threshold=2)
    assert {} == c.lagging(runner, threshold=4)
    with pytest.raises(InvalidArgument, match="threshold .* -1"):
        c.lagging(runner, threshold=-1)


def test_an_optimistic_ui_shows_phantom_states_only_when_commands_are_rejected() -> None:
    sim = c.simulate(BUSY, seed=5)
    never = c.compare_strategies(sim, read_delay=0.05).set_index("strategy")
    some = c.compare_strategies(sim, read_delay=0.05, rejection_rate=0.1, seed=3)
    optimistic = some.set_index("strategy").loc["optimistic UI update"]

    assert 0 == never["phantom_reads"].sum() and 0 == never["rollbacks"].sum()
    assert 0 < optimistic["phantom_reads"] <= optimistic["rollbacks"]
    assert 0.05 < optimistic["rollbacks"] < 0.15
    assert 0 == some.set_index("strategy").drop(index="optimistic UI update")["phantom_reads"].sum()
    with pytest.raises(InvalidArgument, match="rejection_rate .* 1.5"):
        c.compare_strategies(sim, rejection_rate=1.5)


def test_waiting_for_a_position_polls_until_the_checkpoint_reaches_it() -> None:
    store = EventStore(clock=TickingClock(datetime(2024, 3, 1, tzinfo=UTC)), new_id=seeded_ids(3))
    for i in range(1, 5):
        store.append(f"order-{i}", [orders.PaymentFailed("card declined")], expected_version=0)
    runner = ProjectionRunner(store, ORDER_VIEWS, batch_size=1)
    checkpoint = lambda: runner.checkpoint("order_summary")  # noqa: E731
    one_batch = lambda: runner.run(until=checkpoint() + 1)  # noqa: E731

    assert None is c.wait_for_position(checkpoint, 4, max_polls=3, pause=one_batch)
    assert 2 == checkpoint()  # two pauses between three polls, then it gave up
    assert 3 == c.wait_for_position(checkpoint, 4, max_polls=5, pause=one_batch)
    assert 1 == c.wait_for_position(checkpoint, 4, max_polls=1, pause=one_batch)
