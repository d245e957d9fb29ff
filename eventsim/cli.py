"""``python -m eventsim``: generate, load and query data sets from the shell.

Exit status 0 on success; 2 on bad input, with one line on stderr and nothing written.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, NoReturn

import pyarrow as pa
from tqdm import tqdm

from eventsim import replay
from eventsim.catalog import EventStore
from eventsim.domains import DOMAINS
from eventsim.errors import EventSimError, InvalidArgument, shown
from eventsim.events import EARLIEST, LATEST, to_jsonable
from eventsim.sim import SIMULATORS, write

MAX_DAYS = 36_500  # the simulators' own limit: a century


class UsageError(EventSimError):
    """The command line itself is wrong."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        command = " ".join(self.prog.split()[1:])
        raise UsageError(
            f"{message} (see `python -m eventsim {command} --help`)".replace("  ", " ")
        )


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = _parser().parse_args(argv)
        return int(args.run(args))
    except EventSimError as exc:
        print(f"eventsim: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("eventsim: interrupted; nothing was written", file=sys.stderr)
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="eventsim", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(required=True, metavar="command", parser_class=_Parser)

    generate = commands.add_parser("generate", help="simulate a seeded data set into Parquet")
    generate.add_argument("domain", choices=sorted(DOMAINS))
    generate.add_argument("--seed", type=int, required=True)
    generate.add_argument("--out", type=Path, required=True, help="the .parquet file to write")
    generate.add_argument(
        "--start",
        type=_date,
        default=datetime(2024, 1, 1, tzinfo=UTC),
        help="first day, YYYY-MM-DD (UTC); default 2024-01-01",
    )
    generate.add_argument("--days", type=int, default=90, help="length of the period; default 90")
    generate.add_argument("--accounts", type=int, help="bank: number of accounts (default 300)")
    generate.add_argument(
        "--transactions", type=int, help="bank: mean transactions per account (default 25)"
    )
    generate.add_argument("--orders", type=int, help="orders: number of orders (default 400)")
    generate.add_argument(
        "--workers",
        type=int,
        help="bank: threads that draw and build the events (default: the CPU count, at "
        "most 8); the file's bytes do not depend on it",
    )
    generate.set_defaults(run=_generate)

    load = commands.add_parser("load", help="append a Parquet file of events to a store")
    load.add_argument("file", type=Path)
    load.add_argument("--db", type=Path, required=True, help="the DuckDB file (created if new)")
    load.set_defaults(run=_load)

    info = commands.add_parser("info", help="streams, events, types and time range of a store")
    info.add_argument("--db", type=Path, required=True)
    info.set_defaults(run=_info)

    state = commands.add_parser("state", help="one stream's state as JSON")
    state.add_argument("--db", type=Path, required=True)
    state.add_argument("--stream", required=True)
    moment = state.add_mutually_exclusive_group()
    moment.add_argument(
        "--as-of", type=_instant, help="ISO time with zone, e.g. 2024-03-15T23:59:59Z"
    )
    moment.add_argument("--version", type=int, help="replay up to this version")
    state.set_defaults(run=_state)
    return parser


def _generate(args: argparse.Namespace) -> int:
    _check_period(args.start, args.days)
    if not args.out.name or os.path.isdir(args.out):
        raise InvalidArgument(f"--out {shown(str(args.out))} is a folder; name a .parquet file")
    size = _size(args)
    options = {
        name: getattr(args, name)
        for name in ("transactions", "workers")
        if getattr(args, name) is not None
    }
    if options and args.domain != "bank":
        raise UsageError(f"--{next(iter(options))} does not apply to {args.domain}")
    if args.domain == "bank":
        options.setdefault("workers", min(os.cpu_count() or 1, 8))
    module = SIMULATORS[args.domain]
    batches = module.simulate_batches(
        size, seed=args.seed, start=args.start, days=args.days, **options
    )
    if not os.path.isdir(args.out.parent):
        raise InvalidArgument(
            f"folder {shown(str(args.out.parent))} does not exist; create it first"
        )
    partial = args.out.with_name(args.out.name + ".partial")
    try:
        rows = write.write_parquet(_with_progress(batches), partial)
        partial.replace(args.out)
    finally:
        partial.unlink(missing_ok=True)
    print(f"wrote {rows:,} {args.domain} events to {args.out}")
    return 0


def _check_period(start: datetime, days: int) -> None:
    """The simulated period lies where the store accepts times, or nothing is generated."""
    if not 1 <= days <= MAX_DAYS:
        raise UsageError(f"--days must be from 1 to {MAX_DAYS:,}, got {shown(days)}")
    if not EARLIEST <= start or start + timedelta(days=days) > LATEST:
        raise UsageError(
            f"--start {start:%Y-%m-%d} with --days {days} leaves {EARLIEST:%Y}..{LATEST:%Y}, "
            "the years the store accepts; pick a later start or fewer days"
        )


def _size(args: argparse.Namespace) -> int:
    wanted, other = ("accounts", "orders") if args.domain == "bank" else ("orders", "accounts")
    if getattr(args, other) is not None:
        raise UsageError(f"--{other} does not apply to {args.domain}; use --{wanted}")
    size = getattr(args, wanted)
    return {"accounts": 300, "orders": 400}[wanted] if size is None else int(size)


def _with_progress(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    with tqdm(unit=" events", unit_scale=True, desc="generating", disable=None) as bar:
        for batch in batches:
            bar.update(batch.num_rows)
            yield batch


def _load(args: argparse.Namespace) -> int:
    is_new = not os.path.lexists(args.db)
    try:
        with EventStore(args.db) as store:
            count = store.load_parquet(args.file)
            streams = store.info()["streams"]
    except EventSimError:
        if is_new:  # leave no empty database behind
            for made in (str(args.db), str(args.db) + ".wal"):
                if os.path.lexists(made):
                    os.unlink(made)
        raise
    print(f"loaded {count:,} events into {args.db} ({streams:,} streams in all)")
    return 0


def _info(args: argparse.Namespace) -> int:
    with _existing_store(args.db) as store:
        info = store.info()
    print(json.dumps(info, default=_json_default, indent=2))
    return 0


def _state(args: argparse.Namespace) -> int:
    with _existing_store(args.db) as store:
        state = replay.state_at(store, args.stream, as_of=args.as_of, to_version=args.version)
    print(json.dumps(to_jsonable(dataclasses.asdict(state)), default=_json_default, indent=2))
    return 0


def _existing_store(path: Path) -> EventStore:
    if not os.path.isfile(path):
        raise InvalidArgument(
            f"no database at {shown(str(path))}; create one with `python -m eventsim load`"
        )
    return EventStore(path)


def _date(text: str) -> datetime:
    try:
        return datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2024-01-01") from None


def _instant(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not an ISO time like 2024-03-15T23:59:59Z"
        ) from None
    if moment.tzinfo is None:
        raise argparse.ArgumentTypeError(f"{text!r} has no time zone; add Z or +00:00")
    return moment


def _json_default(value: Any) -> str:
    return value.isoformat() if isinstance(value, datetime) else str(value)
