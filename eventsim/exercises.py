"""Self-checks for the notebooks' exercises: they report, they never stop "Run All".

A check cell wraps its asserts in a function decorated with :func:`check`, naming the
answers it reads. While an answer is still ``...`` (the learner copy's stub) or a function
that raises ``NotImplementedError``, the check says "not done yet" and runs nothing, so it
cannot reveal the expected value. A failed assert prints the first line of its message:
write messages that hint, never the expected value itself.

>>> balance = ...
>>> @check("Exercise 1", balance)
... def _():
...     assert balance == 42, "count the deposits too"
Exercise 1: not done yet. Replace each `...` in the answer cell above, run it, then run this cell.
>>> balance = 41
>>> @check("Exercise 1", balance)
... def _():
...     assert balance == 42, "count the deposits too"
Exercise 1: not yet right. count the deposits too
>>> balance = 42
>>> @check("Exercise 1", balance)
... def _():
...     assert balance == 42, "count the deposits too"
Exercise 1: correct!
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any, Literal

Outcome = Literal["correct", "not done", "not right"]

NOT_DONE = (
    "{exercise}: not done yet. Replace each `...` in the answer cell above, "
    "run it, then run this cell."
)
NOT_RIGHT = "{exercise}: not yet right. {why}"
CORRECT = "{exercise}: correct!"


def check(exercise: str, *answers: Any) -> Callable[[Callable[[], object]], Outcome]:
    """Run the decorated asserts now and print one line; return the outcome."""

    def run(asserts: Callable[[], object]) -> Outcome:
        outcome, line = _outcome(exercise, answers, asserts)
        print(line)
        return outcome

    return run


def _outcome(
    exercise: str, answers: tuple[Any, ...], asserts: Callable[[], object]
) -> tuple[Outcome, str]:
    if any(answer is Ellipsis for answer in answers):
        return "not done", NOT_DONE.format(exercise=exercise)
    try:
        asserts()
    except NotImplementedError:
        return "not done", NOT_DONE.format(exercise=exercise)
    except AssertionError as exc:
        why = _first_line(str(exc)) or "an assert in this cell failed."
        return "not right", NOT_RIGHT.format(exercise=exercise, why=why)
    except Exception as exc:  # the learner's code raised: show what, as a hint
        why = f"your answer raised {type(exc).__name__}: {_first_line(str(exc))}"
        return "not right", NOT_RIGHT.format(exercise=exercise, why=why)
    return "correct", CORRECT.format(exercise=exercise)


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else ""


def show_source(function: Callable[..., object]) -> None:
    """Print a function's source, so a lesson shows the code it is about to rely on."""
    print(inspect.getsource(function).rstrip())
