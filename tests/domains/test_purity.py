"""The domains are pure: their rules import without numpy, pyarrow, pandas or DuckDB."""

from __future__ import annotations

import subprocess
import sys

BLOCKED = ("numpy", "pyarrow", "pandas", "duckdb")
PROGRAM = f"""
import sys

class Blocked:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {BLOCKED!r}:
            raise ImportError("blocked for this test: " + name)

sys.meta_path.insert(0, Blocked())
from decimal import Decimal
from eventsim.domains import bank, orders

state = bank.INITIAL_STATE
for command in [bank.OpenAccount("Ada"), bank.Deposit(Decimal("10"))]:
    for event in bank.decide(state, command):
        state = bank.evolve(state, event)
print(state.balance, sorted(m for m in sys.modules if m.split(".")[0] in {BLOCKED!r}))
"""


def test_the_bank_and_orders_rules_run_where_numpy_pyarrow_pandas_and_duckdb_are_blocked() -> None:
    run = subprocess.run(
        [sys.executable, "-c", PROGRAM], capture_output=True, text=True, timeout=60
    )

    assert "" == run.stderr
    assert "10 []\n" == run.stdout


def test_the_blocker_really_blocks_so_the_test_above_can_fail() -> None:
    run = subprocess.run(
        [sys.executable, "-c", PROGRAM + "\nimport eventsim.store\n"],
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert "ImportError: blocked for this test: " in run.stderr
