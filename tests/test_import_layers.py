"""The package's three tiers, checked on every import statement (function-level ones included).

- core (``ops``, ``layers``, ``models``, ``eval``, ``train``, ``data``, ``verdicts`` and the
  ``stats``/``plotting``/``cache``/``seeding``/``profiles`` modules) never imports a project or
  the book tier, and its subpackages import each other without a cycle;
- projects (one package per seed system, plus the leaderboard) import core only: never another
  project, never the book tier;
- the book tier (``memnb.book``, the CLI) may import anything.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parent.parent / "memnb"
PROJECTS = {"drex", "hrs", "relsm", "memarch", "ams", "leaderboard"}
BOOK = {"book", "__main__"}


def unit(module: str) -> str:
    """The first component under ``memnb`` (``memnb.layers.attention`` -> ``layers``)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def imports(path: Path, pkg: Path = PKG) -> set[str]:
    """Every ``memnb...`` module a file imports, resolved to dotted names."""
    here = ".".join(path.relative_to(pkg.parent).with_suffix("").parts)
    package = here if path.name == "__init__.py" else here.rsplit(".", 1)[0]
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name.startswith("memnb")}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + [base]).strip(".")
            if base == "memnb":  # from memnb import layers, stats
                out |= {f"memnb.{a.name}" for a in node.names}
            elif base.startswith("memnb"):
                out.add(base)
    return out


def edges() -> list[tuple[str, str, str]]:
    """(file, importing unit, imported unit) for every cross-unit import."""
    rows = []
    for path in sorted(PKG.rglob("*.py")):
        src = unit(".".join(path.relative_to(PKG.parent).with_suffix("").parts))
        for mod in imports(path):
            dst = unit(mod)
            if dst != src:
                rows.append((str(path.relative_to(PKG.parent)), src, dst))
    return rows


def tier(u: str) -> str:
    return "book" if u in BOOK else "project" if u in PROJECTS else "core"


def test_core_never_imports_projects_or_the_book() -> None:
    bad = [e for e in edges() if tier(e[1]) == "core" and tier(e[2]) != "core"]
    assert not bad, bad


def test_projects_import_only_core() -> None:
    bad = [e for e in edges() if tier(e[1]) == "project" and tier(e[2]) != "core"]
    assert not bad, bad


def test_core_units_have_no_cycle() -> None:
    graph: dict[str, set[str]] = {}
    for _, a, b in edges():
        if tier(a) == tier(b) == "core" and a != "__init__" and b != "__init__":
            graph.setdefault(a, set()).add(b)
    seen, stack = set(), []

    def visit(n: str) -> None:
        if n in stack:
            raise AssertionError(f"import cycle: {' -> '.join(stack[stack.index(n) :] + [n])}")
        if n in seen:
            return
        stack.append(n)
        for m in sorted(graph.get(n, ())):
            visit(m)
        stack.pop()
        seen.add(n)

    for n in sorted(graph):
        visit(n)


@pytest.mark.parametrize(
    "planted",
    ["from memnb.drex import task", "import memnb.book.runner", "from ..book import runner", "from memnb import hrs"],
)
def test_the_check_sees_a_planted_violation(tmp_path, planted: str) -> None:
    """Each import form, even inside a function, resolves to the unit it names."""
    fake = tmp_path / "memnb" / "layers" / "x.py"
    fake.parent.mkdir(parents=True)
    fake.write_text(f"def f():\n    {planted}\n")
    units = {unit(m) for m in imports(fake, tmp_path / "memnb")}
    assert len(units) == 1 and tier(units.pop()) != "core"
