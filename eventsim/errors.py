"""Every error eventsim raises on purpose: one root, one class per kind of mistake.

Each message names the offending value and says what to do about it, so a learner can
fix the call without reading the source.
"""

from __future__ import annotations

SHOWN_LENGTH = 300  # characters of a value a message shows; the rest is cut


def one_line(text: str) -> str:
    """``text`` with line breaks and other unprintable characters escaped, as repr does."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def shown(value: object) -> str:
    """A value as a message shows it: its repr, on one line, at most ``SHOWN_LENGTH``
    characters; never raises (a 5000-digit int or a broken ``__repr__`` has no repr)."""
    if isinstance(value, int) and value.bit_length() > 1000:
        return f"an integer of {value.bit_length()} bits"
    try:
        text = one_line(repr(value))
    except RecursionError:
        text = f"<a {type(value).__name__} nested too deeply to show>"
    except Exception:  # any repr may fail; the message must not
        text = f"<a {type(value).__name__} that cannot be shown>"
    if len(text) > SHOWN_LENGTH:
        text = text[: SHOWN_LENGTH - 3] + "..."
    return text


class EventSimError(Exception):
    """Root of every error raised on purpose by eventsim; its message is one line."""

    def __str__(self) -> str:
        return one_line(super().__str__())


class InvalidArgument(EventSimError, ValueError):
    """An argument to a store or replay call is out of range or of the wrong kind."""


class InvalidEvent(EventSimError, ValueError):
    """An event's type, payload, metadata or timestamp breaks the event contract."""


class UnknownEventType(InvalidEvent):
    """The event type is not registered with any domain."""


class DuplicateEventId(InvalidEvent):
    """An event id appears twice in a batch, or a batch mixes stored and new ids."""


class InvalidDataset(EventSimError, ValueError):
    """A Parquet file cannot be loaded: unreadable, wrong columns, or a bad row."""


class StreamNotFound(EventSimError, LookupError):
    """The stream has no events (yet)."""

    def __init__(self, stream_id: str) -> None:
        super().__init__(
            f"stream {shown(stream_id)} does not exist; check the id (store.info() counts the "
            "streams; the event_streams table lists them)"
        )
        self.stream_id = stream_id


class ConcurrencyError(EventSimError):
    """The stream moved on since the writer read it: re-read, decide again, retry."""

    def __init__(self, stream_id: str, expected: int, actual: int) -> None:
        super().__init__(
            f"stream {shown(stream_id)} is at version {actual}, not the expected {expected}; "
            "another writer got there first: read the stream again, re-run the command, "
            "and append with the new version"
        )
        self.stream_id = stream_id
        self.expected = expected
        self.actual = actual


class DomainError(EventSimError):
    """A command breaks a business rule of its domain; no event is produced."""


class WriteConflict(ConcurrencyError):
    """Another transaction changed the rows an append moves, at the same time."""

    def __init__(self, stream_id: str, version: int, detail: str) -> None:
        EventSimError.__init__(
            self,
            f"stream {shown(stream_id)} (at version {version}) was not appended to: another "
            f"transaction changed the store at the same time ({detail}); read the stream "
            "again and retry",
        )
        self.stream_id = stream_id
        self.expected = version
        self.actual = version
