"""Run every workload at one size and write the table to ``benchmarks/RESULTS.md``.

``python -m benchmarks --size 10M`` (or ``make bench SIZE=10M``); ``--size 20k`` is the
smoke run CI makes through ``tests/test_benchmarks.py``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import time
from collections.abc import Sequence
from pathlib import Path

from benchmarks import report
from benchmarks.harness import machine
from benchmarks.workloads import WORKLOADS, Context, Row

__all__ = ["Row", "main", "run", "size"]

HERE = Path(__file__).resolve().parent


def size(text: str) -> int:
    """'20k', '1M', '10M' or a plain number of events."""
    scale = {"k": 1_000, "m": 1_000_000}
    text = text.strip().lower().replace("_", "")
    try:
        value = float(text[:-1]) * scale[text[-1]] if text[-1] in scale else float(text)
    except (ValueError, IndexError):
        raise argparse.ArgumentTypeError(
            f"size must be like 20k, 1M or 10M, got {text!r}"
        ) from None
    if not 1_000 <= value <= 100_000_000:
        raise argparse.ArgumentTypeError(f"size must be from 1k to 100M events, got {text!r}")
    return int(value)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--size", type=size, default=size("1M"), help="events (default 1M)")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per workload")
    parser.add_argument("--out", type=Path, default=HERE / "RESULTS.md")
    parser.add_argument("--workdir", type=Path, default=HERE / "out")
    parser.add_argument("--no-notebooks", dest="notebooks", action="store_false")
    parser.add_argument("--only", nargs="*", help="run only workloads whose name has one of these")
    args = parser.parse_args(argv)
    rows = run(args.size, args.repeats, args.workdir, args.notebooks, args.only)
    text = report.markdown(rows, args.size, args.repeats, info)
    args.out.write_text(text)
    print(text)
    return 0


info: dict[str, str] = {}


def run(
    events: int, repeats: int, workdir: Path, notebooks: bool, only: Sequence[str] | None = None
) -> list[Row]:
    """Every workload in order; the generated data and the store live in ``workdir``."""
    info.clear()
    info.update(machine())
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    ctx = Context(
        events=events,
        repeats=repeats,
        workdir=workdir,
        notebooks=notebooks,
        accounts=max(10, events // 100),
        es_sample=min(20_000, events),
        fold_sample=min(1_000_000, events),
    )
    rows: list[Row] = []
    began = time.perf_counter()
    for name, function in WORKLOADS:
        if (
            only
            and name not in ("generate to Parquet", "load Parquet into the store")
            and not any(word in name for word in only)
        ):
            continue
        print(f"[{time.perf_counter() - began:6.1f} s] {name}", flush=True)
        rows.extend(function(ctx))
    info["events generated"] = f"{ctx.rows:,} bank events, {ctx.accounts:,} accounts"
    info["duration of the run"] = f"{time.perf_counter() - began:.0f} s"
    info["duckdb threads"] = os.environ.get("BENCH_THREADS", "default (all cores)")
    if ctx.store is not None:
        ctx.store.close()
    if ctx.typed is not None:
        ctx.typed.close()
    shutil.rmtree(workdir, ignore_errors=True)
    return rows
