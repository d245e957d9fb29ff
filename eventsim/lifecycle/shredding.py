"""Crypto-shredding: forgetting a person in an immutable log by deleting their key.

An event log never changes a stored event, yet privacy law may require that a person's
data be erased. The answer is to never store personal fields in clear: each subject
(person) gets a key in the ``subject_keys`` table of a ``KeyVault`` (its own file, apart
from the log), their personal fields are encrypted with it before the event is
appended, and reading decrypts them. The log names the subject only by a pseudonym,
``subject_ref``, drawn with the key and kept next to it in the vault, so the customer id
never reaches the log. To forget the subject, delete the key (and with it the link from
pseudonym to person): the ciphertext stays in the log but can no longer be read, so those
fields read as ``SHREDDED``, while every other field (amounts, statuses) still replays.

What stays is pseudonymous, not anonymous: the stream id, amounts and times still link
the events together, and whatever else knows that stream id (a CRM, a statement archive)
can still point at the person. Read models that hold names are copies outside the log:
forgetting must purge them too (``PERSONAL_READ_MODELS``), or rebuild them from the log.

This is a TEACHING implementation built from the standard library only: HMAC-SHA256 in
counter mode as the keystream, then an HMAC-SHA256 tag over the ciphertext
(encrypt-then-MAC), with the nonce derived from the event id and field name so the
output is deterministic. Production code uses a vetted AEAD such as AES-GCM from a
maintained library (e.g. ``cryptography``), and keeps keys in a key management service.
Deleting a file does not wipe its blocks on disk either: that, too, is the KMS's job.

>>> key = bytes(32)
>>> token = encrypt(key, "event-1/owner", "Ada Lovelace")
>>> token.startswith(PREFIX), decrypt(key, "event-1/owner", token)
(True, 'Ada Lovelace')
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import random
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import duckdb

from eventsim.catalog import EventStore
from eventsim.domains import bank
from eventsim.errors import EventSimError, InvalidArgument
from eventsim.events import DomainEvent, Event, NewEvent, as_new_event, seeded_ids
from eventsim.replay import fold

KEYS_SQL = """
CREATE TABLE IF NOT EXISTS subject_keys (
    subject_id  VARCHAR PRIMARY KEY,
    subject_ref VARCHAR NOT NULL UNIQUE,
    key         BLOB NOT NULL
);
"""
SUBJECT_REF = "subject_ref"  # the metadata key: the subject's pseudonym, never their id
# Which payload fields hold personal data, per event type.
PERSONAL_FIELDS: Mapping[str, tuple[str, ...]] = {"AccountOpened": ("owner",)}
PREFIX = "enc:v1:"
SHREDDED = "<shredded>"
TAG_BYTES = 16
KEY_BYTES = 32


class TamperedField(EventSimError):
    """An encrypted field fails its authentication tag: wrong key, or altered bytes."""


def _derive(key: bytes, purpose: bytes) -> bytes:
    return hmac.new(key, purpose, hashlib.sha256).digest()


def _keystream(key: bytes, nonce: bytes, length: int) -> bytes:
    blocks = (
        hmac.new(key, nonce + i.to_bytes(8, "big"), hashlib.sha256).digest()
        for i in range((length + 31) // 32)
    )
    return b"".join(blocks)[:length]


def encrypt(key: bytes, nonce: str, plaintext: str) -> str:
    """``PREFIX`` + base64 of ciphertext and tag; the same inputs give the same token."""
    raw = plaintext.encode()
    nonce_bytes = hashlib.sha256(nonce.encode()).digest()
    stream = _keystream(_derive(key, b"encrypt"), nonce_bytes, len(raw))
    cipher = bytes(a ^ b for a, b in zip(raw, stream, strict=True))
    tag = hmac.new(_derive(key, b"mac"), nonce_bytes + cipher, hashlib.sha256).digest()
    return PREFIX + base64.urlsafe_b64encode(cipher + tag[:TAG_BYTES]).decode()


def decrypt(key: bytes, nonce: str, token: str) -> str:
    """The plaintext of a token from ``encrypt``; ``TamperedField`` if the tag fails."""
    if not token.startswith(PREFIX):
        raise InvalidArgument(f"{token[:40]!r} is not an encrypted field (no {PREFIX!r} prefix)")
    try:
        blob = base64.urlsafe_b64decode(token[len(PREFIX) :])
    except ValueError:
        raise TamperedField(f"encrypted field {token[:40]!r}... is not valid base64") from None
    cipher, tag = blob[:-TAG_BYTES], blob[-TAG_BYTES:]
    nonce_bytes = hashlib.sha256(nonce.encode()).digest()
    expected = hmac.new(_derive(key, b"mac"), nonce_bytes + cipher, hashlib.sha256).digest()
    # Check before decrypting (encrypt-then-MAC), in constant time.
    if len(blob) < TAG_BYTES or not hmac.compare_digest(expected[:TAG_BYTES], tag):
        raise TamperedField(
            f"encrypted field for nonce {nonce!r} fails its tag: wrong key or altered bytes"
        )
    stream = _keystream(_derive(key, b"encrypt"), nonce_bytes, len(cipher))
    return bytes(a ^ b for a, b in zip(cipher, stream, strict=True)).decode()


def _nonce(event_id: uuid.UUID | str, field: str) -> str:
    return f"{event_id}/{field}"


class KeyVault:
    """The ``subject_keys`` table, in its own DuckDB file (or in memory), apart from the log.

    Why apart: DuckDB, like most databases, does not erase a deleted row's bytes; they
    stay in the file until the space is reused. So ``forget`` deletes the key and then
    rewrites the vault file whole, and the event database never holds a key at all.
    """

    def __init__(self, path: str | Path = ":memory:") -> None:
        self.path = str(path)
        self._con = self._open(self.path)

    @staticmethod
    def _open(path: str) -> duckdb.DuckDBPyConnection:
        con = duckdb.connect(path)
        con.execute(KEYS_SQL)
        return con

    def close(self) -> None:
        self._con.close()

    def key_for(self, subject_id: str, rng: random.Random) -> bytes:
        """The subject's key, drawn from ``rng`` with their pseudonym and stored on first use."""
        found = self.keys([subject_id])
        if subject_id in found:
            return found[subject_id]
        key = rng.getrandbits(KEY_BYTES * 8).to_bytes(KEY_BYTES, "big")
        ref = f"subject-{rng.getrandbits(64):016x}"
        self._con.execute("INSERT INTO subject_keys VALUES (?, ?, ?)", [subject_id, ref, key])
        return key

    def ref_for(self, subject_id: str) -> str | None:
        """The subject's pseudonym in the log; None once they are forgotten."""
        row = self._con.execute(
            "SELECT subject_ref FROM subject_keys WHERE subject_id = ?", [subject_id]
        ).fetchone()
        return None if row is None else str(row[0])

    def keys(self, subject_ids: Sequence[str]) -> dict[str, bytes]:
        """The keys still held for these subjects (forgotten ones are missing)."""
        rows = self._con.execute(
            "SELECT subject_id, key FROM subject_keys WHERE list_contains(?, subject_id)",
            [list(subject_ids)],
        ).fetchall()
        return {subject: bytes(key) for subject, key in rows}

    def keys_by_ref(self, refs: Sequence[str]) -> dict[str, bytes]:
        """The keys still held for these pseudonyms (forgotten ones are missing)."""
        rows = self._con.execute(
            "SELECT subject_ref, key FROM subject_keys WHERE list_contains(?, subject_ref)",
            [list(refs)],
        ).fetchall()
        return {ref: bytes(key) for ref, key in rows}

    def subjects(self) -> list[str]:
        rows = self._con.execute("SELECT subject_id FROM subject_keys ORDER BY 1").fetchall()
        return [subject for (subject,) in rows]

    def forget(self, subject_id: str) -> bool:
        """Delete the subject's key for good; True if there was one.

        After this, every personal field written for the subject reads as ``SHREDDED``.
        """
        (deleted,) = self._con.execute(
            "DELETE FROM subject_keys WHERE subject_id = ?", [subject_id]
        ).fetchall()[0]
        if self.path != ":memory:":
            self._rewrite()
        return bool(deleted)

    def _rewrite(self) -> None:
        """Copy the remaining keys to a fresh file and put it in the old one's place."""
        rows = self._con.execute("SELECT subject_id, subject_ref, key FROM subject_keys").fetchall()
        self._con.close()
        fresh = Path(self.path + ".new")
        fresh.unlink(missing_ok=True)
        con = self._open(str(fresh))
        if rows:
            con.executemany("INSERT INTO subject_keys VALUES (?, ?, ?)", [list(r) for r in rows])
        con.close()
        os.replace(fresh, self.path)
        Path(self.path + ".wal").unlink(missing_ok=True)
        self._con = self._open(self.path)


