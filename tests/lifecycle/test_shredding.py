"""Crypto-shredding: personal fields sealed per subject; forgetting a key erases them."""

from __future__ import annotations

import random
import string
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eventsim import EventStore, fold, seeded_ids
from eventsim.domains import bank
from eventsim.errors import InvalidArgument
from eventsim.lifecycle import shredding

keys = st.binary(min_size=32, max_size=32)
texts = st.text(max_size=200)
# Names long enough that they cannot turn up in a database file by chance.
# A prefix no file holds otherwise, so a bare name cannot match an event type by chance
# (a 12-letter "MoneyDeposit" would be found in every store file).
names = st.text(string.ascii_letters, min_size=8, max_size=30).map(lambda s: f"Zq-owner {s}")


@given(key=keys, nonce=st.text(max_size=50), plaintext=texts)
def test_decrypt_undoes_encrypt(key: bytes, nonce: str, plaintext: str) -> None:
    assert plaintext == shredding.decrypt(key, nonce, shredding.encrypt(key, nonce, plaintext))


@given(key=keys, plaintext=texts)
def test_the_same_inputs_give_the_same_token(key: bytes, plaintext: str) -> None:
    assert shredding.encrypt(key, "n", plaintext) == shredding.encrypt(key, "n", plaintext)


@given(key=keys, plaintext=names)
def test_the_token_does_not_contain_the_plaintext(key: bytes, plaintext: str) -> None:
    assert plaintext not in shredding.encrypt(key, "event/owner", plaintext)


@given(key=keys, other=keys, plaintext=texts)
def test_a_wrong_key_fails_the_tag(key: bytes, other: bytes, plaintext: str) -> None:
    token = shredding.encrypt(key, "n", plaintext)
    if other != key:
        with pytest.raises(shredding.TamperedField):
            shredding.decrypt(other, "n", token)


def test_an_altered_byte_fails_the_tag() -> None:
    token = shredding.encrypt(bytes(32), "n", "Ada Lovelace")
    flipped = token[:8] + ("A" if token[8] != "A" else "B") + token[9:]
    with pytest.raises(shredding.TamperedField):
        shredding.decrypt(bytes(32), "n", flipped)


def test_a_plain_string_is_not_mistaken_for_a_token() -> None:
    with pytest.raises(InvalidArgument, match="Ada"):
        shredding.decrypt(bytes(32), "n", "Ada")


def open_accounts(store: EventStore, vault: shredding.KeyVault, owners: list[str]) -> None:
    rng, ids = random.Random(3), seeded_ids(3)
    for i, owner in enumerate(owners):
        shredding.append_private(
            store,
            vault,
            f"account-{i}",
            [bank.AccountOpened(owner), bank.MoneyDeposited(Decimal(10 * (i + 1)))],
            expected_version=0,
            subject_id=f"customer-{i}",
            rng=rng,
            new_id=ids,
        )


def test_the_stored_owner_is_sealed_and_reading_opens_it() -> None:
    store, vault = EventStore(), shredding.KeyVault()
    open_accounts(store, vault, ["Ada Lovelace"])
    stored = store.read_stream("account-0")[0]
    assert stored.data["owner"].startswith(shredding.PREFIX)
    assert {"owner": "Ada Lovelace"} == shredding.read_private(store, vault, "account-0")[0].data
    assert {shredding.SUBJECT_REF: vault.ref_for("customer-0")} == stored.metadata


def test_the_log_names_the_subject_only_by_a_pseudonym_that_forgetting_unlinks() -> None:
    store, vault = EventStore(), shredding.KeyVault()
    open_accounts(store, vault, ["Ada Lovelace"])
    metadata = store.sql("SELECT CAST(metadata AS VARCHAR) AS m FROM event_store")["m"]
    ref = vault.ref_for("customer-0")
    assert ref is not None and all(ref in m and "customer-0" not in m for m in metadata)
    vault.forget("customer-0")
    assert vault.ref_for("customer-0") is None
    assert {} == vault.keys_by_ref([ref])


CUSTOMERS = {
    "account-1": ("customer-1", "Ada Lovelace"),
    "account-2": ("customer-2", "Grace Hopper"),
}


def test_the_read_models_hold_each_readable_name_and_the_scan_finds_every_copy() -> None:
    store, vault = shredding.sample_ledger(CUSTOMERS, seed=4)
    views = shredding.read_models()
    assert 2 == shredding.project_read_models(store, vault, views)
    expected = ["account_owners.owner", "owner_search.owner"]
    assert expected == shredding.tables_holding(views, "Grace Hopper")
    assert [] == shredding.tables_holding(store.connection, "Grace Hopper")


