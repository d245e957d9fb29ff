"""The results as a Markdown table: our figure, the target, the peer's figure, the ratio."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from benchmarks.model import Row, fmt_mb

MET = {True: "met", False: "NOT met", None: ""}


def markdown(rows: Sequence[Row], events: int, repeats: int, info: Mapping[str, str]) -> str:
    lines = [
        f"# Benchmark results: {events:,} bank events",
        "",
        f"Each figure is the median of {repeats} runs unless the note says otherwise; "
        "peak memory is the process's resident high-water mark during the workload. "
        "Ratio: how many times faster eventsim is than the peer (below 1: slower). "
        "Limit: DuckDB's own operation on the same data in the same run, the floor a store "
        "on it can approach; x limit: how many times the limit's cost eventsim takes "
        "(1.00x: at the limit).",
        "",
        "| workload | eventsim | target | | peer | peer figure | ratio | limit | limit figure "
        "| x limit | peak memory | note |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        ours = row.ours.text() if row.ours else "not run"
        theirs = row.theirs.text() if row.theirs else ""
        limit = row.at_limit.text() if row.at_limit else ""
        peak = fmt_mb(row.ours.peak_mb) if row.ours and row.ours.peak_mb else ""
        note = "; ".join(n for n in (row.ours.note if row.ours else "", row.note) if n)
        lines.append(
            f"| {row.workload} | {ours} | {row.target} | {MET[row.met]} | {row.peer} | "
            f"{theirs} | {row.ratio()} | {row.limit} | {limit} | {row.of_limit()} | {peak} | "
            f"{note} |"
        )
    lines += ["", "## Machine", ""]
    lines += [f"- {key}: {value}" for key, value in info.items()]
    return "\n".join(lines) + "\n"
