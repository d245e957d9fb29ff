"""The lag explorer: its pure view function, and the thin widget around it."""

from __future__ import annotations

import pandas as pd

from eventsim import widgets
from eventsim.cqrs import consistency as c


def test_the_view_reports_what_the_simulation_of_the_same_workload_reports() -> None:
    view = widgets.lag_explorer_view(25, 30, seed=3)

    sim = c.simulate(c.Workload(write_rate=25, handler_cost=0.03), seed=3)
    pd.testing.assert_frame_equal(c.lag_over_time(sim), view["lag"])
    assert c.stale_read_probability(sim) == view["stale_probability"]
    assert 0.75 == view["utilization"] and view["keeps_up"]


def test_an_overloaded_projector_is_called_out_in_the_summary() -> None:
    view = widgets.lag_explorer_view(50, 40, seed=3)

    assert not view["keeps_up"]
    assert "200% busy" in view["summary"] and "falls further behind" in view["summary"]


def test_the_widget_shows_the_summary_of_its_slider_values() -> None:
    box = widgets.lag_explorer(seed=3)
    sliders, output = box.children
    rate, cost = sliders.children

    cost.value = 10

    expected = widgets.lag_explorer_view(rate.value, 10, seed=3)["summary"]
    assert expected + "\n" == output.outputs[0]["text"]
