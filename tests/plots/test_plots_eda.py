"""The event-driven architecture and idempotency figures draw what they are given."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pandas as pd

from eventsim import plots
from eventsim.messaging.mediator import producer_latency


def test_delivery_outcomes_draws_one_bar_per_outcome_and_run() -> None:
    ax = plots.delivery_outcomes({"clean": {"delivered": 5}, "faulty": {"delivered": 7}})
    assert 16 == len(ax.patches)
    assert [5, 7] == [ax.patches[0].get_height(), ax.patches[8].get_height()]
    assert ax.get_ylabel() and ax.get_title()
    plt.close(ax.figure)


def test_double_charges_draws_a_line_per_consumer() -> None:
    runs = pd.DataFrame(
        {
            "duplicate_rate": [0.0, 0.1] * 2,
            "consumer": ["naive"] * 2 + ["idempotent"] * 2,
            "double_charged": [0, 9, 0, 0],
        }
    )
    ax = plots.double_charges(runs)
    lines = {line.get_label(): list(line.get_ydata()) for line in ax.get_lines()}
    assert {"idempotent consumer": [0, 0], "naive consumer": [0, 9]} == lines
    plt.close(ax.figure)


def test_producer_latency_draws_waiting_publishing_and_done() -> None:
    ax = plots.producer_latency(producer_latency([3, 4]))
    ys = [list(line.get_ydata()) for line in ax.get_lines()]
    assert [[3, 7], [0, 0], [3, 4]] == ys
    assert len({tuple(y) for y in ys}) == len(ys), "no line may hide under another"
    assert "ticks" in ax.get_ylabel()
    plt.close(ax.figure)
