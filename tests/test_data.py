"""The committed data sets are exactly what `make data` produces, and they load cleanly."""

from __future__ import annotations

import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from eventsim import EventStore

ROOT = Path(__file__).resolve().parents[1]


def make_data_commands() -> list[list[str]]:
    """The generate commands of the Makefile's `data` target, as argument lists."""
    lines = (ROOT / "Makefile").read_text().split("\ndata:", 1)[1].split("\n\n", 1)[0].splitlines()
    return [shlex.split(line.split("-m eventsim", 1)[1]) for line in lines if "-m eventsim" in line]


def out_file(args: list[str]) -> str:
    return args[args.index("--out") + 1]


@pytest.mark.parametrize("args", make_data_commands(), ids=out_file)
def test_make_data_reproduces_the_committed_file_byte_for_byte(
    args: list[str], tmp_path: Path
) -> None:
    committed = ROOT / out_file(args)
    args[args.index("--out") + 1] = str(tmp_path / committed.name)
    subprocess.run([sys.executable, "-m", "eventsim", *args], check=True, capture_output=True)
    assert committed.read_bytes() == (tmp_path / committed.name).read_bytes()


@pytest.mark.parametrize("args", make_data_commands(), ids=out_file)
def test_each_committed_data_set_loads_with_every_invariant_checked(args: list[str]) -> None:
    with EventStore() as store:
        loaded = store.load_parquet(ROOT / out_file(args))
        assert loaded == store.info()["events"]


def test_data_stays_small_enough_to_commit() -> None:
    assert sum(p.stat().st_size for p in (ROOT / "data").glob("*.parquet")) < 5_000_000


def test_the_data_dictionary_names_every_event_type_in_the_data() -> None:
    dictionary = (ROOT / "data" / "README.md").read_text()
    with EventStore() as store:
        for args in make_data_commands():
            store.load_parquet(ROOT / out_file(args))
        types = store.info()["event_types"]
    assert [] == [t for t in types if f"`{t}`" not in dictionary]
