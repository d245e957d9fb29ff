"""Finding the committed data sets from any notebook folder."""

from __future__ import annotations

from pathlib import Path

from eventsim.errors import InvalidDataset


def data_file(name: str, *, start: Path | None = None) -> Path:
    """The path of a committed data set, found in the nearest ``data/`` folder upwards.

    Notebooks call ``data_file("bank.parquet")`` so the same cell works from
    ``notebooks/`` and from ``notebooks/exercises/``.
    """
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        candidate = folder / "data" / name
        if candidate.is_file():
            return candidate
    raise InvalidDataset(
        f"no data/{name} in {here} or any folder above it; run the notebook from the "
        "repository, or regenerate the data with `make data`"
    )
