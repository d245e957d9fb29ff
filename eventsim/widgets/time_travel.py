"""The time-travel slider over one account's history (notebook 01).

The slider is a thin builder around pure functions (``statement``, ``time_travel_frame``,
``describe_frame``) that tests and notebooks call directly, so a static notebook can
print exactly what the slider shows at a given position.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import ipywidgets
import pandas as pd
from matplotlib.figure import Figure

from eventsim import plots
from eventsim.catalog import EventStore
from eventsim.errors import InvalidArgument
from eventsim.replay import history
from eventsim.widgets.figures import png_output, text_output

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
    return (
        text_output(describe_frame(frame)),
        png_output(figure, f"<balance up to version {version}>"),
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