def append_private(
    store: EventStore,
    vault: KeyVault,
    stream_id: str,
    events: Sequence[NewEvent | DomainEvent],
    *,
    expected_version: int | None,
    subject_id: str,
    rng: random.Random,
    new_id: Callable[[], uuid.UUID] = uuid.uuid4,
) -> int:
    """``store.append`` with the personal fields encrypted under the subject's key.

    Each event gets its id from ``new_id`` first, since the id is part of the nonce; the
    subject's pseudonym goes into the metadata, so a reader knows which key opens the event.
    """
    if not isinstance(subject_id, str) or not subject_id.strip():
        raise InvalidArgument(f"subject_id must be a non-empty string, got {subject_id!r}")
    key = vault.key_for(subject_id, rng)
    ref = vault.ref_for(subject_id)
    sealed = []
    for event in events:
        new = as_new_event(event)
        event_id = new.event_id or new_id()
        data = dict(new.data)
        for field in PERSONAL_FIELDS.get(new.event_type, ()):
            if field in data and isinstance(data[field], str):
                data[field] = encrypt(key, _nonce(event_id, field), data[field])
        metadata = {**new.metadata, SUBJECT_REF: ref}
        sealed.append(replace(new, data=data, metadata=metadata, event_id=event_id))
    return store.append(stream_id, sealed, expected_version=expected_version)


