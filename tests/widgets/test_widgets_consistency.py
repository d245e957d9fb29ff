"""The lag explorer: its pure view function, and the thin widget around it."""

from __future__ import annotations

import pandas as pd

from eventsim import widgets
from eventsim.cqrs import consistency as c
from eventsim.widgets.figures import paragraph_output


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
    assert expected == output.outputs[0]["data"]["text/plain"]
    assert f">{expected}</p>" in output.outputs[0]["data"]["text/html"]


def test_the_sliders_move_in_whole_steps_and_read_out_whole_numbers() -> None:
    rate, cost = widgets.lag_explorer(seed=3).children[0].children

    assert (1, 1) == (rate.step, cost.step)
    assert ["20", "30"] == [format(s.value, s.readout_format) for s in (rate, cost)]


def test_the_summary_is_a_paragraph_that_wraps_between_words_not_inside_them() -> None:
    # Printed text in JupyterLab breaks anywhere (word-break: break-all); a paragraph does not.
    summary = widgets.lag_explorer(seed=3).children[1].outputs[0]

    markup = summary["data"]["text/html"]
    assert markup.startswith("<p ") and markup.endswith("</p>")
    assert "word-break: normal" in markup and "white-space: normal" in markup
    assert "stream" != summary["output_type"]


def test_the_summary_paragraph_escapes_its_text() -> None:
    markup = paragraph_output("a <b> & c")["data"]["text/html"]

    assert ">a &lt;b&gt; &amp; c</p>" in markup
