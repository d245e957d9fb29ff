"""Write the learner copies of the solved notebooks: notebooks/NN_*.ipynb -> notebooks/exercises/.

The solved notebooks are the one source of truth. A learner copy is the solved notebook
with every output cleared and every code cell tagged ``solution`` replaced by

- a stub code cell (tagged ``stub``): the solution's leading ``#`` comment lines, then
  ``name = ...  # your code here`` for each top-level name the solution assigns, and
- a markdown cell (tagged ``folded-solution``) holding the original code, folded in a
  ``<details>`` block so a learner opens it on purpose.

Usage: ``python tools/make_exercises.py`` writes the copies; ``--check`` writes nothing and
exits 1 listing the copies that are missing, out of date, or left without a solved notebook.
"""

# nbformat's functions carry no type hints; everything else here is checked strictly.
# mypy: disable-error-code="no-untyped-call, no-any-return"

from __future__ import annotations

import argparse
import ast
import copy
import json
import sys
from pathlib import Path

import nbformat
from nbformat import NotebookNode

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
EXERCISES = NOTEBOOKS / "exercises"
SOLVED_GLOB = "[0-9][0-9]_*.ipynb"

NOTE = """\
> **This is the learner copy of `{name}`.**
> Each exercise has an empty answer cell: replace every `...` with your code, then run the
> check cell under it. The worked solution is folded below each answer cell.
> The solved notebook, with all outputs, is [`../{name}`](../{name}).
> `make exercises` regenerates this file from the solved one and overwrites your answers:
> keep a copy of your work if you run it."""

STUB_LINE = "{name} = ...  # your code here"
FOLDED = """\
<details><summary>Solution (open when you have tried)</summary>

```python
{source}
```

</details>"""

# Statements whose bodies still run at the top level of the cell (not in a new scope).
NESTED_BLOCKS = (
    ast.If,
    ast.For,
    ast.AsyncFor,
    ast.While,
    ast.With,
    ast.AsyncWith,
    ast.Try,
    ast.TryStar,
    ast.Match,
)


def assigned_names(source: str) -> list[str]:
    """Names a cell binds at its top level, in order of first appearance.

    Counts assignments (``=``, ``+=``, annotated) and ``def``/``class`` names, also inside
    ``if``/``for``/``try``/``with`` blocks; loop variables, imports and names local to a
    function are not answers.

    >>> assigned_names("a, (b, *c) = f()\\nif a:\\n    d: int = 1\\nfor i in c:\\n    a += i")
    ['a', 'b', 'c', 'd']
    """
    names: list[str] = []

    def add(target: ast.expr) -> None:
        if isinstance(target, ast.Name) and target.id not in names:
            names.append(target.id)
        elif isinstance(target, ast.Tuple | ast.List):
            for element in target.elts:
                add(element)
        elif isinstance(target, ast.Starred):
            add(target.value)

    def visit(statements: list[ast.stmt]) -> None:
        for statement in statements:
            if isinstance(statement, ast.Assign):
                for target in statement.targets:
                    add(target)
            elif isinstance(statement, ast.AugAssign | ast.AnnAssign):
                add(statement.target)
            elif isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                add(ast.Name(statement.name))
            elif isinstance(statement, NESTED_BLOCKS):
                for field in ("body", "orelse", "finalbody"):
                    visit(getattr(statement, field, []))
                for clause in getattr(statement, "handlers", []) + getattr(statement, "cases", []):
                    visit(clause.body)  # except ...: and case ...: blocks

    visit(ast.parse(source).body)
    return names


def stub_source(source: str, where: str) -> str:
    """The solution's leading comment lines, then a stub for each answer, in order.

    A top-level function keeps its signature and docstring and raises
    ``NotImplementedError`` (checks report that as "not done yet"); every other name the
    cell assigns becomes ``name = ...``.
    """
    try:
        tree = ast.parse(source)
        names = assigned_names(source)
    except SyntaxError as exc:
        raise ValueError(f"{where}: a solution cell must be plain Python ({exc})") from None
    if not names:
        raise ValueError(f"{where}: a solution cell must assign its answer to a top-level name")
    comments = []
    for line in source.splitlines():
        if not line.lstrip().startswith("#"):
            break
        comments.append(line)
    functions = {
        node.name: function_stub(source, node)
        for node in tree.body
        if isinstance(node, ast.FunctionDef)
    }
    stubs = [functions.get(name) or STUB_LINE.format(name=name) for name in names]
    return "\n".join(comments + stubs)


