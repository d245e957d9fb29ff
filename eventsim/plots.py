"""Figures for the notebooks: balances rebuilt from events, for one account or a whole bank.

Each helper takes data the package already produces (``replay.history``,
``replay.all_states``, ``EventStore.sql``) and an optional ``ax``. It draws, sets a title,
axis labels with units and a legend, and returns the Axes. It never calls ``plt.show()``:
the notebook shows the figure when the cell ends (``ax = plots.balance_history(...)``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal

import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.ticker import MaxNLocator, StrMethodFormatter

FIGSIZE = (9.0, 4.5)
# event type -> (marker, colour, legend label)
MARKERS = {
    "AccountOpened": ("o", "tab:blue", "account opened"),
    "MoneyDeposited": ("^", "tab:green", "deposit"),
    "MoneyWithdrawn": ("v", "tab:red", "withdrawal"),
    "AccountClosed": ("X", "black", "account closed"),
}
BACKGROUND = "0.75"
MEDIAN = "tab:purple"


def new_axes() -> Axes:
    """A fresh figure of the course's size, with one Axes."""
    _, ax = plt.subplots(figsize=FIGSIZE, layout="constrained")
    return ax


def _dollars(ax: Axes) -> None:
    ax.yaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))


def _time_axis(ax: Axes) -> None:
    # matplotlib.dates ships without annotations for these two constructors.
    locator = mdates.AutoDateLocator()  # type: ignore[no-untyped-call]
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))  # type: ignore[no-untyped-call]
    ax.set_xlabel("time (UTC)")


def _legend(ax: Axes) -> None:
    # Outside the axes, on the right: a legend inside would hide the latest events.
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=10, frameon=False)


def balance_history(
    history_df: pd.DataFrame,
    *,
    crud_balance: Decimal | float | None = None,
    title: str | None = None,
    ax: Axes | None = None,
) -> Axes:
    """The balance after each event of one account, as steps, with a marker per event.

    ``history_df`` is ``replay.history(store, stream_id)``. ``crud_balance``, if given, is
    drawn as a dashed line: the one number a state-based row keeps.
    """
    ax = ax if ax is not None else new_axes()
    times = history_df["timestamp"]
    balances = history_df["state_balance"].astype(float)
    ax.step(
        times,
        balances,
        where="post",
        color="tab:blue",
        linewidth=1.5,
        label="balance rebuilt from events",
    )
    for event_type, rows in history_df.groupby("event_type", sort=False):
        marker, colour, label = MARKERS.get(str(event_type), ("o", "tab:gray", str(event_type)))
        ax.scatter(
            rows["timestamp"],
            rows["state_balance"].astype(float),
            marker=marker,
            color=colour,
            s=45,
            zorder=3,
            label=label,
        )
    if crud_balance is not None:
        ax.axhline(
            float(crud_balance),
            color="tab:orange",
            linestyle="--",
            linewidth=1.5,
            label=f"state-based row keeps ${float(crud_balance):,.2f}",
        )
    ax.set_title(title or f"Balance rebuilt from {len(history_df)} events")
    ax.set_ylabel("balance ($)")
    _dollars(ax)
    _time_axis(ax)
    _legend(ax)
    return ax


def balances_over_time(
    running_df: pd.DataFrame, *, highlight: Sequence[str] = (), ax: Axes | None = None
) -> Axes:
    """Every account's balance over time in grey, the ``highlight`` accounts in colour.

    ``running_df`` has one row per event with columns ``account_id``, ``timestamp`` and
    ``balance`` (the balance right after that event), e.g. from a SQL window sum.
    """
    ax = ax if ax is not None else new_axes()
    ordered = running_df.sort_values(["account_id", "timestamp"], kind="stable")
    accounts = ordered.groupby("account_id", sort=True)
    for i, (_, rows) in enumerate(accounts):
        ax.step(
            rows["timestamp"],
            rows["balance"].astype(float),
            where="post",
            color=BACKGROUND,
            linewidth=0.6,
            label="all accounts" if i == 0 else None,
        )
    for account_id in highlight:
        rows = ordered[ordered["account_id"] == account_id]
        ax.step(
            rows["timestamp"],
            rows["balance"].astype(float),
            where="post",
            linewidth=2,
            label=account_id,
        )
    ax.set_title(f"Balances of {accounts.ngroups} accounts, rebuilt from {len(ordered):,} events")
    ax.set_ylabel("balance ($)")
    _dollars(ax)
    _time_axis(ax)
    _legend(ax)
    return ax


