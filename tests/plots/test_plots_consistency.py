"""The lag and stale-read figures: titled, labelled, and drawing the data they are given."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pytest

from eventsim import plots
from eventsim.cqrs import consistency as c


@pytest.fixture(autouse=True)
def close_figures() -> None:
    yield  # type: ignore[misc]
    plt.close("all")


def test_the_lag_plot_draws_every_sample_and_the_alert_threshold() -> None:
    lag = c.lag_over_time(c.simulate(c.Workload(duration=30), seed=1))

    ax = plots.lag_over_time(lag, threshold=5)

    assert lag["events_behind"].tolist() == list(ax.lines[0].get_ydata())
    assert [5, 5] == list(ax.lines[1].get_ydata())
    assert "s" in ax.get_xlabel() and ax.get_ylabel() and ax.get_title()


def test_the_stale_read_plot_draws_one_line_per_handler_cost() -> None:
    grid = c.stale_read_grid([5, 10], [0.01, 0.02, 0.03], seed=1, duration=20)

    ax = plots.stale_read_probability(grid)

    assert 3 == len(ax.lines)
    assert ["10 ms per event", "20 ms per event", "30 ms per event"] == [
        t.get_text() for t in ax.get_legend().get_texts()
    ]


def test_the_delay_plot_has_one_pair_of_bars_per_delivery_mode() -> None:
    delays = c.polling_vs_push(c.Workload(batch_size=50, duration=20), [1.0], seed=1)

    ax = plots.delay_by_delivery(delays)

    assert 4 == len(ax.patches)
    assert ["push", "poll every 1 s"] == [t.get_text() for t in ax.get_xticklabels()]


def test_the_lag_plot_has_a_seconds_behind_axis_and_takes_its_title() -> None:
    lag = c.lag_over_time(c.simulate(c.Workload(duration=30), seed=1))

    ax = plots.lag_over_time(lag, title="calm traffic")

    (seconds,) = [other for other in ax.figure.axes if other is not ax]
    assert lag["seconds_behind"].tolist() == list(seconds.lines[0].get_ydata())
    assert "seconds behind" in seconds.get_ylabel() and "calm traffic" == ax.get_title()


def test_the_lag_comparison_draws_every_workload_on_one_seconds_scale() -> None:
    calm = c.lag_over_time(c.simulate(c.Workload(duration=20), seed=1))
    busy = c.lag_over_time(c.simulate(c.Workload(write_rate=40, duration=20), seed=1))

    ax = plots.lag_comparison({"calm": calm, "busy": busy}, title="two workloads")

    assert 2 == len(ax.lines) and "seconds" in ax.get_ylabel()
    assert busy["seconds_behind"].tolist() == list(ax.lines[1].get_ydata())
    assert ["calm", "busy"] == [t.get_text() for t in ax.get_legend().get_texts()]
