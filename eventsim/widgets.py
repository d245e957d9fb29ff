"""Widgets for the notebooks: a time-travel slider over one account's history.

The slider is a thin builder around pure functions (``statement``, ``time_travel_frame``,
``describe_frame``) that tests and notebooks call directly, so a static notebook can
print exactly what the slider shows at a given position.
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import ipywidgets
import pandas as pd
from matplotlib.figure import Figure

from eventsim import plots
from eventsim.choosing import patterns
from eventsim.errors import InvalidArgument
from eventsim.replay import history
from eventsim.store import EventStore

CENT = Decimal("0.01")


def statement(history_df: pd.DataFrame) -> pd.DataFrame:
    """One row per event, like a bank statement: version, time, type, amount, balance after.

    ``history_df`` is ``replay.history(store, stream_id)``; ``amount`` is empty for events
    that move no money.
    """
    amounts = pd.Series(
        [_cents(data["amount"]) if "amount" in data else None for data in history_df["data"]],
        index=history_df.index,
        dtype=object,
    )
    balances = history_df["state_balance"].map(_cents)
    columns = ["version", "timestamp", "event_type", "amount", "balance"]
    return history_df.assign(amount=amounts, balance=balances)[columns].reset_index(drop=True)


def _cents(amount: object) -> Decimal:
    return Decimal(str(amount)).quantize(CENT)


def time_travel_frame(history_df: pd.DataFrame, version: int) -> dict[str, Any]:
    """What the account looked like right after ``version``, and the events that led there.

    >>> from eventsim import EventStore, bank
    >>> store = EventStore()
    >>> opened, deposited = bank.AccountOpened("Ada"), bank.MoneyDeposited(Decimal(1000))
    >>> store.append("account-42", [opened, deposited], expected_version=0)
    2
    >>> frame = time_travel_frame(history(store, "account-42"), 1)
    >>> frame["event_type"], frame["balance"], len(frame["events"])
    ('AccountOpened', Decimal('0'), 1)
    """
    last = int(history_df["version"].max()) if len(history_df) else 0
    if isinstance(version, bool) or not isinstance(version, int) or not 1 <= version <= last:
        raise InvalidArgument(f"version must be a whole number from 1 to {last}, got {version!r}")
    upto = history_df[history_df["version"] <= version]
    row = upto.iloc[-1]
    return {
        "version": version,
        "last_version": last,
        "timestamp": row["timestamp"],
        "event_type": row["event_type"],
        "balance": row["state_balance"],
        "status": row["state_status"],
        "events": statement(upto),
    }


def describe_frame(frame: dict[str, Any], *, last: int = 5) -> str:
    """The frame as text: where we are, the state then, and the ``last`` events up to it."""
    events = frame["events"].tail(last)
    shown = pd.DataFrame(
        {
            "version": events["version"],
            "time (UTC)": [f"{pd.Timestamp(t):%Y-%m-%d %H:%M}" for t in events["timestamp"]],
            "event": events["event_type"],
            "amount ($)": ["" if a is None else f"{a:,.2f}" for a in events["amount"]],
            "balance ($)": [f"{b:,.2f}" for b in events["balance"]],
        }
    )
    earlier = len(frame["events"]) - len(events)
    return "\n".join(
        [
            f"version {frame['version']} of {frame['last_version']}, "
            f"{pd.Timestamp(frame['timestamp']):%Y-%m-%d %H:%M:%S} UTC ({frame['event_type']})",
            f"balance ${frame['balance']:,.2f}, status {frame['status']}",
            shown.to_string(index=False),
            *([f"... and {earlier} earlier events"] if earlier else []),
        ]
    )


def _frame_outputs(history_df: pd.DataFrame, version: int) -> tuple[dict[str, Any], ...]:
    """The Output widget's content for one slider position: the text, then the plot."""
    frame = time_travel_frame(history_df, version)
    figure = Figure(figsize=plots.FIGSIZE, layout="constrained")
    ax = figure.subplots()
    plots.balance_history(
        history_df[history_df["version"] <= version],
        ax=ax,
        title=f"Replayed up to version {version} of {frame['last_version']}",
    )
    # Fixed limits: the axes stay put while the line grows with the slider.
    first, last = history_df["timestamp"].min(), history_df["timestamp"].max()
    margin = (last - first) * 0.03
    ax.set_xlim(first - margin, last + margin)
    ax.set_ylim(0, max(1.0, 1.08 * float(history_df["state_balance"].astype(float).max())))
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=80)
    png = base64.b64encode(buffer.getvalue()).decode("ascii")
    return (
        {"output_type": "stream", "name": "stdout", "text": describe_frame(frame) + "\n"},
        {
            "output_type": "display_data",
            "metadata": {},
            "data": {"image/png": png, "text/plain": f"<balance up to version {version}>"},
        },
    )


def time_travel(store: EventStore, stream_id: str) -> ipywidgets.VBox:
    """A slider over the stream's versions; the account's state and balance follow it."""
    events = history(store, stream_id)
    last = int(events["version"].max())
    slider = ipywidgets.IntSlider(
        value=last, min=1, max=last, description="version", continuous_update=False
    )
    output = ipywidgets.Output()

    def show(version: int) -> None:
        output.outputs = _frame_outputs(events, version)

    slider.observe(lambda change: show(change["new"]), names="value")
    show(slider.value)
    caption = ipywidgets.Label(f"{stream_id}: move the slider to replay up to a version")
    return ipywidgets.VBox([caption, slider, output])


