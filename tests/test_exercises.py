"""The learner copies: shaped for the generator, generated faithfully, and honest.

Honest means a learner copy runs top to bottom under "Restart and Run All" without an
error, every check under an empty answer reports "not done yet" (so "correct!" is earned),
and every check under the worked solution reports "correct!".
"""

from __future__ import annotations

import functools
import importlib.util
from pathlib import Path
from types import ModuleType

import nbformat
import pytest
from nbclient import NotebookClient
from nbformat import NotebookNode

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
NOT_DONE = "not done yet"
CORRECT = "correct!"


def load_generator() -> ModuleType:
    """tools/ is not a package: load tools/make_exercises.py by its path."""
    spec = importlib.util.spec_from_file_location(
        "make_exercises", ROOT / "tools" / "make_exercises.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


make_exercises = load_generator()
SOLVED = sorted(NOTEBOOKS.glob(make_exercises.SOLVED_GLOB))
each_solved_notebook = pytest.mark.parametrize("solved", SOLVED, ids=[p.name for p in SOLVED])


def tagged(nb: NotebookNode, tag: str) -> list[int]:
    return [i for i, cell in enumerate(nb.cells) if tag in cell.metadata.get("tags", [])]


def errors(cell: NotebookNode) -> set[str]:
    return {out.ename for out in cell.get("outputs", []) if out.output_type == "error"}


def printed(cell: NotebookNode) -> str:
    return "".join(
        out.get("text", "") for out in cell.get("outputs", []) if out.output_type == "stream"
    )


def describe(nb: NotebookNode, index: int) -> str:
    first_line = (nb.cells[index].source.splitlines() or [""])[0]
    return f"cell {index} ({first_line[:60]!r})"


# -- the generator ---------------------------------------------------------------------------
def test_a_stub_keeps_the_leading_comments_and_blanks_every_assigned_name() -> None:
    source = "# Exercise 1: the balance\n# in cents\nstate = f()\nbalance, cents = g(state)\nshow()"

    stub = make_exercises.stub_source(source, "here")

    expected = (
        "# Exercise 1: the balance\n# in cents\n"
        "state = ...  # your code here\n"
        "balance = ...  # your code here\n"
        "cents = ...  # your code here"
    )
    assert expected == stub


def test_a_solution_that_assigns_no_name_is_refused_with_its_location() -> None:
    with pytest.raises(ValueError, match="00_x.ipynb, cell c1: .* top-level name"):
        make_exercises.stub_source("# Exercise 1: print it\nprint(42)", "00_x.ipynb, cell c1")


def test_names_bound_inside_blocks_count_but_loop_variables_and_function_locals_do_not() -> None:
    source = (
        "total = 0\nfor event in events:\n    total += 1\n"
        "try:\n    last = events[-1]\nexcept IndexError:\n    last = None\n"
        "def helper():\n    inner = 1\n"
    )

    assert ["total", "last", "helper"] == make_exercises.assigned_names(source)


# -- the solved notebooks --------------------------------------------------------------------
@each_solved_notebook
def test_every_solution_cell_starts_with_its_task_and_is_followed_by_a_check_cell(
    solved: Path,
) -> None:
    nb = nbformat.read(solved, 4)
    solutions = tagged(nb, "solution")

    assert solutions, f"{solved.name} has no cell tagged 'solution' (see notebooks/CONVENTIONS.md)"
    for i in solutions:
        assert nb.cells[i].cell_type == "code", f"{describe(nb, i)} is tagged 'solution'"
        assert nb.cells[i].source.startswith("# Exercise "), (
            f"{solved.name} {describe(nb, i)} should start with '# Exercise N: <task>'"
        )
        following = nb.cells[i + 1] if i + 1 < len(nb.cells) else None
        assert following is not None and "check" in following.metadata.get("tags", []), (
            f"{solved.name} {describe(nb, i)} must be followed directly by a cell tagged 'check'"
        )


def test_the_committed_learner_copies_are_exactly_what_the_generator_writes() -> None:
    assert [] == make_exercises.stale_copies(NOTEBOOKS), "run `make exercises` and commit"


# -- the learner copies, executed ------------------------------------------------------------
@functools.cache
def executed_learner_copy(solved: Path) -> NotebookNode:
    """The learner copy of ``solved``, run top to bottom in notebooks/exercises, errors kept."""
    nb = make_exercises.learner_copy(nbformat.read(solved, 4), solved.name)
    folder = NOTEBOOKS / "exercises"
    client = NotebookClient(
        nb,
        kernel_name="python3",
        timeout=120,
        allow_errors=True,
        resources={"metadata": {"path": str(folder)}},
    )
    client.execute()
    return nb


@each_solved_notebook
def test_every_check_cell_reports_through_check_and_never_raises(solved: Path) -> None:
    nb = nbformat.read(solved, 4)

    bare = [describe(nb, i) for i in tagged(nb, "check") if "@check(" not in nb.cells[i].source]

    assert [] == bare, f"{solved.name}: check cells must use eventsim.exercises.check"


@each_solved_notebook
def test_every_check_under_the_worked_solution_reports_correct(solved: Path) -> None:
    nb = nbformat.read(solved, 4)

    wrong = [describe(nb, i) for i in tagged(nb, "check") if CORRECT not in printed(nb.cells[i])]

    assert [] == wrong, f"{solved.name}: these checks do not say {CORRECT!r} under the solution"


@pytest.mark.slow
@each_solved_notebook
def test_a_learner_copy_runs_top_to_bottom_without_an_error(solved: Path) -> None:
    nb = executed_learner_copy(solved)

    failing = [describe(nb, i) for i, cell in enumerate(nb.cells) if errors(cell)]

    assert [] == failing, f"{solved.name}: Run All stops here in the learner copy"


@pytest.mark.slow
@each_solved_notebook
def test_every_check_under_an_empty_answer_reports_not_done(solved: Path) -> None:
    nb = executed_learner_copy(solved)
    checks = tagged(nb, "check")

    for stub in tagged(nb, "stub"):
        check = next((i for i in checks if i > stub), None)
        assert check is not None, f"{solved.name} {describe(nb, stub)} has no check cell after it"
        said = printed(nb.cells[check])
        assert NOT_DONE in said and CORRECT not in said, (
            f"{solved.name} {describe(nb, check)} under an empty answer printed {said!r}; "
            f"it must report {NOT_DONE!r}"
        )
