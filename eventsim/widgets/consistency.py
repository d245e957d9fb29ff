"""The lag explorer (notebook 05): write rate and handler cost against projection lag."""

from __future__ import annotations

from typing import Any

import ipywidgets
from matplotlib.figure import Figure

from eventsim import plots
from eventsim.cqrs import consistency
from eventsim.widgets.figures import paragraph_output, png_output


def lag_explorer_view(
    write_rate: float, handler_cost_ms: float, *, seed: int = 42, duration: float = 60.0
) -> dict[str, Any]:
    """What the lag explorer shows for one write rate and handler cost (in milliseconds).

    >>> view = lag_explorer_view(10, 20, seed=1)
    >>> view["utilization"], view["keeps_up"]
    (0.2, True)
    """
    workload = consistency.Workload(
        write_rate=write_rate, handler_cost=handler_cost_ms / 1000, duration=duration
    )
    sim = consistency.simulate(workload, seed=seed)
    lag = consistency.lag_over_time(sim)
    utilization = round(workload.utilization, 6)
    view = {
        "utilization": utilization,
        "keeps_up": utilization < 1,
        "stale_probability": consistency.stale_read_probability(sim),
        "max_events_behind": int(lag["events_behind"].max()),
        "max_seconds_behind": float(lag["seconds_behind"].max()),
        "lag": lag,
    }
    verdict = "keeps up" if view["keeps_up"] else "falls further behind every second"
    view["summary"] = (
        f"{write_rate:g} writes/s x {handler_cost_ms:g} ms = {utilization:.0%} busy: the "
        f"projector {verdict}; {view['stale_probability']:.0%} of reads are stale; "
        f"at worst {view['max_events_behind']} events ({view['max_seconds_behind']:.2f} s) behind"
    )
    return view


def _whole_number_slider(value: int, description: str) -> ipywidgets.FloatSlider:
    """From 1 to 60 in whole steps, read out as "20" rather than the default "20.00"."""
    return ipywidgets.FloatSlider(
        value=value,
        min=1,
        max=60,
        step=1,
        readout_format=".0f",
        description=description,
        continuous_update=False,
    )


def lag_explorer(*, seed: int = 42) -> ipywidgets.VBox:
    """Sliders for the write rate and the handler cost; the lag plot and stale reads follow."""
    rate = _whole_number_slider(20, "writes/s")
    cost = _whole_number_slider(30, "cost (ms)")
    output = ipywidgets.Output()

    def show(_: object = None) -> None:
        view = lag_explorer_view(rate.value, cost.value, seed=seed)
        figure = Figure(figsize=plots.FIGSIZE, layout="constrained")
        plots.lag_over_time(view["lag"], ax=figure.subplots())
        summary = paragraph_output(view["summary"])
        output.outputs = (summary, png_output(figure, "<projection lag>"))

    rate.observe(show, names="value")
    cost.observe(show, names="value")
    show()
    return ipywidgets.VBox([ipywidgets.HBox([rate, cost]), output])
