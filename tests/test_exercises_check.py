"""The exercise checks: one line each, never raising, never running on an empty answer."""

from __future__ import annotations

import pytest

from eventsim.exercises import check


def test_a_check_on_an_empty_answer_says_not_done_and_runs_none_of_its_asserts(
    capsys: pytest.CaptureFixture[str],
) -> None:
    ran = []

    @check("Exercise 3", 1, ...)
    def outcome() -> None:
        ran.append(True)

    assert "not done" == outcome
    assert [] == ran
    assert capsys.readouterr().out.startswith("Exercise 3: not done yet.")


def test_a_function_answer_still_raising_not_implemented_counts_as_not_done() -> None:
    def evolve(state: int, event: int) -> int:
        raise NotImplementedError

    @check("Exercise 1", evolve)
    def outcome() -> None:
        assert evolve(1, 2) == 3

    assert "not done" == outcome


def test_a_failed_assert_prints_only_the_first_line_of_its_hint(
    capsys: pytest.CaptureFixture[str],
) -> None:
    @check("Exercise 2", 41)
    def outcome() -> None:
        raise AssertionError("count the deposits too\nexpected: 42")

    assert "not right" == outcome
    assert "Exercise 2: not yet right. count the deposits too\n" == capsys.readouterr().out


def test_an_error_in_the_learners_code_is_reported_not_raised(
    capsys: pytest.CaptureFixture[str],
) -> None:
    @check("Exercise 2", "x")
    def outcome() -> None:
        int("x")

    assert "not right" == outcome
    assert "your answer raised ValueError" in capsys.readouterr().out


def test_a_check_whose_asserts_hold_says_correct(capsys: pytest.CaptureFixture[str]) -> None:
    @check("Exercise 4", 42)
    def outcome() -> None:
        assert 42 == 6 * 7

    assert "correct" == outcome
    assert "Exercise 4: correct!\n" == capsys.readouterr().out