# -- choosing a pattern ----------------------------------------------------------------------
def _link(notebook: str) -> str:
    name = html.escape(notebook)
    return f'<a href="{name}" target="_blank">{html.escape(notebook.removesuffix(".ipynb"))}</a>'


def render_recommendation(rec: patterns.Recommendation) -> str:
    """The recommendation as HTML: verdict, scores, reasons and costs linked to notebooks.

    >>> print(render_recommendation(patterns.recommend({"audit_required": True})).splitlines()[1])
    <h4>Recommendation: event sourcing alone</h4>
    """
    scores = ", ".join(f"{p.value} {rec.scores[p]:+d}" for p in patterns.Pattern)
    parts = [
        f"<h4>Recommendation: {html.escape(rec.verdict)}</h4>",
        f"<p>Scores: {html.escape(scores)} (a pattern is used when its score is above 0)</p>",
    ]
    if not rec.reasons:
        parts.append("<p>No answer calls for any of the three: one model, one database.</p>")
    else:
        reasons = [
            f"<li>{'&#9650;' if r.weight > 0 else '&#9660;'} {html.escape(r.pattern.value)} "
            f"{r.weight:+d} (<code>{html.escape(r.question)}</code>): "
            f"{html.escape(r.why)} ({_link(r.notebook)})</li>"
            for r in rec.reasons
        ]
        parts += ["<p><b>Why</b></p>", "<ul>", *reasons, "</ul>"]
    if rec.warnings:
        costs = [
            f"<li><b>{html.escape(c.topic)}</b>: {html.escape(c.text)} ({_link(c.notebook)})</li>"
            for c in rec.warnings
        ]
        parts += ["<p><b>Costs you take on</b></p>", "<ul>", *costs, "</ul>"]
    return "\n".join(["<div>", *parts, "</div>"])


def render_best_practices() -> str:
    """The course's best practices as an HTML table, each linked to its notebook."""
    rows = [
        f"<tr><td>{html.escape(p.text)}</td><td>{_link(p.notebook)}</td></tr>"
        for p in patterns.BEST_PRACTICES
    ]
    head = "<tr><th>best practice</th><th>shown in</th></tr>"
    return "\n".join(["<table>", head, *rows, "</table>"])


class HtmlBlock(str):
    """A string that a notebook shows rendered as HTML rather than as markup text."""

    def _repr_html_(self) -> str:
        return str(self)

    def __repr__(self) -> str:
        return f"<HTML, {len(self)} characters>"


def pattern_checklist(answers: Mapping[str, bool] | None = None) -> ipywidgets.VBox:
    """One checkbox per question and a recommendation that follows every tick."""
    start = patterns.checklist() | dict(answers or {})
    patterns.recommend(start)  # refuses bad answers before any widget is built
    boxes = {
        key: ipywidgets.Checkbox(
            value=start[key],
            description=question.text,
            indent=False,
            layout=ipywidgets.Layout(width="auto"),
        )
        for key, question in patterns.QUESTIONS.items()
    }
    panel = ipywidgets.HTML()

    def show(_: object = None) -> None:
        chosen = {key: box.value for key, box in boxes.items()}
        panel.value = render_recommendation(patterns.recommend(chosen))

    for box in boxes.values():
        box.observe(show, names="value")
    show()
    caption = ipywidgets.Label("Tick what is true of your system:")
    return ipywidgets.VBox([caption, *boxes.values(), panel])


# -- projections and eventual consistency ---------------------------------------------------
def lag_explorer_view(
    write_rate: float, handler_cost_ms: float, *, seed: int = 42, duration: float = 60.0
) -> dict[str, Any]:
    """What the lag explorer shows for one write rate and handler cost (in milliseconds).

    >>> view = lag_explorer_view(10, 20, seed=1)
    >>> view["utilization"], view["keeps_up"]
    (0.2, True)
    """
    # Imported here so this topic's section adds no line to the shared imports above.
    from eventsim.cqrs import consistency

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


def lag_explorer(*, seed: int = 42) -> ipywidgets.VBox:
    """Sliders for the write rate and the handler cost; the lag plot and stale reads follow."""
    rate = ipywidgets.FloatSlider(
        value=20, min=1, max=60, step=1, description="writes/s", continuous_update=False
    )
    cost = ipywidgets.FloatSlider(
        value=30, min=1, max=60, step=1, description="cost (ms)", continuous_update=False
    )
    output = ipywidgets.Output()

    def show(_: object = None) -> None:
        view = lag_explorer_view(rate.value, cost.value, seed=seed)
        figure = Figure(figsize=plots.FIGSIZE, layout="constrained")
        plots.lag_over_time(view["lag"], ax=figure.subplots())
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=80)
        png = base64.b64encode(buffer.getvalue()).decode("ascii")
        output.outputs = (
            {"output_type": "stream", "name": "stdout", "text": view["summary"] + "\n"},
            {
                "output_type": "display_data",
                "metadata": {},
                "data": {"image/png": png, "text/plain": "<projection lag>"},
            },
        )

    rate.observe(show, names="value")
    cost.observe(show, names="value")
    show()
    return ipywidgets.VBox([ipywidgets.HBox([rate, cost]), output])
