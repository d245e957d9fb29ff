"""One database file under many names is one store: a hard link, a symlink, ``./x``,
``a/../x``, a relative and an absolute path all reach the same writer, so an append
acknowledged through one name is never lost through another."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

from eventsim import ConcurrencyError, EventStore, NewEvent

Name = Callable[[Path], str]


def hard_link(path: Path) -> str:
    other = path.with_name("linked.duckdb")
    os.link(path, other)
    return str(other)


def symlink(path: Path) -> str:
    other = path.with_name("symlinked.duckdb")
    other.symlink_to(path)
    return str(other)


def dot_slash(path: Path) -> str:
    os.chdir(path.parent)
    return "./" + path.name


def up_and_back(path: Path) -> str:
    (path.parent / "sub").mkdir()
    return str(path.parent / "sub" / ".." / path.name)


def relative(path: Path) -> str:
    os.chdir(path.parent)
    return path.name


NAMES = [hard_link, symlink, dot_slash, up_and_back, relative]


def opened(owner: str) -> list[NewEvent]:
    return [NewEvent("AccountOpened", {"owner": owner})]


@pytest.mark.parametrize("second_name", NAMES, ids=[n.__name__ for n in NAMES])
def test_a_second_name_of_one_file_sees_the_first_names_writes(
    tmp_path: Path, second_name: Name, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "x.duckdb"
    EventStore(path).close()
    other = second_name(path)
    with EventStore(path) as first, EventStore(other) as second:
        assert 1 == first.append("acct-1", opened("Ann"), expected_version=0)
        with pytest.raises(ConcurrencyError):
            second.append("acct-1", opened("Bob"), expected_version=0)
        assert 2 == second.append("acct-1", opened("Bob"), expected_version=1)
    with EventStore(path) as reopened:
        owners = [e.data["owner"] for e in reopened.read_stream("acct-1")]
    assert ["Ann", "Bob"] == owners


def test_writers_racing_through_two_names_lose_no_acknowledged_event(tmp_path: Path) -> None:
    path = tmp_path / "x.duckdb"
    EventStore(path).close()
    names = [str(path), hard_link(path)]
    acknowledged: list[uuid.UUID] = []
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def write(name: str, writer: int) -> None:
        try:
            with EventStore(name) as store:
                start.wait()
                for n in range(40):
                    event_id = uuid.UUID(int=writer << 16 | n, version=4)
                    deposit = NewEvent("MoneyDeposited", {"amount": 1}, event_id=event_id)
                    while True:
                        seen = store.version("acct-1")
                        try:
                            store.append("acct-1", [deposit], expected_version=seen)
                        except ConcurrencyError:
                            continue
                        acknowledged.append(event_id)
                        break
        except BaseException as exc:  # reported below: this thread cannot fail the test
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(names[w % 2], w)) for w in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [] == errors
    with EventStore(path) as store:
        stored = [e.event_id for e in store.read_stream("acct-1")]
    assert 160 == len(acknowledged)
    assert sorted(acknowledged) == sorted(stored)
    assert list(range(1, 161)) == [e.version for e in EventStore(path).read_stream("acct-1")]


def test_a_second_process_is_refused_through_any_name_and_writes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "x.duckdb"
    other = hard_link_of_new_store(path)
    child = (
        "import sys\n"
        "from eventsim import EventSimError, EventStore\n"
        "try:\n"
        "    EventStore(sys.argv[1])\n"
        "except EventSimError as exc:\n"
        "    print(exc)\n"
        "    sys.exit(2)\n"
    )
    with EventStore(path) as holder:
        holder.append("acct-1", opened("Ann"), expected_version=0)
        done = subprocess.run(
            [sys.executable, "-c", child, other], capture_output=True, text=True, check=False
        )
        assert 2 == done.returncode, done.stderr
        assert "linked.duckdb" in done.stdout
        assert 1 == len(done.stdout.strip().splitlines())
        assert 1 == holder.version("acct-1")


def hard_link_of_new_store(path: Path) -> str:
    EventStore(path).close()
    return hard_link(path)
