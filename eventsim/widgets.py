"""Widgets for the notebooks: a time-travel slider over one account's history.

The slider is a thin builder around pure functions (``statement``, ``time_travel_frame``,
``describe_frame``) that tests and notebooks call directly, so a static notebook can
print exactly what the slider shows at a given position.
"""

from __future__ import annotations

import base64
import io
from decimal import Decimal
from typing import Any

import ipywidgets
import pandas as pd
from matplotlib.figure import Figure

from eventsim import plots
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
    from eventsim import consistency

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
