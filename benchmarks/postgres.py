"""The PostgreSQL backend against the ``eventsourcing`` library's PostgreSQL persistence,
on the same server, in one run: ``python -m benchmarks.postgres`` (``make bench-postgres``).

Both write to their own fresh database on the project's server (``eventsim.services``).
The workloads mirror the DuckDB benchmark's: single-event appends (one transaction each,
the expected version checked), batched appends of 1,000, loading one aggregate of 10,000
events to its state, and reading every event of the store. The table goes to the
"PostgreSQL backend" section of ``benchmarks/RESULTS.md``; the rest of that file is kept.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from benchmarks import peers
from benchmarks.harness import Timing, machine, measure
from eventsim import fold, services
from eventsim.catalog import open_store
from eventsim.domains import bank
from eventsim.store import EventStoreContract

HERE = Path(__file__).resolve().parent
SECTION = "## PostgreSQL backend"


def eventsourcing_postgres(url: str) -> Any:
    """A fresh ``eventsourcing`` application persisting to the database at ``url``."""
    from eventsourcing.application import Application

    parts = urlparse(url)
    return Application(
        env={
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_DBNAME": parts.path.lstrip("/"),
            "POSTGRES_HOST": parts.hostname or "127.0.0.1",
            "POSTGRES_PORT": str(parts.port or 5432),
            "POSTGRES_USER": parts.username or "postgres",
            "POSTGRES_PASSWORD": "",
        }
    )


def single_appends(
    store: EventStoreContract, app: Any, count: int, repeats: int
) -> tuple[Timing, Timing]:
    store.append("single", [bank.AccountOpened("Ada Lovelace")], expected_version=0)

    def ours() -> None:
        version = store.version("single")
        for i in range(count):
            version = store.append(
                "single", [bank.MoneyDeposited(Decimal(1 + i))], expected_version=version
            )

    account = peers.new_account()
    app.save(account)

    def theirs() -> None:
        for i in range(count):
            account.deposit(1 + i)
            app.save(account)

    return measure(ours, repeats=repeats), measure(theirs, repeats=repeats)


def batched_appends(
    store: EventStoreContract, app: Any, batches: int, size: int, repeats: int
) -> tuple[Timing, Timing]:
    run = iter(range(1_000_000))

    def ours() -> None:
        r = next(run)
        for k in range(batches):
            events = [bank.AccountOpened("Ada Lovelace")] + [
                bank.MoneyDeposited(Decimal(1 + i % 500)) for i in range(size - 1)
            ]
            store.append(f"batch-{r}-{k}", events, expected_version=0)

    def theirs() -> None:
        for _ in range(batches):
            account = peers.new_account()
            for i in range(size - 1):
                account.deposit(1 + i % 500)
            app.save(account)

    return measure(ours, repeats=repeats), measure(theirs, repeats=repeats)


def load_aggregate(
    store: EventStoreContract, app: Any, length: int, repeats: int
) -> tuple[Timing, Timing]:
    events = [bank.AccountOpened("Ada Lovelace")] + [
        bank.MoneyDeposited(Decimal(1 + i % 500)) for i in range(length - 1)
    ]
    store.append("long", events, expected_version=0)
    account = peers.new_account()
    for i in range(length - 1):
        account.deposit(1 + i % 500)
    app.save(account)
    ours = measure(lambda: fold(store.read_stream("long"), bank), repeats=repeats)
    theirs = measure(lambda: app.repository.get(account.id), repeats=repeats)
    return ours, theirs


def read_all(store: EventStoreContract, app: Any, repeats: int) -> tuple[Timing, Timing, int]:
    count = store.info()["events"]
    ours = measure(store.read_all, repeats=repeats)
    theirs = measure(
        lambda: app.recorder.select_notifications(start=1, limit=10**9), repeats=repeats
    )
    return ours, theirs, count


def run(repeats: int) -> list[tuple[str, str, str, float, str]]:
    """(workload, eventsim, eventsourcing, ratio, note) rows."""
    ours_url = services.fresh_postgres_database("bench_eventsim")
    theirs_url = services.fresh_postgres_database("bench_eventsourcing")
    app = eventsourcing_postgres(theirs_url)
    rows = []
    with open_store(ours_url) as store:
        workloads: Sequence[tuple[str, Callable[[], tuple[Timing, Timing]], int, str]] = (
            (
                "single-event appends, one transaction each",
                lambda: single_appends(store, app, 200, repeats),
                200,
                "200 appends",
            ),
            (
                "batched appends, 1,000 per batch",
                lambda: batched_appends(store, app, 5, 1_000, repeats),
                5_000,
                "5 batches of 1,000",
            ),
        )
        for name, work, events, note in workloads:
            ours, theirs = work()
            rows.append(
                (
                    name,
                    per_second(events, ours),
                    per_second(events, theirs),
                    theirs.seconds / ours.seconds,
                    note,
                )
            )
        ours, theirs = load_aggregate(store, app, 10_000, repeats)
        rows.append(
            (
                "load one aggregate of 10,000 events to its state",
                ms(ours),
                ms(theirs),
                theirs.seconds / ours.seconds,
                "read_stream + fold; repository.get",
            )
        )
        ours, theirs, count = read_all(store, app, repeats)
        rows.append(
            (
                "read every event of the store",
                per_second(count, ours),
                per_second(count, theirs),
                theirs.seconds / ours.seconds,
                f"{count:,} events as Event objects; notifications",
            )
        )
    app.close()
    return rows


def per_second(events: int, timing: Timing) -> str:
    rate = events / timing.seconds
    return f"{rate / 1000:.1f}k ev/s" if rate >= 1000 else f"{rate:.0f} ev/s"


def ms(timing: Timing) -> str:
    return f"{timing.seconds * 1000:.1f} ms"


def markdown(rows: list[tuple[str, str, str, float, str]], repeats: int) -> str:
    info = machine()
    lines = [
        SECTION,
        "",
        f"`make bench-postgres`: eventsim's PostgreSQL backend against the `eventsourcing` "
        f"library's PostgreSQL persistence, each in its own database on the same PostgreSQL "
        f"server, in one run; medians of {repeats}. Ratio: how many times faster eventsim is "
        "(below 1: slower).",
        "",
        "| workload | eventsim | eventsourcing | ratio | note |",
        "|---|---|---|---|---|",
        *[f"| {w} | {o} | {t} | {r:.2f}x | {n} |" for w, o, t, r, n in rows],
        "",
        f"Machine: {info.get('cpu', '?')}, {info.get('cores', '?')} cores; load average at "
        f"start {os.getloadavg()[0]:.2f}.",
        "",
    ]
    return "\n".join(lines)


def write_section(text: str, results: Path) -> None:
    """Replace (or add) the PostgreSQL section of RESULTS.md, keeping the rest."""
    old = results.read_text() if results.exists() else ""
    kept = old.split(SECTION)[0].rstrip() + "\n\n" if SECTION in old else old.rstrip() + "\n\n"
    results.write_text(kept + text)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.postgres", description=__doc__)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path, default=HERE / "RESULTS.md")
    args = parser.parse_args(argv)
    was_running = services.postgres_running()
    try:
        text = markdown(run(args.repeats), args.repeats)
    finally:
        if not was_running:  # leave the machine as it was
            services.stop_postgres()
    write_section(text, args.out)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