def function_stub(source: str, node: ast.FunctionDef) -> str:
    """A function's decorators, signature and docstring, with a body still to write."""
    lines = source.splitlines()
    first = min([node.lineno] + [d.lineno for d in node.decorator_list]) - 1
    body = node.body[0]
    docstring = isinstance(body, ast.Expr) and isinstance(body.value, ast.Constant)
    last = body.end_lineno if docstring and body.end_lineno else body.lineno - 1
    indent = " " * body.col_offset
    head = lines[first:last]
    return "\n".join([*head, f"{indent}raise NotImplementedError  # your code here"]) + "\n"


def learner_copy(solved: NotebookNode, name: str) -> NotebookNode:
    """The learner copy of the solved notebook ``name``: outputs cleared, solutions folded."""
    nb = nbformat.v4.new_notebook()
    # language_info.version differs between machines; the kernelspec is all a copy needs.
    nb.metadata = {
        key: copy.deepcopy(solved.metadata[key])
        for key in ("kernelspec",)
        if key in solved.metadata
    }
    nb.cells.append(nbformat.v4.new_markdown_cell(NOTE.format(name=name), id="learner-copy-note"))
    for cell in solved.cells:
        tags = list(cell.get("metadata", {}).get("tags", []))
        if cell.cell_type == "code" and "solution" in tags:
            source = cell.source.rstrip()
            nb.cells.append(
                nbformat.v4.new_code_cell(
                    stub_source(source, f"{name}, cell {cell.id}"),
                    id=cell.id,
                    metadata={"tags": ["stub"]},
                )
            )
            nb.cells.append(
                nbformat.v4.new_markdown_cell(
                    FOLDED.format(source=source),
                    id=f"{cell.id}-solution",
                    metadata={"tags": ["folded-solution"]},
                )
            )
            continue
        clean = nbformat.from_dict(
            {
                "cell_type": cell.cell_type,
                "id": cell.id,
                "metadata": {"tags": tags} if tags else {},
                "source": cell.source,
            }
        )
        if cell.cell_type == "code":
            clean.outputs, clean.execution_count = [], None
        nb.cells.append(clean)
    nbformat.validate(nb)
    return nb


def render(nb: NotebookNode) -> str:
    """The notebook as the JSON text written to disk."""
    return nbformat.writes(nb) + "\n"


def expected_copies(notebooks: Path = NOTEBOOKS) -> dict[Path, str]:
    """Each learner copy's path and the text it should hold, from the solved notebooks."""
    return {
        notebooks / "exercises" / path.name: render(learner_copy(nbformat.read(path, 4), path.name))
        for path in sorted(notebooks.glob(SOLVED_GLOB))
    }


def stale_copies(notebooks: Path = NOTEBOOKS) -> list[str]:
    """Problems with the committed learner copies; an empty list means all are current."""
    expected = expected_copies(notebooks)
    problems = []
    for path, text in expected.items():
        if not path.exists():
            problems.append(f"missing: {path.relative_to(notebooks)}")
        elif json.loads(path.read_text(encoding="utf-8")) != json.loads(text):
            problems.append(f"out of date: {path.relative_to(notebooks)}")
    for path in sorted((notebooks / "exercises").glob(SOLVED_GLOB)):
        if path not in expected:
            problems.append(f"no solved notebook for: {path.relative_to(notebooks)}")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write the learner copies of the notebooks.")
    parser.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 if a learner copy is missing or differs",
    )
    args = parser.parse_args(argv)
    if args.check:
        problems = stale_copies()
        for problem in problems:
            print(problem, file=sys.stderr)
        if problems:
            print(
                "run `make exercises` (python tools/make_exercises.py) and commit the result",
                file=sys.stderr,
            )
        return 1 if problems else 0
    EXERCISES.mkdir(exist_ok=True)
    for path, text in expected_copies().items():
        path.write_text(text, encoding="utf-8")
        print(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