def reveal(vault: KeyVault, events: Sequence[Event]) -> list[Event]:
    """The events with personal fields decrypted, or ``SHREDDED`` where the key is gone."""
    refs = sorted({str(e.metadata[SUBJECT_REF]) for e in events if SUBJECT_REF in e.metadata})
    keys = vault.keys_by_ref(refs)
    return [_reveal_one(event, keys) for event in events]


def _reveal_one(event: Event, keys: Mapping[str, bytes]) -> Event:
    data = dict(event.data)
    key = keys.get(str(event.metadata.get(SUBJECT_REF)))
    for field in PERSONAL_FIELDS.get(event.event_type, ()):
        value = data.get(field)
        if isinstance(value, str) and value.startswith(PREFIX):
            opened = decrypt(key, _nonce(event.event_id, field), value) if key else None
            data[field] = SHREDDED if opened is None else opened
    return replace(event, data=data)


def read_private(store: EventStore, vault: KeyVault, stream_id: str) -> list[Event]:
    """``store.read_stream`` with personal fields decrypted (or shredded)."""
    return reveal(vault, store.read_stream(stream_id))


# -- read models that hold personal data ---------------------------------------------------
READ_MODELS_SQL = """
CREATE TABLE IF NOT EXISTS account_owners (
    account_id VARCHAR PRIMARY KEY, subject_ref VARCHAR, owner VARCHAR, balance DECIMAL(18, 2)
);
CREATE TABLE IF NOT EXISTS owner_search (owner VARCHAR, subject_ref VARCHAR);
"""
# Each read model that holds personal data, and how to purge one subject (by pseudonym).
PERSONAL_READ_MODELS: Mapping[str, str] = {
    "account_owners": "DELETE FROM account_owners WHERE subject_ref = ?",
    "owner_search": "DELETE FROM owner_search WHERE subject_ref = ?",
}


def read_models(path: str | Path = ":memory:") -> duckdb.DuckDBPyConnection:
    """A DuckDB database holding the bank's two read models with names (empty)."""
    con = duckdb.connect(str(path))
    con.execute(READ_MODELS_SQL)
    return con


def project_read_models(store: EventStore, vault: KeyVault, con: duckdb.DuckDBPyConnection) -> int:
    """Rebuild both read models from the log, names revealed where the key is still held."""
    con.execute("DELETE FROM account_owners; DELETE FROM owner_search")
    streams = store.sql("SELECT stream_id FROM event_streams ORDER BY stream_id")["stream_id"]
    for stream_id in streams:
        events = read_private(store, vault, stream_id)
        account, ref = fold(events), events[0].metadata.get(SUBJECT_REF)
        row = [stream_id, ref, account.owner, account.balance]
        con.execute("INSERT INTO account_owners VALUES (?, ?, ?, ?)", row)
        if account.owner != SHREDDED:  # the search box lists readable names only
            con.execute("INSERT INTO owner_search VALUES (?, ?)", [account.owner, ref])
    return len(streams)


def tables_holding(con: duckdb.DuckDBPyConnection, text: str) -> list[str]:
    """Every ``table.column`` of ``con`` where some value contains ``text``.

    It asks the catalog for every text column of every table, so it finds copies that
    nobody listed: what any query on this database could still find.
    """
    columns = con.execute(
        "SELECT table_name, column_name FROM information_schema.columns "
        "WHERE data_type IN ('VARCHAR', 'JSON') ORDER BY table_name, column_name"
    ).fetchall()
    found = []
    for table, column in columns:
        # The names come from the catalog, not from a user; the text is a parameter.
        query = f'SELECT count(*) FROM "{table}" WHERE contains(CAST("{column}" AS VARCHAR), ?)'  # noqa: S608
        (hits,) = con.execute(query, [text]).fetchone() or (0,)
        if hits:
            found.append(f"{table}.{column}")
    return found


def sample_ledger(
    customers: Mapping[str, tuple[str, str]], *, seed: int
) -> tuple[EventStore, KeyVault]:
    """An in-memory ledger and vault: each account ``{account: (subject, owner)}`` opened
    by its owner with a deposit of 250.00, the owner's name sealed."""
    store, vault, rng, ids = EventStore(), KeyVault(), random.Random(seed), seeded_ids(seed)
    for account, (subject, owner) in customers.items():
        opening = [bank.AccountOpened(owner), bank.MoneyDeposited(Decimal("250.00"))]
        append_private(
            store,
            vault,
            account,
            opening,
            expected_version=0,
            subject_id=subject,
            rng=rng,
            new_id=ids,
        )
    return store, vault
