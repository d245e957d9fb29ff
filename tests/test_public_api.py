"""The README documents exactly the public API, and its code runs."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import eventsim

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


def test_the_readme_api_table_lists_exactly_what_eventsim_exports() -> None:
    section = README.split("## The API", 1)[1].split("\n## ", 1)[0]
    documented = re.findall(r"^\| `(\w+)` \|", section, flags=re.MULTILINE)
    assert sorted(eventsim.__all__) == sorted(documented)


def test_every_exported_name_exists() -> None:
    assert [] == [name for name in eventsim.__all__ if not hasattr(eventsim, name)]


def test_the_readme_python_example_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    blocks = re.findall(r"```python\n(.*?)```", README, flags=re.DOTALL)
    monkeypatch.chdir(tmp_path)
    for block in blocks:
        exec(compile(block, "README.md", "exec"), {})  # noqa: S102 (our own README)
    assert "1000\n" == capsys.readouterr().out
