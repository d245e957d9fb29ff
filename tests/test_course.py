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


def agenda(title: str) -> list[tuple[str, int]]:
    """(notebook or break, minutes) rows of one agenda table in INSTRUCTORS.md."""
    text = (ROOT / "INSTRUCTORS.md").read_text()
    section = text.split(f"## {title}", 1)[1].split("\n## ", 1)[0]
    return [
        (what.strip("` "), int(minutes))
        for what, minutes in re.findall(r"^\| [\d:]+ \| ([^|]+) \| (\d+) \|", section, re.M)
    ]


def test_the_course_has_its_fourteen_notebooks_numbered_without_a_gap() -> None:
    assert [f"{n:02d}" for n in range(14)] == [name[:2] for name in NAMES]


def test_the_readme_course_table_lists_every_notebook_once_in_order() -> None:
    readme = (ROOT / "README.md").read_text()

    listed = re.findall(r"^\| `(\d\d_\w+)` \|", readme, re.M)

    assert NAMES == listed


def test_the_map_in_start_here_links_every_notebook_in_order() -> None:
    links = re.findall(r"\]\((\d\d_\w+)\.ipynb\)", markdown(ROOT / "notebooks/00_start_here.ipynb"))

    assert NAMES == list(dict.fromkeys(links))


@pytest.mark.parametrize(
    ("title", "minutes"), [("A 90-minute workshop", 90), ("A 3-hour workshop", 180)]
)
def test_each_agenda_fills_its_time_with_notebooks_that_exist(title: str, minutes: int) -> None:
    rows = agenda(title)

    assert minutes == sum(m for _, m in rows)
    assert set() == {what for what, _ in rows if what != "break"} - set(NAMES)


def test_the_instructors_guide_has_key_points_and_mistakes_for_every_notebook() -> None:
    guide = (ROOT / "INSTRUCTORS.md").read_text()
    sections = re.split(r"^### ", guide, flags=re.M)[1:]

    numbers = [section[:2] for section in sections]

    assert [name[:2] for name in NAMES] == numbers
    assert all("Key points:" in s and "Mistakes:" in s for s in sections)


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
