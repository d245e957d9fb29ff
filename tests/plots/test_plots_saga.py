"""The saga timeline: a row per saga, a bar per step, compensations set apart."""

from __future__ import annotations

from collections.abc import Iterator

import matplotlib

matplotlib.use("Agg")  # before pyplot: no window, no display needed

import matplotlib.pyplot as plt
import pandas as pd
import pytest
from matplotlib.patches import Rectangle

from eventsim import EventStore, plots
from eventsim.sagas import report as saga_report
from eventsim.sagas import saga
from eventsim.sagas.participants import Failures

FORCE = {"order-0002": "payment", "order-0003": "shipping", "order-0005": "dispatch"}


@pytest.fixture(autouse=True)
def close_figures() -> Iterator[None]:
    yield
    plt.close("all")


@pytest.fixture
def bars(store: EventStore) -> pd.DataFrame:
    batch = saga.make_orders(6, seed=4)
    saga.run_orchestrated(store, batch, Failures(force=FORCE))
    return saga_report.timeline(store, [o.order_id for o in batch])


def drawn_bars(ax: plt.Axes) -> list[Rectangle]:
    return [p for p in ax.patches if isinstance(p, Rectangle) and p.get_width() > 0]


def test_every_step_is_a_bar_on_its_sagas_row_from_start_to_end(bars: pd.DataFrame) -> None:
    ax = plots.saga_timeline(bars)

    steps = bars[bars["kind"] != "placed"]
    origin = bars["start"].min()
    expected = sorted(
        (
            round((row.start - origin).total_seconds() / 60, 6),
            round((row.end - origin).total_seconds() / 60, 6),
            int(row.order_id[-4:]) - 1,
        )
        for row in steps.itertuples()
    )
    actual = sorted(
        (round(p.get_x(), 6), round(p.get_x() + p.get_width(), 6), round(p.get_y() + 0.31))
        for p in drawn_bars(ax)
    )
    assert expected == actual


def test_compensations_and_failures_are_hatched_and_coloured_apart_from_progress(
    bars: pd.DataFrame,
) -> None:
    ax = plots.saga_timeline(bars)

    by_hatch: dict[str | None, int] = {}
    for patch in drawn_bars(ax):
        by_hatch[patch.get_hatch() or None] = by_hatch.get(patch.get_hatch() or None, 0) + 1
    counts = bars["kind"].value_counts()
    expected = {None: counts["forward"], "xx": counts["failed"], "///": counts["compensation"]}
    assert expected == by_hatch
    colours = {tuple(p.get_facecolor()) for p in drawn_bars(ax)}
    assert 3 == len(colours)


def test_the_rows_are_the_orders_first_on_top_with_each_outcome_written_at_the_end(
    bars: pd.DataFrame,
) -> None:
    ax = plots.saga_timeline(bars)

    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert [f"order-{i:04d}" for i in range(1, 7)] == labels
    assert ax.yaxis_inverted()
    outcomes = [t.get_text() for t in ax.texts]
    assert [
        "delivered",
        "cancelled",
        "cancelled",
        "delivered",
        "cancelled",
        "delivered",
    ] == outcomes


def test_the_legend_names_each_kind_and_the_axes_say_their_units(bars: pd.DataFrame) -> None:
    ax = plots.saga_timeline(bars)

    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert {"step done", "step failed", "compensation (undo, cancel)", "order placed"} == set(
        legend
    )
    assert "minutes" in ax.get_xlabel()
    assert "6 sagas" in ax.get_title()
    assert all(t.get_fontsize() >= 10 for t in [*ax.get_yticklabels(), *ax.texts])


def test_the_timeline_draws_on_the_axes_it_is_given_and_grows_with_many_sagas(
    store: EventStore,
) -> None:
    batch = saga.make_orders(25, seed=1)
    saga.run_choreographed(store, batch, Failures(payment=0.2, seed=1))
    many = saga_report.timeline(store, [o.order_id for o in batch])
    _, given = plt.subplots()

    assert given is plots.saga_timeline(many, ax=given, title="mine")
    assert "mine" == given.get_title()
    height = plots.saga_timeline(many).figure.get_size_inches()[1]
    assert height > plots.FIGSIZE[1]