def month_end_balances(
    month_end_df: pd.DataFrame, *, highlight: Sequence[str] = (), ax: Axes | None = None
) -> Axes:
    """The spread of all balances at each month end as box plots, ``highlight`` as lines.

    ``month_end_df`` has columns ``as_of`` (the month end), ``account_id`` and ``balance``:
    ``replay.all_states`` at each month end, stacked.
    """
    ax = ax if ax is not None else new_axes()
    months = sorted(month_end_df["as_of"].unique())
    groups = [month_end_df[month_end_df["as_of"] == m] for m in months]
    positions = np.arange(1, len(months) + 1)
    labels = [
        f"{pd.Timestamp(m):%b %d}\n{len(g)} accounts" for m, g in zip(months, groups, strict=True)
    ]
    ax.boxplot(
        [g["balance"].astype(float).to_numpy() for g in groups],
        positions=positions,
        tick_labels=labels,
        widths=0.5,
        medianprops={"color": MEDIAN, "linewidth": 2},
        flierprops={"marker": ".", "markersize": 4, "markeredgecolor": BACKGROUND},
    )
    for account_id in highlight:
        by_month = [g.loc[g["account_id"] == account_id, "balance"].astype(float) for g in groups]
        values = [s.iloc[0] if len(s) else np.nan for s in by_month]
        ax.plot(positions, values, marker="o", linewidth=2, label=account_id)
    ax.plot([], [], color=MEDIAN, linewidth=2, label="median of all accounts")
    ax.set_title("Balances of all accounts at each month end")
    ax.set_xlabel("month end (23:59:59 UTC)")
    ax.set_ylabel("balance ($)")
    _dollars(ax)
    _legend(ax)
    return ax


def storage_growth(log_df: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """How many rows each model keeps as time goes by: the event log against a state table.

    ``log_df`` has one row per event with ``stream_id`` and ``timestamp``. The state table
    keeps one row per stream seen so far; the log keeps every event.
    """
    ax = ax if ax is not None else new_axes()
    ordered = log_df.sort_values("timestamp", kind="stable")
    log_rows = np.arange(1, len(ordered) + 1)
    table_rows = (~ordered["stream_id"].duplicated()).cumsum().to_numpy()
    streams = int(table_rows[-1]) if len(table_rows) else 0
    ax.step(
        ordered["timestamp"],
        log_rows,
        where="post",
        linewidth=2,
        label=f"event log: {len(ordered):,} rows, one per event",
    )
    ax.step(
        ordered["timestamp"],
        table_rows,
        where="post",
        linewidth=2,
        label=f"state table: {streams:,} rows, one per account",
    )
    ax.set_title("Rows kept by each model as the bank runs")
    ax.set_ylabel("rows kept")
    ax.yaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))
    _time_axis(ax)
    _legend(ax)
    return ax


