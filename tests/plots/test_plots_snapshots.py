"""The snapshot and schema-evolution plots draw the numbers they are given, labelled."""

from __future__ import annotations

from collections.abc import Iterator

import matplotlib

matplotlib.use("Agg")  # before pyplot: no window, no display needed

import matplotlib.pyplot as plt
import pandas as pd
import pytest

from eventsim import plots
from eventsim.evolution.snapshots import rehydration_cost


@pytest.fixture(autouse=True)
def close_figures() -> Iterator[None]:
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def costs() -> pd.DataFrame:
    return rehydration_cost([5, 12, 30], [None, 10], seed=3)


def test_replay_cost_draws_one_line_per_interval_with_the_folded_counts(
    costs: pd.DataFrame,
) -> None:
    ax = plots.replay_cost(costs)
    lines = {line.get_label(): list(line.get_ydata()) for line in ax.get_lines()}
    expected = {"no snapshots": [5, 12, 30], "snapshot every 10 events": [5, 2, 0]}
    assert expected == lines
    assert ax.get_xlabel() == "stream length (events)" and ax.get_title()


def test_snapshot_tradeoff_puts_storage_for_a_thousand_accounts_on_x_and_work_on_y(
    costs: pd.DataFrame,
) -> None:
    ax = plots.snapshot_tradeoff(costs)
    line, events = ax.get_lines()
    bytes_every_10 = costs.loc[costs["interval"] == 10, "snapshot_bytes"].max()
    assert [0, bytes_every_10 * 1000 / 2**20] == list(line.get_xdata())
    assert [47 / 3, 7 / 3] == pytest.approx(list(line.get_ydata()))
    assert [costs["event_bytes"].max() * 1000 / 2**20] * 2 == list(events.get_xdata())
    assert ["no snapshots", "every 10"] == [t.get_text() for t in ax.texts][:2]
    assert "1,000 accounts" in ax.get_xlabel()


def test_upcast_vs_copy_counts_steps_and_bytes_on_separate_axes() -> None:
    _, axes = plt.subplots(1, 2)
    left, right = plots.upcast_vs_copy(10, 300, 250, 4, axes=tuple(axes))
    assert (left, right) == tuple(axes)
    on_read, copy = (list(line.get_ydata()) for line in left.get_lines())
    assert ([0, 10, 20, 30, 40], [10] * 5) == (on_read, copy)
    tops = [patch.get_y() + patch.get_height() for patch in right.patches]
    assert [300, 300, 0, 300, 550, 250] == tops
    assert "steps" in left.get_ylabel() and "bytes" in right.get_ylabel()
