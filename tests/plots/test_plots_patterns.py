"""The pattern-pushes chart draws each question's weights, labelled, on the Axes given."""

from __future__ import annotations

from collections.abc import Iterator

import matplotlib

matplotlib.use("Agg")  # before pyplot: no window, no display needed

import matplotlib.pyplot as plt
import pandas as pd
import pytest

from eventsim import plots
from eventsim.choosing import patterns


@pytest.fixture(autouse=True)
def close_figures() -> Iterator[None]:
    yield
    plt.close("all")


def test_the_chart_writes_each_nonzero_push_in_its_cell() -> None:
    table = patterns.weights()

    ax = plots.pattern_pushes(table)

    expected = [f"{v:+d}" for v in table.to_numpy().T.ravel() if v]
    assert expected == [text.get_text() for text in ax.texts]


def test_the_chart_has_one_column_per_question_and_one_row_per_pattern() -> None:
    table = patterns.weights()

    ax = plots.pattern_pushes(table)

    assert list(table.index) == [label.get_text() for label in ax.get_xticklabels()]
    assert list(table.columns) == [label.get_text() for label in ax.get_yticklabels()]
    assert (len(table.columns), len(table.index)) == ax.images[0].get_array().shape


def test_the_chart_is_titled_and_labelled_and_drawn_on_the_axes_given() -> None:
    _, given = plt.subplots()
    table = pd.DataFrame({"A": [1, -1]}, index=["q1", "q2"])

    ax = plots.pattern_pushes(table, ax=given)

    assert given is ax
    assert "question answered yes" == ax.get_xlabel()
    assert "pattern" == ax.get_ylabel()
    assert "score" in ax.get_title()
    assert ["+1", "-1"] == [text.get_text() for text in ax.texts]


def test_a_ruled_out_cell_is_framed_and_the_label_says_what_a_frame_means() -> None:
    table = pd.DataFrame({"A": [1, -1], "B": [0, 2]}, index=["q1", "q2"])

    ax = plots.pattern_pushes(table, ruled_out=[("q2", "A")])

    (frame,) = ax.patches
    assert (0.55, -0.45) == frame.get_xy()  # column q2, row A
    assert "rules the pattern out" in ax.get_xlabel()
    assert ["+1", "-1", "+2"] == [text.get_text() for text in ax.texts]