def test_deleting_the_key_alone_leaves_the_name_in_the_read_models() -> None:
    store, vault = shredding.sample_ledger(CUSTOMERS, seed=4)
    views = shredding.read_models()
    shredding.project_read_models(store, vault, views)
    vault.forget("customer-2")
    assert shredding.tables_holding(views, "Grace Hopper")


def test_purging_by_pseudonym_removes_only_the_forgotten_subjects_rows() -> None:
    store, vault = shredding.sample_ledger(CUSTOMERS, seed=4)
    views = shredding.read_models()
    shredding.project_read_models(store, vault, views)
    ref = vault.ref_for("customer-2")
    vault.forget("customer-2")
    purged = [
        views.execute(sql, [ref]).fetchone()[0]  # type: ignore[index]
        for sql in shredding.PERSONAL_READ_MODELS.values()
    ]
    assert [1, 1] == purged
    assert [] == shredding.tables_holding(views, "Grace Hopper")
    assert ["account_owners.owner", "owner_search.owner"] == shredding.tables_holding(
        views, "Ada Lovelace"
    )


def test_rebuilding_the_read_models_after_forgetting_shows_the_name_shredded() -> None:
    store, vault = shredding.sample_ledger(CUSTOMERS, seed=4)
    views = shredding.read_models()
    shredding.project_read_models(store, vault, views)
    vault.forget("customer-2")
    assert 2 == shredding.project_read_models(store, vault, views)
    rows = views.execute("SELECT account_id, owner, balance FROM account_owners ORDER BY 1")
    expected = [
        ("account-1", "Ada Lovelace", Decimal("250.00")),
        ("account-2", "<shredded>", Decimal("250.00")),
    ]
    assert expected == rows.fetchall()
    assert [] == shredding.tables_holding(views, "Grace Hopper")


def test_forgetting_shreds_the_owner_but_the_balance_still_replays() -> None:
    store, vault = EventStore(), shredding.KeyVault()
    open_accounts(store, vault, ["Ada Lovelace", "Grace Hopper"])
    before = fold(shredding.read_private(store, vault, "account-0"))
    assert vault.forget("customer-0")
    after = fold(shredding.read_private(store, vault, "account-0"))
    assert shredding.SHREDDED == after.owner
    assert (before.balance, before.status, before.version) == (
        after.balance,
        after.status,
        after.version,
    )
    assert "Grace Hopper" == fold(shredding.read_private(store, vault, "account-1")).owner


def test_forgetting_an_unknown_subject_reports_false() -> None:
    assert not shredding.KeyVault().forget("customer-404")


def test_events_without_personal_fields_are_untouched() -> None:
    store, vault = EventStore(), shredding.KeyVault()
    open_accounts(store, vault, ["Ada Lovelace"])
    expected = store.read_stream("account-0")[1]
    assert expected == shredding.read_private(store, vault, "account-0")[1]


def test_an_empty_subject_is_refused_and_nothing_is_written() -> None:
    store, vault = EventStore(), shredding.KeyVault()
    with pytest.raises(InvalidArgument, match="subject_id"):
        shredding.append_private(
            store,
            vault,
            "account-0",
            [bank.AccountOpened("Ada")],
            expected_version=0,
            subject_id=" ",
            rng=random.Random(1),
        )
    assert 0 == store.version("account-0")
    assert [] == vault.subjects()


@settings(
    max_examples=5, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(owners=st.lists(names, min_size=1, max_size=4, unique=True))
def test_after_forgetting_no_plaintext_or_key_remains_in_either_file(
    tmp_path_factory: pytest.TempPathFactory, owners: list[str]
) -> None:
    folder = tmp_path_factory.mktemp("shred")
    db, key_file = folder / "events.duckdb", folder / "keys.duckdb"
    store, vault = EventStore(db), shredding.KeyVault(key_file)
    open_accounts(store, vault, owners)
    key = vault.keys(["customer-0"])["customer-0"]
    vault.forget("customer-0")
    store.close()
    vault.close()
    files = [path.read_bytes() for path in folder.iterdir()]
    assert not any(owner.encode() in data for owner in owners for data in files)
    assert not any(key in data for data in files)


def test_the_vault_keeps_the_other_subjects_after_rewriting(tmp_path: Path) -> None:
    vault = shredding.KeyVault(tmp_path / "keys.duckdb")
    rng = random.Random(5)
    kept = vault.key_for("customer-1", rng)
    vault.key_for("customer-0", rng)
    vault.forget("customer-0")
    assert {"customer-1": kept} == vault.keys(["customer-0", "customer-1"])
