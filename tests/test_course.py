"""The course hangs together: every notebook is on the map, in the README, in the
instructors' agendas, and has the shape a lesson needs (goals, exercises, key points)."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
NAMES = [path.stem for path in NOTEBOOKS]
each_notebook = pytest.mark.parametrize("path", NOTEBOOKS, ids=NAMES)


def markdown(path: Path) -> str:
    nb = nbformat.read(path, as_version=4)
    return "\n".join(cell.source for cell in nb.cells if cell.cell_type == "markdown")


def agenda(title: str) -> list[tuple[str, int, str]]:
    """(notebook, break or buffer; minutes; learner exercise) rows of one agenda table."""
    text = (ROOT / "INSTRUCTORS.md").read_text()
    section = text.split(f"## {title}", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| [\d:]+ \| ([^|]+) \| (\d+) \|([^|]*)\|", section, re.M)
    return [(what.strip("` "), int(minutes), exercise.strip()) for what, minutes, exercise in rows]


AGENDAS = pytest.mark.parametrize(
    ("title", "minutes"), [("A 90-minute workshop", 90), ("A 3-hour workshop", 180)]
)
PAUSES = {"break", "buffer"}


def test_the_course_has_its_notebooks_numbered_from_00_without_a_gap_up_to_the_capstone() -> None:
    assert [f"{n:02d}" for n in range(len(NAMES))] == [name[:2] for name in NAMES]
    assert "14_capstone_migration" in NAMES


def test_the_readme_course_table_lists_every_notebook_once_in_order() -> None:
    readme = (ROOT / "README.md").read_text()

    listed = re.findall(r"^\| `(\d\d_\w+)` \|", readme, re.M)

    assert NAMES == listed


def test_the_map_in_start_here_links_every_notebook_in_order() -> None:
    links = re.findall(r"\]\((\d\d_\w+)\.ipynb\)", markdown(ROOT / "notebooks/00_start_here.ipynb"))

    assert NAMES == list(dict.fromkeys(links))


@AGENDAS
def test_each_agenda_fills_its_time_with_notebooks_that_exist(title: str, minutes: int) -> None:
    rows = agenda(title)

    assert minutes == sum(m for _, m, _ in rows)
    assert set() == {what for what, _, _ in rows if what not in PAUSES} - set(NAMES)


@AGENDAS
def test_each_agenda_keeps_a_buffer_of_at_least_15_percent(title: str, minutes: int) -> None:
    buffer = sum(m for what, m, _ in agenda(title) if what == "buffer")

    assert buffer >= 0.15 * minutes


@AGENDAS
def test_every_notebook_slot_names_a_learner_exercise_of_that_notebook(
    title: str, minutes: int
) -> None:
    slots = [(what, exercise) for what, _, exercise in agenda(title) if what not in PAUSES]

    unnamed = [
        what for what, exercise in slots if not exercise.startswith(f"{what[:2]} · Exercise")
    ]

    assert slots and [] == unnamed


def test_the_instructors_guide_has_key_points_and_mistakes_for_every_notebook() -> None:
    guide = (ROOT / "INSTRUCTORS.md").read_text()
    sections = re.split(r"^### ", guide, flags=re.M)[1:]

    numbers = [section[:2] for section in sections]

    assert [name[:2] for name in NAMES] == numbers
    assert all("Key points:" in s and "Mistakes:" in s for s in sections)


GLOSSARY_TERMS = (
    "aggregate",
    "event",
    "command",
    "stream",
    "expected version",
    "optimistic concurrency",
    "projection",
    "read model",
    "checkpoint",
    "CQRS",
    "eventual consistency",
    "saga",
    "compensation",
    "pivot step",
    "idempotency",
    "at-least-once delivery",
    "outbox",
    "integration event",
    "internal event",
    "snapshot",
    "closing the books",
    "upcaster",
    "schema version",
    "crypto-shredding",
    "causation id",
    "correlation id",
    "genesis event",
)


def glossary() -> dict[str, str]:
    """Term -> the notebook link of its row in GLOSSARY.md."""
    text = (ROOT / "GLOSSARY.md").read_text()
    rows = re.findall(r"^\| ([^|]+?) \| [^|]+ \| \[\d\d\]\(([^)]+)\) \|$", text, re.M)
    return dict(rows)


def test_the_glossary_defines_every_term_the_course_relies_on() -> None:
    terms = {term.split(" (")[0] for term in glossary()}

    assert [] == [term for term in GLOSSARY_TERMS if term not in terms]


def test_every_glossary_entry_links_to_a_notebook_of_the_course() -> None:
    links = set(glossary().values())

    assert links and links <= {f"notebooks/{path.name}" for path in NOTEBOOKS}


def test_start_here_and_the_readme_link_the_glossary() -> None:
    assert "](../GLOSSARY.md)" in markdown(ROOT / "notebooks/00_start_here.ipynb")
    assert "](GLOSSARY.md)" in (ROOT / "README.md").read_text()


@each_notebook
def test_each_notebook_has_goals_two_exercises_and_key_points(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    text = markdown(path)
    solutions = [c for c in nb.cells if "solution" in c.metadata.get("tags", [])]
    checks = [c for c in nb.cells if "check" in c.metadata.get("tags", [])]

    assert nb.cells[0].source.startswith(f"# {path.stem[:2]} · ")
    assert "Learning goals" in text and "## Key points" in text
    assert len(solutions) >= 2 and len(solutions) == len(checks)
    assert len(re.findall(r"<details><summary>Hint", text)) >= 2
