"""Compare two sets of chapter results, ignoring what is not a deterministic function of the run.

``python -m memnb compare DIR_A DIR_B [--rtol 0] [--numbers-and-verdicts]`` reads every ``<chapter>.json`` present in
both folders and reports each metric or verdict that differs. Ignored, as the results schema
says (book/method.md §1): ``env``, ``wall_s``, ``timings``, wall-clock metrics (names ending in
``_s``, ``_per_s`` or containing ``tokens_per_s``), the ``params`` record (its layout may change
without changing the run) and ``schema``. Used to prove that a refactor moved no published
number: run the chapters on both trees, then compare.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

IGNORED_TOP = {"env", "wall_s", "timings", "params", "schema"}


def _wallclock(key: str) -> bool:
    return key.endswith("_s") or "per_s" in key or key.endswith("_ms") or "speedup" in key


def _diff(a, b, path: str, rtol: float, out: list[str]) -> None:
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b)):
            if _wallclock(k):
                continue
            if k not in a or k not in b:
                out.append(f"{path}/{k}: only in {'B' if k not in a else 'A'}")
            else:
                _diff(a[k], b[k], f"{path}/{k}", rtol, out)
    elif isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            out.append(f"{path}: length {len(a)} vs {len(b)}")
        for i, (x, y) in enumerate(zip(a, b, strict=False)):
            _diff(x, y, f"{path}[{i}]", rtol, out)
    elif isinstance(a, float) or isinstance(b, float):
        if not (isinstance(a, (int, float)) and isinstance(b, (int, float))):
            out.append(f"{path}: {a!r} vs {b!r}")
        elif not math.isclose(a, b, rel_tol=rtol, abs_tol=0.0) and not (math.isnan(a) and math.isnan(b)):
            out.append(f"{path}: {a!r} vs {b!r}")
    elif a != b:
        out.append(f"{path}: {a!r} vs {b!r}")


def numbers_and_verdicts(record: dict) -> dict:
    """A record reduced to its metrics and one verdict per claim id: what to compare across a
    change of the claims' layout (e.g. schema 1 entries against the rule engine's)."""
    verdicts = {c["id"]: c["verdict"] for c in record.get("claims", [])}
    return {"metrics": record.get("metrics", {}), "verdicts": verdicts}


def compare(a: dict, b: dict, rtol: float = 0.0) -> list[str]:
    """Differences between two result records (empty: the same numbers and verdicts)."""
    out: list[str] = []
    keys = (set(a) | set(b)) - IGNORED_TOP
    _diff({k: a.get(k) for k in keys}, {k: b.get(k) for k in keys}, "", rtol, out)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m memnb compare", description=__doc__.split("\n")[0])
    ap.add_argument("a", type=Path)
    ap.add_argument("b", type=Path)
    ap.add_argument("--rtol", type=float, default=0.0, help="relative tolerance on floats (default: exact)")
    ap.add_argument("--numbers-and-verdicts", action="store_true", help="compare only metrics and each claim's verdict")
    args = ap.parse_args(argv)
    reduce = numbers_and_verdicts if args.numbers_and_verdicts else (lambda r: r)
    names = sorted({p.name for p in args.a.glob("*.json")} & {p.name for p in args.b.glob("*.json")})
    if not names:
        print(f"memnb: no chapter results in both {args.a} and {args.b}", file=sys.stderr)
        return 1
    bad = 0
    for name in names:
        a, b = (reduce(json.loads((d / name).read_text())) for d in (args.a, args.b))
        diffs = compare(a, b, args.rtol)
        print(f"{name}: {'identical' if not diffs else f'{len(diffs)} differences'}")
        for d in diffs[:20]:
            print(f"  {d}")
        bad += bool(diffs)
    print(f"{len(names) - bad} of {len(names)} chapters identical (rtol={args.rtol})")
    return 1 if bad else 0
