"""One database file, whatever name it is opened by: one DuckDB database, one writer lock.

DuckDB keeps one database per path text in a process. A hard link (or any name DuckDB
does not resolve to the same text) would open a second database on the same file, with its
own copy of the file's state and its own write-ahead log: whichever closes last writes its
copy, and the other's acknowledged appends are gone. So a file is known here by its
identity, device and inode, and every store opening it connects by the one name the
first opener used, and shares that file's writer lock.

Across processes DuckDB locks the file itself: a second process cannot open it to write.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass

import duckdb

from eventsim.errors import InvalidArgument, shown

MEMORY = ":memory:"


@dataclass(frozen=True)
class OpenFile:
    """How this process opens one database file: by one name, under one writer lock."""

    name: str
    lock: threading.RLock


# One entry per file opened in this process, by (device, inode).
_FILES: dict[tuple[int, int], OpenFile] = {}
# Held while a file is looked up and connected, so two names of one new file cannot
# both be connected before either is registered.
_GUARD = threading.Lock()


def as_path(value: object, what: str) -> str:
    """The path as text, if ``value`` is a ``str`` or ``pathlib.Path`` naming something."""
    text = os.fspath(value) if isinstance(value, os.PathLike) else value
    if not isinstance(text, str) or not text or "\0" in text:
        raise InvalidArgument(
            f"{what} must be a file name (a str or pathlib.Path), got {shown(value)}"
        )
    if not text.isascii():
        try:
            text.encode()
        except UnicodeEncodeError:
            raise InvalidArgument(
                f"{what} {shown(value)} is not valid Unicode (a lone surrogate); decode the "
                "name properly"
            ) from None
    return text


def for_duckdb(path: str) -> str:
    """``path`` made absolute, if DuckDB will take it literally: DuckDB reads a backslash as
    a folder separator, so on systems where it is a character of a name it is refused."""
    absolute = os.path.realpath(path)
    if os.sep == "/" and "\\" in absolute:
        raise InvalidArgument(
            f"{shown(path)} holds a backslash, which DuckDB reads as a folder separator; "
            "rename the file or folder"
        )
    return absolute


def identity(path: str) -> tuple[int, int] | None:
    """The file's (device, inode), following symlinks; None if there is no such file."""
    try:
        status = os.stat(path)
    except OSError:  # missing, or a name the system refuses (too long, a file as folder)
        return None
    return status.st_dev, status.st_ino


def connect(path: str) -> tuple[duckdb.DuckDBPyConnection, OpenFile | None]:
    """A connection to the database at ``path``, and how its file is open (the name
    DuckDB knows it by, the writer lock); None for ``:memory:``, a new database each time.

    Raises ``duckdb.Error`` or ``OSError`` if the file cannot be opened as a database.
    """
    if path == MEMORY:
        return duckdb.connect(MEMORY), None
    with _GUARD:
        known = _FILES.get(identity(path) or (-1, -1))
        # The name the file was first opened by, while it still names this file; else its
        # real path (absolute, symlinks resolved: DuckDB treats that text as one database).
        if known is not None and identity(known.name) == identity(path):
            name = known.name
        else:
            name = for_duckdb(path)
        con = duckdb.connect(name)
        status = os.stat(name)  # DuckDB has created the file if it was new
        key = status.st_dev, status.st_ino
        entry = _FILES.get(key)
        if entry is None or entry.name != name:
            entry = _FILES[key] = OpenFile(name, entry.lock if entry else threading.RLock())
        return con, entry


def same_file(first: str, second: str) -> bool:
    """Whether the two paths name one existing file (by device and inode)."""
    key = identity(first)
    return key is not None and key == identity(second)