# -- choosing a pattern ----------------------------------------------------------------------
def pattern_pushes(weights_df: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """Which "yes" pushes toward (green) or away from (purple) which pattern, by how much.

    ``weights_df`` is ``patterns.weights()``: one row per question, one column per pattern.
    """
    ax = ax if ax is not None else new_axes()
    values = weights_df.to_numpy(dtype=float)
    limit = max(1.0, float(np.abs(values).max()))
    image = ax.imshow(values.T, cmap="PRGn", vmin=-limit, vmax=limit, aspect="auto")
    for (row, column), value in np.ndenumerate(values.T):
        if value:
            dark = abs(value) > 0.7 * limit  # white digits on the darkest cells
            colour = "white" if dark else "black"
            ax.text(column, row, f"{value:+.0f}", ha="center", va="center", fontsize=11, c=colour)
    ax.set_xticks(range(len(weights_df.index)), weights_df.index, rotation=40, ha="right")
    ax.set_yticks(range(len(weights_df.columns)), weights_df.columns)
    ax.tick_params(labelsize=10)
    ax.set_title('How a "yes" to each question moves each pattern\'s score')
    ax.set_xlabel("question answered yes")
    ax.set_ylabel("pattern")
    colorbar = ax.figure.colorbar(image, ax=ax, shrink=0.9)
    colorbar.set_label("push on the score (points)")
    return ax


# -- snapshots and schema evolution ----------------------------------------------------------
def replay_cost(costs_df: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """Events folded to load a stream, against its length, one line per snapshot interval.

    ``costs_df`` is ``snapshots.rehydration_cost(...)``: columns ``interval`` (0: no
    snapshots), ``stream_length`` and ``events_folded``.
    """
    ax = ax if ax is not None else new_axes()
    for interval, group in costs_df.groupby("interval", sort=True):
        label = "no snapshots" if interval == 0 else f"snapshot every {interval} events"
        ordered = group.sort_values("stream_length")
        ax.plot(ordered["stream_length"], ordered["events_folded"], linewidth=2, label=label)
    ax.set_title("Rehydration cost: events folded to load one stream")
    ax.set_xlabel("stream length (events)")
    ax.set_ylabel("events folded per load")
    _legend(ax)
    return ax


def snapshot_tradeoff(costs_df: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """Per snapshot interval: bytes of snapshots written against mean events folded per load."""
    ax = ax if ax is not None else new_axes()
    summary = costs_df.groupby("interval", sort=True).agg(
        folded=("events_folded", "mean"), kib=("snapshot_bytes", "max")
    )
    summary["kib"] = summary["kib"] / 1024
    summary = summary.sort_values("kib")  # left to right: more storage, less work
    ax.plot(summary["kib"], summary["folded"], marker="o", markersize=8, linewidth=1.5)
    for interval, row in summary.iterrows():
        label = "no snapshots" if interval == 0 else f"every {interval}"
        ax.annotate(
            label,
            (row["kib"], row["folded"]),
            xytext=(8, 6),
            textcoords="offset points",
            fontsize=10,
        )
    ax.set_title("Snapshots trade storage for replay work")
    ax.set_xlabel("snapshot state written (KiB)")
    ax.set_ylabel("mean events folded per load")
    ax.margins(x=0.15, y=0.1)
    return ax


def upcast_vs_copy(
    steps_per_read: int, events_copied: int, reads: int, *, ax: Axes | None = None
) -> Axes:
    """Cumulative work of upcast-on-read (steps on every read) against a one-off copy."""
    ax = ax if ax is not None else new_axes()
    n = np.arange(0, reads + 1)
    ax.plot(
        n,
        n * steps_per_read,
        linewidth=2,
        label=f"upcast on read: {steps_per_read} steps per full read",
    )
    ax.plot(
        n,
        np.full_like(n, events_copied),
        linewidth=2,
        label=f"copy and transform: {events_copied} events written once",
    )
    ax.set_title("Upcast on read against copy-and-transform: cumulative work")
    ax.set_xlabel("full reads of the store after the change")
    ax.set_ylabel("work (upcaster steps or events written)")
    ax.set_ylim(bottom=0)
    ax.legend(loc="upper left", fontsize=10, frameon=False)  # the upper left stays empty
    return ax


# -- storage, archiving and the audit trail ----------------------------------------------
def storage_bytes(growth_df: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """Bytes kept by the event log and by a state table, day by day.

    ``growth_df`` is ``storage.growth_by_day(...)``: columns ``day``, ``log_bytes`` and
    ``state_bytes`` (cumulative).
    """
    ax = ax if ax is not None else new_axes()
    kb = 1000.0
    log_kb, state_kb = growth_df["log_bytes"] / kb, growth_df["state_bytes"] / kb
    last_log = float(log_kb.iloc[-1]) if len(log_kb) else 0.0
    last_state = float(state_kb.iloc[-1]) if len(state_kb) else 0.0
    ax.plot(growth_df["day"], log_kb, linewidth=2, label=f"event log: {last_log:,.0f} kB")
    ax.plot(growth_df["day"], state_kb, linewidth=2, label=f"state table: {last_state:,.0f} kB")
    ax.set_title("Bytes kept by each model as time goes by (raw text, before compression)")
    ax.set_ylabel("size (kB)")
    ax.yaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))
    _time_axis(ax)
    _legend(ax)
    return ax


def causation_graph(layout: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """A flow's causation tree: each event a box, an arrow from each cause to its effect.

    ``layout`` is ``audit.tree_layout(...)``; boxes are coloured by stream.
    """
    ax = ax if ax is not None else new_axes()
    cmap = plt.get_cmap("tab10")
    colours = {
        stream: cmap(i % 10) for i, stream in enumerate(sorted(layout["stream_id"].unique()))
    }
    where = {
        str(event_id): (float(depth), -float(row))
        for event_id, depth, row in zip(
            layout["event_id"], layout["depth"], layout["row"], strict=True
        )
    }
    for r in layout.itertuples():
        box = {"boxstyle": "round", "facecolor": colours[r.stream_id], "alpha": 0.35}
        label = _two_lines(str(r.event_type))
        if not isinstance(r.parent, str):  # a root: no cause in this flow
            ax.text(*where[str(r.event_id)], label, ha="center", va="center", fontsize=10, bbox=box)
            continue
        # The arrow leaves the cause's right side and is clipped at the effect's box.
        x0, y0 = where[r.parent]
        ax.annotate(
            label,
            xy=(x0 + 0.36, y0),
            xytext=where[str(r.event_id)],
            ha="center",
            va="center",
            fontsize=10,
            bbox=box,
            arrowprops={"arrowstyle": "<|-", "color": "0.35", "shrinkB": 0},
        )
    for stream, colour in colours.items():
        ax.scatter([], [], marker="s", s=100, color=colour, alpha=0.35, label=stream)
    ax.set_xlim(-0.6, layout["depth"].max() + 0.6)
    ax.set_ylim(-layout["row"].max() - 0.6, 0.6)
    ax.set_xticks(range(int(layout["depth"].max()) + 1))
    ax.set_yticks([])
    ax.set_xlabel("causal depth (steps from the first event)")
    ax.set_title("Causation graph: which event caused which")
    _legend(ax)
    return ax


def _two_lines(event_type: str) -> str:
    """``InventoryReserved`` -> ``Inventory`` / ``Reserved``: narrower boxes, no overlap."""
    capitals = [i for i, ch in enumerate(event_type) if ch.isupper()]
    cut = capitals[1] if len(capitals) > 1 else len(event_type)
    return f"{event_type[:cut]}\n{event_type[cut:]}".rstrip()


# -- event-driven architecture and idempotency ----------------------------------------
def delivery_outcomes(stats: Mapping[str, Mapping[str, int]], *, ax: Axes | None = None) -> Axes:
    """What a broker did, per run: bars of deliveries, duplicates, crashes, retries...

    ``stats`` maps a run's label to its counters (``Broker.stats.as_dict()``).
    """
    ax = ax if ax is not None else new_axes()
    kinds = ["delivered", "acked", "duplicates", "reordered", "delayed", "crashes", "failures"]
    kinds += ["dead_lettered"]
    width = 0.8 / max(len(stats), 1)
    positions = np.arange(len(kinds))
    for i, (label, counts) in enumerate(stats.items()):
        values = [counts.get(kind, 0) for kind in kinds]
        bars = ax.bar(positions + i * width, values, width, label=label)
        ax.bar_label(bars, fontsize=9, padding=2)
    ax.set_xticks(positions + width * (len(stats) - 1) / 2, [k.replace("_", "\n") for k in kinds])
    ax.set_title("What the broker did: deliveries and injected faults")
    ax.set_xlabel("outcome")
    ax.set_ylabel("messages")
    ax.margins(y=0.15)
    _legend(ax)
    return ax


def double_charges(runs: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """Orders charged twice against the duplicate rate, one line per consumer.

    ``runs`` has columns ``duplicate_rate``, ``consumer`` and ``double_charged``.
    """
    ax = ax if ax is not None else new_axes()
    for consumer, rows in runs.groupby("consumer", sort=True):
        rows = rows.sort_values("duplicate_rate")
        ax.plot(
            rows["duplicate_rate"] * 100,
            rows["double_charged"],
            marker="o",
            linewidth=2,
            label=f"{consumer} consumer",
        )
    ax.set_title("Orders charged more than once under duplicate deliveries")
    ax.set_xlabel("duplicate deliveries (% of messages)")
    ax.set_ylabel("orders charged twice or more")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    _legend(ax)
    return ax


def producer_latency(latency: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """The producer's wait per order, calling its consumers or publishing, in virtual ticks.

    ``latency`` is ``mediator.producer_latency(costs)``.
    """
    ax = ax if ax is not None else new_axes()
    x = latency["consumers"]
    # Drawn first and wide: it coincides with the waiting line, and both must show.
    ax.plot(
        x,
        latency["all consumers done"],
        color=BACKGROUND,
        linewidth=7,
        label="consumers' work done (ticks after publish)",
    )
    ax.plot(x, latency["waiting"], marker="o", linewidth=2, label="producer calls and waits")
    ax.plot(x, latency["publishing"], marker="s", linewidth=2, label="producer publishes")
    ax.set_title("Temporal decoupling: the producer's wait per order")
    ax.set_xlabel("number of consumers")
    ax.set_ylabel("producer latency (ticks)")
    ax.set_xticks(list(x))
    _legend(ax)
    return ax


# -- sagas -----------------------------------------------------------------------------
# timeline kind -> (colour, hatch, legend label): an undo must not look like progress.
SAGA_KINDS = {
    "forward": ("tab:blue", "", "step done"),
    "failed": ("tab:red", "xx", "step failed"),
    "compensation": ("tab:orange", "///", "compensation (undo, cancel)"),
}
SAGA_OUTCOME = {"OrderDelivered": "delivered", "OrderCancelled": "cancelled"}


def saga_timeline(
    timeline_df: pd.DataFrame, *, title: str | None = None, ax: Axes | None = None
) -> Axes:
    """Each saga a row, each step a bar in virtual minutes, compensations hatched in orange.

    ``timeline_df`` is ``saga_report.timeline(store, order_ids)``: one row per event with
    ``order_id``, ``step``, ``start``, ``end`` and ``kind`` (placed, forward, failed,
    compensation). A dot marks when each order was placed.
    """
    orders = sorted(timeline_df["order_id"].unique())
    if ax is None:  # a taller figure for many sagas, so each row stays readable
        _, ax = plt.subplots(
            figsize=(FIGSIZE[0], max(FIGSIZE[1], 1.6 + 0.24 * len(orders))), layout="constrained"
        )
    row = {order_id: i for i, order_id in enumerate(orders)}
    origin = timeline_df["start"].min()
    y = timeline_df["order_id"].map(row)
    left = (timeline_df["start"] - origin).dt.total_seconds() / 60
    width = (timeline_df["end"] - timeline_df["start"]).dt.total_seconds() / 60
    for kind, (colour, hatch, label) in SAGA_KINDS.items():
        rows = timeline_df["kind"] == kind
        ax.barh(
            y[rows],
            width[rows],
            left=left[rows],
            height=0.62,
            color=colour,
            hatch=hatch,
            edgecolor="white" if not hatch else "black",
            linewidth=0.6,
            label=label,
        )
    placed = timeline_df["kind"] == "placed"
    ax.scatter(left[placed], y[placed], color="black", s=14, zorder=3, label="order placed")
    last = timeline_df.groupby("order_id").tail(1)
    for _, event in last.iterrows():
        end = (event["end"] - origin).total_seconds() / 60
        outcome = SAGA_OUTCOME.get(str(event["step"]), "open")
        ax.text(end + 1, row[event["order_id"]], outcome, va="center", fontsize=10)
    ax.set_yticks(range(len(orders)), orders, fontsize=10)
    ax.invert_yaxis()  # the first order on top, as in a table
    ax.set_xlim(0, float((left + width).max()) * 1.12 + 1)
    ax.set_title(title or f"{len(orders)} sagas in virtual time")
    ax.set_xlabel("virtual minutes since the first order was placed")
    ax.set_ylabel("saga (order)")
    ax.grid(axis="x", alpha=0.3)
    _legend(ax)
    return ax


# -- projections and eventual consistency ---------------------------------------------------
def lag_over_time(
    lag_df: pd.DataFrame, *, threshold: float | None = None, ax: Axes | None = None
) -> Axes:
    """A projection's lag over virtual time, in events behind the log, with an alert line.

    ``lag_df`` is ``consistency.lag_over_time(...)``: columns ``time`` (s) and
    ``events_behind``.
    """
    ax = ax if ax is not None else new_axes()
    ax.step(
        lag_df["time"], lag_df["events_behind"], where="post", linewidth=1.5, label="events behind"
    )
    if threshold is not None:
        ax.axhline(
            threshold,
            color="tab:red",
            linestyle="--",
            linewidth=1.5,
            label=f"alert at > {threshold:g}",
        )
    ax.set_title(f"Projection lag over {lag_df['time'].max():g} s of simulated traffic")
    ax.set_xlabel("simulated time (s)")
    ax.set_ylabel("events behind the log")
    ax.set_ylim(bottom=0)
    _legend(ax)
    return ax


def stale_read_probability(grid_df: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """The share of stale reads against the write rate, one line per handler cost.

    ``grid_df`` is ``consistency.stale_read_grid(...)``.
    """
    ax = ax if ax is not None else new_axes()
    for cost, rows in grid_df.groupby("handler_cost", sort=True):
        ax.plot(
            rows["write_rate"],
            rows["stale_probability"],
            marker="o",
            linewidth=2,
            label=f"{float(cost) * 1000:g} ms per event",  # type: ignore[arg-type]
        )
    ax.set_title("Stale reads grow with the write rate and the handler cost")
    ax.set_xlabel("write rate (events per second)")
    ax.set_ylabel("share of reads that are stale")
    ax.set_ylim(0, 1.05)
    ax.yaxis.set_major_formatter(StrMethodFormatter("{x:.0%}"))
    _legend(ax)
    return ax


def delay_by_delivery(delays_df: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """Median and 95th-percentile delay until an event is visible, per delivery mode.

    ``delays_df`` is ``consistency.polling_vs_push(...)``.
    """
    ax = ax if ax is not None else new_axes()
    positions = np.arange(len(delays_df))
    ax.bar(positions - 0.2, delays_df["median_delay"], width=0.4, label="median")
    ax.bar(positions + 0.2, delays_df["p95_delay"], width=0.4, label="95th percentile")
    ax.set_xticks(positions, list(delays_df["mode"]))
    ax.set_title("Delay from write to read model: subscription (push) against polling")
    ax.set_xlabel("how the projector learns about new events")
    ax.set_ylabel("delay until visible (s)")
    _legend(ax)
    return ax
