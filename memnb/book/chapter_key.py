"""What a chapter's published page depends on, and the key that says whether it must rerun.

A chapter is rerun by ``make book`` only when one of its own inputs changed:

- its notebook, ``notebooks/<chapter>.py``;
- every ``memnb`` module it imports, followed transitively inside ``memnb`` by static analysis
  (``ast``: every ``import``/``from ... import`` statement in a module, at any depth, including
  imports inside functions; a module's parent packages' ``__init__.py`` are included because
  importing it runs them; ``from memnb.x import y`` counts ``memnb/x/y.py`` when that exists);
- the data recipe: the modules ``python -m memnb.data prepare`` runs (``memnb.data.build`` and
  what it imports), since every chapter may read the caches it builds;
- its parameters: the profile, the injected parameters and the preset's resolved values.

The key is ``sha256`` over ``KEY_VERSION`` and those inputs (path -> sha256 of the bytes), cut
to 16 hex digits; the inputs themselves are stored beside it (in the executed notebook's
``metadata.memnb``) so that a stale page can name what changed. It is computed from file
contents only (no mtimes, no commit), so a fresh clone computes the same key as the machine
that published the page. A change to one project's modules therefore reruns only the chapters
that import them; a change to a module every chapter imports (``memnb.book.chapter``,
``memnb.stats``, ...) reruns all. The runner itself is not an input: bump ``KEY_VERSION`` when
it changes what a published page holds. Pinned third-party versions (``requirements.txt``) are
not inputs either: after a dependency bump, rerun with ``--force``.
"""

from __future__ import annotations

import ast
import hashlib
import json
import threading
from pathlib import Path
from typing import Any

from memnb.cache import ROOT

# CPython 3.11's AST validator keeps its recursion depth in shared state: two threads parsing at once
# (the Ray executor keys chapters from a thread pool) raise "AST constructor recursion depth
# mismatch" (seen in make test). One parse at a time.
_PARSE = threading.Lock()

KEY_VERSION = 2  # 1: the whole package's hash (before per-chapter inputs)
PACKAGE = "memnb"
DATA_RECIPE = "memnb.data.build"


def module_file(name: str, root: Path = ROOT) -> Path | None:
    """``memnb.a.b`` -> ``memnb/a/b.py`` or ``memnb/a/b/__init__.py`` under ``root`` (None if neither)."""
    base = root.joinpath(*name.split("."))
    for path in (base.with_suffix(".py"), base / "__init__.py"):
        if path.is_file():
            return path
    return None


def _is_package(name: str, root: Path) -> bool:
    return (root.joinpath(*name.split(".")) / "__init__.py").is_file()


def imported_names(tree: ast.AST, module: str, is_package: bool) -> set[str]:
    """Every absolute module name an ``import`` statement in ``tree`` names (relative imports
    resolved against ``module``), plus ``pkg.name`` for each ``from pkg import name``, which is
    a module when such a file exists (the caller checks)."""
    out: set[str] = set()
    package = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                base_parts = parts[: len(parts) - (node.level - 1)] if node.level > 1 else parts
                base = ".".join(base_parts + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            out.add(base)
            out.update(f"{base}.{alias.name}" for alias in node.names if alias.name != "*")
    return out


def _parents(name: str) -> list[str]:
    parts = name.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts))]


def closure(start: set[str], root: Path = ROOT) -> list[Path]:
    """The files of every ``memnb`` module reachable from the module names ``start`` by imports
    (and their parent packages), sorted."""
    seen: set[str] = set()
    todo = [n for n in start if n == PACKAGE or n.startswith(PACKAGE + ".")]
    files: set[Path] = set()
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        path = module_file(name, root)
        if path is None:  # a name imported from a module, not a module itself
            continue
        files.add(path)
        todo.extend(_parents(name))
        with _PARSE:
            tree = ast.parse(path.read_bytes(), filename=str(path))
        for dep in imported_names(tree, name, _is_package(name, root)):
            if dep == PACKAGE or dep.startswith(PACKAGE + "."):
                todo.append(dep)
    return sorted(files)


def notebook_imports(source: str) -> set[str]:
    """Module names the chapter's code cells import (jupytext percent source; IPython magics and
    shell lines, ``%...`` and ``!...``, are dropped before parsing)."""
    import jupytext

    names: set[str] = set()
    for cell in jupytext.reads(source, fmt="py:percent").cells:
        if cell.cell_type != "code":
            continue
        code = "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in cell.source.splitlines())
        names |= imported_names(ast.parse(code), "__main__", False)
    return names


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def inputs(name: str, source: str, params: dict[str, Any], root: Path = ROOT) -> dict[str, Any]:
    """Everything chapter ``name``'s page depends on: ``{"notebook": sha, "modules": {path: sha},
    "data_recipe": {path: sha}, "params": {...}}`` (paths relative to ``root``)."""

    def digest(files: list[Path]) -> dict[str, str]:
        return {str(p.relative_to(root)): _sha(p.read_bytes()) for p in files}

    from memnb import profiles
    from memnb.book.presets import preset_class, preset_module

    profile, start = params["profile"], notebook_imports(source)
    resolved: dict[str, Any] = {}
    try:
        preset = preset_class(name)
        start.add(preset_module(name))  # the runner and Chapter.open import it by name, not the notebook
        resolved = preset.resolve(profile, params.get("overrides", {})).as_dict()
        resolved["seeds"] = params.get("seeds", profiles.resolve_seeds(profile, None, preset.SEEDS))
    except ValueError:  # a chapter without a preset (tests' toy chapters): its injected parameters only
        pass
    return {
        "version": KEY_VERSION,
        "notebook": _sha(source.encode()),
        "modules": digest(closure(start, root)),
        "data_recipe": digest(closure({DATA_RECIPE}, root)),
        "params": {"injected": params, "resolved": resolved},
    }


def key_of(record: dict[str, Any]) -> str:
    """The 16-hex-digit key of an ``inputs`` record."""
    return _sha(json.dumps(record, sort_keys=True, default=str).encode())[:16]


def changed(old: dict[str, Any] | None, new: dict[str, Any]) -> list[str]:
    """What differs between two ``inputs`` records, in words (``memnb/drex/sweep.py``,
    ``notebook``, ``params``, ...); ``["no recorded inputs"]`` when ``old`` is missing."""
    if not old:
        return ["no recorded inputs"]
    out = [k for k in ("version", "notebook", "params") if old.get(k) != new.get(k)]
    for part in ("modules", "data_recipe"):
        a, b = old.get(part) or {}, new.get(part) or {}
        out += sorted(p for p in a.keys() | b.keys() if a.get(p) != b.get(p) and p not in out)
    return out
